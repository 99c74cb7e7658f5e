// The data dir's seeder in process: several peers from one address are each served (cinemas behind
// one NAT), a DCP published into the dir while it runs is picked up, one the distributor withdraws
// is let go, a stop leaves resume data for what it seeded, and a DCP refused for changed files is
// tried again once they change back.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { publishDcp } from '../../src/publish/publisher.js';
import { PublishedStore } from '../../src/publish/published-store.js';
import { Seeder } from '../../src/publish/seeder.js';
import { loopbackSession } from '../engine/helpers.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { createGroupOn, ownerOf, quiet, startServer, waitFor } from '../e2e/rig.js';

const MiB = 1024 * 1024;

test('seeder: two peers from 127.0.0.1 both connected; a DCP published meanwhile is picked up, a withdrawn one let go; stop saves resume data', async (t) => {
  const root = await tempDir(t, 'cineswarm-seeder-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'nat', password: 'pw' };
  await createGroupOn(server.url, G);
  const data = path.join(root, 'data');
  const publish = async (name: string, seed: number) => {
    const dcp = await generateDcp(path.join(root, 'pub', name), { assetSizes: [3 * MiB, 1 * MiB], seed });
    return publishDcp({ dcpDir: dcp.dir, server: server.url, group: G.id, ownerPassword: ownerOf(G.password), dataDir: data, peerId: 'distributor', log: quiet });
  };
  const first = await publish('NAT_ONE_FTR', 191);
  // A slow seeder, so both downloaders are still connected when we look.
  const seeder = new Seeder({ store: new PublishedStore(data), listen: '127.0.0.1:0', uploadLimit: 200_000, log: quiet });
  await seeder.start();
  t.teardown(() => seeder.stop());
  t.like(seeder.entries()[0], { name: 'NAT_ONE_FTR', state: 'seeding' });

  // A dial turned away (the torrent still being checked on either side) is tried again after
  // min_reconnect_time, 60 s by default: longer than this test waits.
  const downloaders = [1, 2].map(() => loopbackSession(t, { raw: { min_reconnect_time: 1 } }));
  for (const [i, s] of downloaders.entries()) {
    const res = await fetch(`${server.url}/api/groups/${G.id}/torrents/NAT_ONE_FTR?peer=nat-${i}`, { headers: { authorization: 'Basic ' + Buffer.from(`${G.id}:${ownerOf(G.password)}`).toString('base64') } });
    const tor = s.addTorrent({ torrent: Buffer.from(await res.arrayBuffer()), savePath: path.join(root, `down-${i}`) });
    tor.connectPeer('127.0.0.1', seeder.listenPort);
  }
  const seeded = seeder.session.find(first.infoHash)!;
  const toSeeder = `127.0.0.1:${seeder.listenPort}`;
  const peers = await waitFor('two connections from 127.0.0.1', () => {
    // A downloader not (or no longer) connected to the seeder dials it again.
    for (const s of downloaders) {
      const tor = s.find(first.infoHash);
      if (tor && !tor.peers().some((x) => x.peer === toSeeder)) tor.connectPeer('127.0.0.1', seeder.listenPort);
    }
    const p = seeded.peers().filter((x) => x.peer.startsWith('127.0.0.1:'));
    return p.length >= 2 && p;
  }, 30_000);
  t.true(peers.length >= 2);

  await publish('NAT_TWO_FTR', 192);
  await seeder.scan();
  t.deepEqual(seeder.entries().map((e) => [e.name, e.state]).sort(), [['NAT_ONE_FTR', 'seeding'], ['NAT_TWO_FTR', 'seeding']]);
  // The distributor withdraws the second one: the seeder lets it go and says so to the server.
  const owner = { authorization: 'Basic ' + Buffer.from(`${G.id}:${ownerOf(G.password)}`).toString('base64') };
  t.is((await fetch(`${server.url}/api/groups/${G.id}/torrents/NAT_TWO_FTR`, { method: 'DELETE', headers: owner })).status, 204);
  await seeder.dropWithdrawn();
  t.like(seeder.entries().find((e) => e.name === 'NAT_TWO_FTR'), { state: 'retired', message: 'withdrawn by the distributor' });
  t.is(seeder.session.torrents().length, 1, 'only NAT_ONE_FTR is still in the session');
  const status = (await (await fetch(`${server.url}/api/groups/${G.id}/status`, { headers: owner })).json()) as { torrents: { name: string; peers: { peer: string; state: string; role?: string }[] }[] };
  t.like(status.torrents.find((x) => x.name === 'NAT_TWO_FTR')?.peers.find((p) => p.peer === 'distributor'), { state: 'retired', role: 'seeder' });
  const resumeFile = path.join(data, 'seeding', `${first.infoHash}.resume`);
  const before = (await fs.stat(resumeFile)).mtimeMs;
  await seeder.stop();
  const files = await fs.readdir(path.join(data, 'seeding'));
  t.is(files.filter((f) => f.endsWith('.resume')).length, 2, files.join(' '));
  t.true((await fs.stat(resumeFile)).mtimeMs >= before, 'written again on stop');

  // While stopped a byte of NAT_ONE changes: refused at start. Put back, it is checked again at
  // the next look and seeds, without a restart.
  const mxf = path.join(root, 'pub', 'NAT_ONE_FTR', (await fs.readdir(path.join(root, 'pub', 'NAT_ONE_FTR'))).find((f) => f.endsWith('.mxf'))!);
  const fh = await fs.open(mxf, 'r+');
  const original = Buffer.alloc(1);
  await fh.read(original, 0, 1, 5000);
  await fh.write(Buffer.from([original[0]! ^ 0xff]), 0, 1, 5000);
  await fh.close();
  const again = new Seeder({ store: new PublishedStore(data), listen: '127.0.0.1:0', log: quiet });
  await again.start();
  t.teardown(() => again.stop());
  t.like(again.entries().find((e) => e.name === 'NAT_ONE_FTR'), { state: 'refused' });
  t.regex(again.entries().find((e) => e.name === 'NAT_ONE_FTR')?.message ?? '', /^not seeding NAT_ONE_FTR: 1 of \d+ pieces no longer match/);
  const back = await fs.open(mxf, 'r+');
  await back.write(original, 0, 1, 5000);
  await back.close();
  await again.scan();
  t.like(again.entries().find((e) => e.name === 'NAT_ONE_FTR'), { state: 'seeding' });
});
