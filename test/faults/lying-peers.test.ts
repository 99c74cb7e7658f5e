// Peers that send damaged data: a real lying seeder (a libtorrent session in seed mode over a
// corrupted copy). Alone it is banned, the ban is logged and shown, and the download says that
// only damaged-data peers hold the missing pieces, with CORRUPT_PEERS; an honest seed then finishes it.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { Session } from '../../src/engine/index.js';
import { publishDcp, startSeeding } from '../../src/publish/publisher.js';
import { agentConfig, ownerOf, quiet, startServer, waitFor } from '../e2e/rig.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { logSink } from '../helpers/log-sink.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
const auth = (g: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${g}:${p}`).toString('base64') });

test('a lying seeder alone: banned, logged, shown, CORRUPT_PEERS; an honest seed then completes the DCP', async (t) => {
  const root = await tempDir(t, 'cineswarm-liar-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'liars', password: 'pw' };
  const dcp = await generateDcp(path.join(root, 'pub', 'LIAR_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 152 });
  const pub = await publishDcp({ dcpDir: dcp.dir, server: server.url, group: G.id, password: G.password, ownerPassword: ownerOf(G.password), create: true, log: quiet });

  // the liar's copy starts good, so its own check passes and it seeds; then noise replaces the
  // picture and sound on its disk
  const liarRoot = path.join(root, 'liar');
  await fs.cp(dcp.dir, path.join(liarRoot, 'LIAR_FTR'), { recursive: true });
  const res = await fetch(`${server.url}/api/groups/${G.id}/torrents/LIAR_FTR?peer=liar`, { headers: auth(G.id, ownerOf(G.password)) });
  const liarTorrent = path.join(root, 'liar.torrent');
  await fs.writeFile(liarTorrent, Buffer.from(await res.arrayBuffer()));
  // a real libtorrent peer of its own
  const liar = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true });
  t.teardown(() => liar.close());
  const lying = liar.addTorrent({ torrent: await fs.readFile(liarTorrent), savePath: liarRoot });
  await waitFor('the liar to seed', () => lying.status().isSeeding, 60_000, 100);
  for (const a of dcp.assets) {
    const fh = await fs.open(path.join(liarRoot, 'LIAR_FTR', path.relative(dcp.dir, a.path)), 'r+');
    await fh.write(randomBytes(a.size), 0, a.size, 0);
    await fh.sync();
    await fh.close();
  }

  const { logger, lines } = logSink('info');
  const agent = new Agent(agentConfig({ id: 'cinema-lied-to', server: server.url, groups: [G], root }), { logger, monitor: false });
  await agent.start();
  t.teardown(() => agent.stop());
  const view = () => agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash);

  const stuck = await waitFor('the download to say only damaged-data peers are left', () => (view()?.message?.includes('send damaged data') ? view() : undefined), 90_000, 200).catch((err: unknown) => {
    for (const l of lines) t.log(`  ${l.level} ${l.msg}`);
    t.log(JSON.stringify(view()), JSON.stringify(agent.engine.torrents().map((x) => x.peers())));
    throw err;
  });
  t.is(stuck.state, 'downloading');
  t.regex(stuck.message!, /^waiting: the only peers with the missing pieces send damaged data \(1 banned, \d+ damaged pieces\)/);
  t.is(stuck.bannedPeers?.length, 1);
  t.true(agent.alarms.has('CORRUPT_PEERS'));
  const bans = lines.filter((l) => /banned: it sent data that failed the hash check/.test(l.msg));
  t.is(bans.length, 1, 'each ban logged once');
  t.true(lines.filter((l) => /failed its hash check/.test(l.msg)).length <= 2, 'no line per damaged piece');

  // the distributor's honest seed comes up: the download finishes and verifies
  const seeder = await startSeeding({
    server: server.url,
    group: G.id,
    ownerPassword: ownerOf(G.password),
    name: pub.name,
    dcpDir: dcp.dir,
    peerId: 'publisher-liars',
    session: { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true },
    log: quiet,
  });
  t.teardown(() => seeder.stop());
  const done = await waitFor('the DCP verified from the honest seed', () => (view()?.state === 'seeding' ? view() : undefined), 120_000, 250);
  t.is(done.verify.state, 'passed');
  t.false(Boolean(done.message?.includes('damaged')));
  // the guard judges on the agent's timer, so the alarm goes on the next round
  await waitFor('CORRUPT_PEERS to clear', () => !agent.alarms.has('CORRUPT_PEERS'), 10_000, 100);
  t.log(`hash failures ${agent.hashFailures(pub.infoHash)}, banned ${JSON.stringify(done.bannedPeers)}, log lines ${lines.length}`);
});
