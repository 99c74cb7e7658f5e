// `cineswarm get` as a technician (or a benchmark) runs it: a personalised torrent from the server,
// the data from a seeding publisher, "DONE <seconds>", then the DCP verified (exit 0) or not (exit 1).
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/engine/index.js';
import { startSeeding } from '../../src/publish/publisher.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { publishAndSeed, quiet, startServer, ownerOf, treeDigests } from './rig.js';
import { runCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;

const cli = (args: string[]) => runCli(args, { CINESWARM_LOG_LEVEL: 'silent' });

const basic = (id: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${id}:${pw}`).toString('base64') });

/** The group's torrent as the server personalises it for `peer`, saved where `get` can read it. */
async function personalTorrent(server: string, g: { id: string; password: string }, name: string, peer: string, file: string): Promise<string> {
  const res = await fetch(`${server}/api/groups/${g.id}/torrents/${encodeURIComponent(name)}?peer=${peer}`, { headers: basic(g.id, ownerOf(g.password)) });
  if (res.status !== 200) throw new Error(`torrent fetch: HTTP ${res.status}`);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

test('get downloads a DCP with the agent settings, prints DONE, verifies it and exits 0; a damaged DCP exits 1', async (t) => {
  const root = await tempDir(t, 'cineswarm-get-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'get-group', password: 'pw' };
  const dcp = await generateDcp(path.join(root, 'pub', 'GET_GOOD_FTR'), { assetSizes: [3 * MiB, 1 * MiB], seed: 161 });
  const good = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir });

  // A torrent of a DCP whose picture no longer matches its PKL hash (same size): the swarm delivers it
  // faithfully, and only the DCP check can tell.
  const bad = await generateDcp(path.join(root, 'pub', 'GET_BAD_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 162 });
  const fh = await fs.open(bad.assets[0].path, 'r+');
  await fh.write(Buffer.alloc(4096, 0x55), 0, 4096, 1000);
  await fh.close();
  const badTorrent = await createTorrent(bad.dir, { private: true, trackers: [`${server.url}/announce`] });
  const up = await fetch(`${server.url}/api/groups/${G.id}/torrents`, { method: 'POST', headers: { ...basic(G.id, ownerOf(G.password)), 'content-type': 'application/x-bittorrent' }, body: new Uint8Array(badTorrent) });
  t.is(up.status, 201);
  const badSeeder = await startSeeding({ server: server.url, group: G.id, ownerPassword: ownerOf(G.password), name: 'GET_BAD_FTR', dcpDir: bad.dir, peerId: 'bad-seed', session: { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true }, log: quiet });
  t.teardown(() => badSeeder.stop());

  const out = path.join(root, 'out');
  const [ok, broken] = await Promise.all([
    cli(['get', await personalTorrent(server.url, G, good.name, 'tech-1', path.join(root, 'good.torrent')), '--out', out, '--host', '127.0.0.1', '--port', '0', '--upload-limit', '50MB/s']),
    cli(['get', await personalTorrent(server.url, G, 'GET_BAD_FTR', 'tech-2', path.join(root, 'bad.torrent')), '--out', out, '--host', '127.0.0.1', '--port', '0']),
  ]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^DONE \d+\.\d{3}\n/);
  t.regex(ok.stdout, /GET_GOOD_FTR/);
  t.deepEqual(await treeDigests(path.join(out, 'GET_GOOD_FTR')), await treeDigests(dcp.dir), 'every byte arrived');

  t.is(broken.code, 1, broken.stdout + broken.stderr);
  t.regex(broken.stdout, /^DONE \d+\.\d{3}\n/, 'the download itself completed');
  t.regex(broken.stdout, new RegExp(path.basename(bad.assets[0].path).replace('.', '\\.')), 'the summary names the damaged asset');
});

test('get: usage errors are one line with exit 2, an unreadable torrent one line with exit 1', async (t) => {
  const root = await tempDir(t, 'cineswarm-get-usage-');
  const junk = path.join(root, 'junk.torrent');
  await fs.writeFile(junk, 'not bencode');
  const cases: [string[], number, RegExp][] = [
    [['get', junk], 2, /^cineswarm get: --out DIR is required\n$/],
    [['get', junk, '--out', root, '--upload-limit', 'fast'], 2, /^cineswarm get: --upload-limit: "fast" is not a rate.*\n$/],
    [['get', junk, '--out', root, '--storage', 'tape'], 2, /^cineswarm get: --storage must be mmap or posix.*\n$/],
    [['get', junk, '--out', root], 1, /^cineswarm get: .*junk\.torrent is not a usable \.torrent: .*\n$/],
    [['get', path.join(root, 'missing.torrent'), '--out', root], 1, /^cineswarm get: no torrent file at .*missing\.torrent\n$/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  results.forEach((r, i) => {
    t.is(r.code, cases[i]![1], `${cases[i]![0].join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, cases[i]![2]);
  });
  t.deepEqual(await fs.readdir(root), ['junk.torrent'], 'nothing was written');
});
