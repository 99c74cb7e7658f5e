// Torrents made by libtorrent itself (v1, v2-only and the hybrid libtorrent 2.0 makes by
// default): the server reads the same info hashes libtorrent computes, and the tracker accepts
// both hashes of a hybrid, each its own swarm.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makePasskey } from '../../src/server/passkey.js';
import { readTorrent } from '../../src/server/torrent-file.js';
import { tempDir } from '../helpers/tmp.js';
import { basic, createGroup, startServer, uploadTorrent } from './helpers.js';
import { announce, peerId } from './tracker-client.js';

const MAKE = `
import json, os, sys, libtorrent as lt
root = sys.argv[1]
content = os.path.join(root, 'Lt_DCP')
os.makedirs(os.path.join(content, 'sub'))
open(os.path.join(content, 'reel.mxf'), 'wb').write(os.urandom(100000))
open(os.path.join(content, 'sub', 'ASSETMAP.xml'), 'wb').write(os.urandom(3000))
out = {}
for kind, flags in (('hybrid', 0), ('v2', lt.create_torrent.v2_only), ('v1', lt.create_torrent.v1_only)):
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, 16384, flags=flags)
    ct.set_priv(True)
    lt.set_piece_hashes(ct, root)
    data = lt.bencode(ct.generate())
    open(os.path.join(root, kind + '.torrent'), 'wb').write(data)
    h = lt.torrent_info(data).info_hashes()
    out[kind] = {'v1': str(h.v1) if h.has_v1() else None, 'v2': str(h.v2) if h.has_v2() else None}
print(json.dumps(out))
`;

interface Hashes {
  v1: string | null;
  v2: string | null;
}

async function makeWithLibtorrent(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; hashes: Record<string, Hashes> }> {
  const dir = await tempDir(t, 'cineswarm-lt-');
  const r = spawnSync('/usr/bin/python3', ['-c', MAKE, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3-libtorrent failed: ${r.stderr}`);
  return { dir, hashes: JSON.parse(r.stdout) as Record<string, Hashes> };
}

test('v1, v2-only and hybrid torrents read with the hashes libtorrent computes', async (t) => {
  const { dir, hashes } = await makeWithLibtorrent(t);
  const read = async (kind: string) => readTorrent(await fs.readFile(path.join(dir, `${kind}.torrent`)));
  const v1 = await read('v1');
  t.is(v1.infoHash, hashes.v1!.v1!);
  t.deepEqual(v1.trackerHashes.map((h) => h.toString('hex')), [hashes.v1!.v1]);
  const v2 = await read('v2');
  t.is(v2.infoHash, hashes.v2!.v2!);
  t.deepEqual(v2.trackerHashes.map((h) => h.toString('hex')), [hashes.v2!.v2!.slice(0, 40)]);
  const hybrid = await read('hybrid');
  t.is(hybrid.infoHash, hashes.hybrid!.v1!);
  t.deepEqual(hybrid.trackerHashes.map((h) => h.toString('hex')), [hashes.hybrid!.v1, hashes.hybrid!.v2!.slice(0, 40)]);
  // padding files of the hybrid are not counted as content
  for (const info of [v1, v2, hybrid]) {
    t.is(info.name, 'Lt_DCP');
    t.is(info.size, 103_000);
  }
});

test('a hybrid torrent: uploaded as its v1 hash, announced under both hashes', async (t) => {
  const { dir, hashes } = await makeWithLibtorrent(t);
  const { app } = await startServer(t);
  await createGroup(app, 'g', 'p');
  const res = await uploadTorrent(app, 'g', 'p', await fs.readFile(path.join(dir, 'hybrid.torrent')));
  t.is(res.statusCode, 201);
  t.deepEqual(res.json(), { name: 'Lt_DCP', infoHash: hashes.hybrid!.v1, size: 103_000 });
  const list = await app.inject({ url: '/api/groups/g/torrents', headers: { authorization: basic('g', 'p') } });
  t.is(list.json<Array<{ infoHash: string }>>()[0]!.infoHash, hashes.hybrid!.v1!);
  const pk = makePasskey(app.cineswarm.secret, 'g', 'site');
  for (const hex of [hashes.hybrid!.v1!, hashes.hybrid!.v2!.slice(0, 40)]) {
    const hash = Buffer.from(hex, 'hex');
    await announce(app, pk, { infoHash: hash, peerId: peerId('seed'), port: 5001, left: 0 });
    const other = await announce(app, makePasskey(app.cineswarm.secret, 'g', 'leech'), { infoHash: hash, peerId: peerId('leech'), port: 5002 });
    t.is(other.failure, undefined);
    t.deepEqual(other.peers, [{ ip: '127.0.0.1', port: 5001 }]);
  }
});
