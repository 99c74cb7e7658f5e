// Retention cleanup: exactly the torrents older than retentionDays go, with their report
// entries and swarms; torrents being uploaded and young ones stay; the schedule runs it.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inFlightKey } from '../../src/server/context.js';
import { makePasskey } from '../../src/server/passkey.js';
import { basic, createGroup, makeTorrent, startServer, uploadTorrent } from './helpers.js';
import { announce, peerId } from './tracker-client.js';

const DAY = 86_400_000;

test('cleanup removes exactly the old torrents, their reports and swarms', async (t) => {
  const { app, dataDir } = await startServer(t, { retentionDays: 7 });
  const { store } = app.cineswarm;
  await createGroup(app, 'g1', 'p1');
  await createGroup(app, 'g2', 'p2');
  const now = Date.now();
  await store.addTorrent('g1', 'Old_Feature', makeTorrent({ name: 'Old_Feature', content: Buffer.alloc(1000, 1) }), new Date(now - 8 * DAY));
  await store.addTorrent('g1', 'Recent_Trailer', makeTorrent({ name: 'Recent_Trailer', content: Buffer.alloc(1000, 2) }), new Date(now - 6 * DAY));
  await store.addTorrent('g2', 'Old_Short', makeTorrent({ name: 'Old_Short', content: Buffer.alloc(1000, 3) }), new Date(now - 30 * DAY));
  await store.addTorrent('g2', 'Uploading', makeTorrent({ name: 'Uploading', content: Buffer.alloc(1000, 4) }), new Date(now - 30 * DAY));
  t.is((await uploadTorrent(app, 'g2', 'p2', makeTorrent({ name: 'Fresh', content: Buffer.alloc(1000, 5) }))).statusCode, 201);

  const list = async (g: string, pw: string) =>
    (await app.inject({ url: `/api/groups/${g}/torrents`, headers: { authorization: basic(g, pw) } })).json<Array<{ name: string; infoHash: string }>>();
  const g1 = await list('g1', 'p1');
  const oldHash = g1.find((e) => e.name === 'Old_Feature')!.infoHash;
  const recentHash = g1.find((e) => e.name === 'Recent_Trailer')!.infoHash;
  for (const h of [oldHash, recentHash]) {
    const r = await app.inject({
      method: 'POST',
      url: '/api/groups/g1/reports',
      headers: { authorization: basic('g1', 'p1') },
      payload: { peer: 'site-9', infoHash: h, state: 'seeding', progress: 1 },
    });
    t.is(r.statusCode, 204);
  }
  const pk = makePasskey(app.cineswarm.secret, 'g1', 'site-9');
  await announce(app, pk, { infoHash: Buffer.from(oldHash, 'hex'), peerId: peerId('seed'), port: 4001, left: 0 });

  app.cineswarm.inFlight.add(inFlightKey('g2', 'Uploading'));
  const result = await app.cineswarm.runCleanup();
  t.deepEqual(result.removed.map((r) => `${r.group}/${r.name}`).sort(), ['g1/Old_Feature', 'g2/Old_Short']);
  t.deepEqual((await fs.readdir(path.join(dataDir, 'groups', 'g1', 'torrents'))).sort(), ['Recent_Trailer.torrent']);
  t.deepEqual((await fs.readdir(path.join(dataDir, 'groups', 'g2', 'torrents'))).sort(), ['Fresh.torrent', 'Uploading.torrent']);
  // the API, the reports and the tracker agree
  t.deepEqual((await list('g1', 'p1')).map((e) => e.name), ['Recent_Trailer']);
  const report = JSON.parse(await fs.readFile(path.join(dataDir, 'groups', 'g1', 'reports', 'site-9.json'), 'utf8'));
  t.deepEqual(Object.keys(report.torrents), [recentHash]);
  const late = await announce(app, pk, { infoHash: Buffer.from(oldHash, 'hex'), peerId: peerId('late'), port: 4002 });
  t.is(late.failure, "this torrent is not shared in group 'g1'");

  // once the upload is over, the next pass takes it
  app.cineswarm.inFlight.delete(inFlightKey('g2', 'Uploading'));
  const second = await app.cineswarm.runCleanup();
  t.deepEqual(second.removed.map((r) => r.name), ['Uploading']);
  t.deepEqual(await fs.readdir(path.join(dataDir, 'groups', 'g2', 'torrents')), ['Fresh.torrent']);
});

test('a retention in fractions of a day, run by the schedule', async (t) => {
  // 0.5 s retention and a cleanup every second
  const { app, dataDir } = await startServer(t, { retentionDays: 0.5 / 86_400, cleanupCron: '* * * * * *' });
  await createGroup(app, 'g', 'p');
  await uploadTorrent(app, 'g', 'p', makeTorrent({ name: 'Short_Lived', content: Buffer.alloc(100) }));
  const dir = path.join(dataDir, 'groups', 'g', 'torrents');
  t.deepEqual(await fs.readdir(dir), ['Short_Lived.torrent']);
  for (let i = 0; i < 100 && (await fs.readdir(dir)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(await fs.readdir(dir), []);
});
