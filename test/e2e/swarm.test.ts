// End to end on 127.0.0.1: a real server, a publisher seeding a generated DCP and three agents
// of its group. All three end with byte-identical verified copies in their ingest folders and
// the server's group status says so; a fourth agent, in another group offering the very same
// torrent, is never given their addresses and never exchanges a byte with them.
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import bencode from 'bencode';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { verifyDcp } from '../../src/dcp/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import { parseTorrent } from '../../src/engine/index.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, startAgent, startServer, waitFor, createGroupOn, ownerOf } from './rig.js';

const MiB = 1024 * 1024;

async function treeHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out[r] = crypto.createHash('sha1').update(await fs.readFile(path.join(dir, r))).digest('hex');
    }
  };
  await walk('');
  return out;
}

test('three agents of a group receive verified identical copies; an agent of another group is kept apart', async (t) => {
  const root = await tempDir(t, 'cineswarm-e2e-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'publisher', 'SWARM_TEST_FTR'), { assetSizes: [40 * MiB, 8 * MiB, 16 * MiB, 4 * MiB], seed: 11 });
  const A = { id: 'cinema-chain-a', password: 'pw-a' };
  const B = { id: 'cinema-chain-b', password: 'pw-b' };
  const pub = await publishAndSeed(t, { server: server.url, group: A.id, password: A.password, dcpDir: dcp.dir });

  // Group B offers the very same torrent (same info hash) but has nobody seeding it.
  const client = new ServerClient(server.url);
  await createGroupOn(server.url, B);
  await client.uploadTorrent({ id: B.id, password: ownerOf(B.password) }, pub.torrent);

  const agents = await Promise.all(['site-1', 'site-2', 'site-3'].map((id) => startAgent(t, agentConfig({ id, server: server.url, groups: [A], root }))));
  const outsider = await startAgent(t, agentConfig({ id: 'site-x', server: server.url, groups: [B], root }));

  let outsiderMaxPeers = 0;
  let outsiderMaxBytes = 0;
  await waitFor(
    'all three agents seeding',
    () => {
      const o = outsider.getStatus().torrents[0];
      if (o) {
        outsiderMaxPeers = Math.max(outsiderMaxPeers, o.peers);
        outsiderMaxBytes = Math.max(outsiderMaxBytes, o.progress);
      }
      return agents.every((a) => a.getStatus().torrents.some((x) => x.name === pub.name && x.state === 'seeding'));
    },
    180_000,
  );

  const source = await treeHashes(dcp.dir);
  for (const a of agents) {
    const ingest = a.config.ingestDir;
    t.deepEqual(await ingestListing(ingest), [pub.name], `${a.config.id}: exactly the DCP, no partial folder`);
    t.deepEqual(await treeHashes(path.join(ingest, pub.name)), source, `${a.config.id}: byte-identical`);
    const report = await verifyDcp(path.join(ingest, pub.name));
    t.true(report.ok, `${a.config.id}: ${report.summary}`);
    const view = a.getStatus().torrents[0];
    t.is(view.verify.state, 'passed');
    t.is(view.infoHash, pub.infoHash);
  }

  const status = (await waitFor('server shows three ready peers', async () => {
    const s = (await groupStatus(server.url, A.id, A.password)) as { torrents: { infoHash: string; peers: { peer: string; state: string }[] }[] };
    const peers = s.torrents.find((x) => x.infoHash === pub.infoHash)?.peers ?? [];
    const done = ['site-1', 'site-2', 'site-3'].every((id) => peers.some((p) => p.peer === id && (p.state === 'ready' || p.state === 'seeding')));
    return done && s;
  }, 30_000)) as { torrents: { peers: { peer: string; state: string }[] }[] };
  t.log('group A status:', JSON.stringify(status.torrents[0].peers.map((p) => `${p.peer}=${p.state}`)));

  // The outsider joined group B's swarm of the same info hash and was never put in touch with group A.
  const outsiderView = outsider.getStatus().torrents[0];
  t.is(outsiderView.infoHash, pub.infoHash);
  t.is(outsiderMaxPeers, 0);
  t.is(outsiderMaxBytes, 0);
  t.deepEqual(await ingestListing(outsider.config.ingestDir), []);
  // Ask the tracker directly with a passkey of group B (another peer than the outsider, whose own
  // entry an announce with its passkey would replace): none of group A's ports come back.
  const outsiderTorrent = parseTorrent(await client.fetchTorrent({ id: B.id, password: ownerOf(B.password) }, pub.name, 'probe-b'));
  const announce = new URL(outsiderTorrent.trackers[0]);
  announce.search = `info_hash=${escapeBytes(Buffer.from(pub.infoHash, 'hex'))}&peer_id=${escapeBytes(Buffer.from('-XX0001-abcdefghijkl'))}&port=1&uploaded=0&downloaded=0&left=1&compact=1`;
  const reply = bencode.decode(Buffer.from(await (await fetch(announce)).arrayBuffer())) as { peers?: Uint8Array };
  const ports = new Set<number>();
  const peers = Buffer.from(reply.peers ?? new Uint8Array());
  for (let i = 0; i + 6 <= peers.length; i += 6) ports.add(peers.readUInt16BE(i + 4));
  const groupAPorts = [...agents.map((a) => a.listenPort), pub.seeder.session.listenPort];
  t.deepEqual(groupAPorts.filter((p) => ports.has(p)), [], `tracker gave group B ports ${[...ports].join(',')}`);
  t.true(ports.has(outsider.listenPort), 'the tracker does list the members of group B');
});

function escapeBytes(b: Buffer): string {
  return [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');
}
