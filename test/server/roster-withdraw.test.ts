// The owner's side of a group beyond uploads: the roster, withdrawing a DCP (tombstone, reports
// still taken) and the status flags judged against the server's clock; members are refused.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { basic, createGroup, makeTorrent, startServer, uploadTorrent } from './helpers.js';

const MIN = 60_000;
const owner = { authorization: basic('dist', 'owner-pw') };
const member = (peer: string) => ({ authorization: basic('dist', 'member-pw'), 'cineswarm-peer': `${peer} key-of-${peer}-0123456789` });

test('roster, status flags with a clock, withdraw with a tombstone; the member password can do none of it', async (t) => {
  let now = Date.parse('2026-12-01T10:00:00Z');
  const { app, dataDir } = await startServer(t, { now: () => now, stalledAfterMinutes: 10, silentAfterMinutes: 30 });
  await createGroup(app, 'dist', 'member-pw', 'owner-pw');
  const up = await uploadTorrent(app, 'dist', 'owner-pw', makeTorrent({ name: 'Feature_FTR', content: Buffer.alloc(5000, 1) }));
  const infoHash = up.json<{ infoHash: string }>().infoHash;
  const report = (peer: string, state: string, progress: number) =>
    app.inject({ method: 'POST', url: '/api/groups/dist/reports', headers: member(peer), payload: { peer, infoHash, state, progress } });

  // members: no roster, no status, no withdraw
  for (const req of [
    { method: 'PUT' as const, url: '/api/groups/dist/roster', payload: [] },
    { method: 'GET' as const, url: '/api/groups/dist/roster' },
    { method: 'GET' as const, url: '/api/groups/dist/status' },
    { method: 'DELETE' as const, url: '/api/groups/dist/torrents/Feature_FTR' },
  ]) {
    const res = await app.inject({ ...req, headers: member('site-1') });
    t.is(res.statusCode, 403, `${req.method} ${req.url}`);
    t.is(res.json<{ error: string }>().error, 'OWNER_REQUIRED');
  }

  const roster = [{ peer: 'site-1', name: 'Odeon Leeds', site: 'Leeds' }, { peer: 'site-2', name: 'Rex' }, { peer: 'site-3' }];
  t.is((await app.inject({ method: 'PUT', url: '/api/groups/dist/roster', headers: owner, payload: roster })).statusCode, 204);
  t.deepEqual((await app.inject({ url: '/api/groups/dist/roster', headers: owner })).json(), roster);
  t.is((await app.inject({ method: 'PUT', url: '/api/groups/dist/roster', headers: owner, payload: [{ peer: 'x' }, { peer: 'x' }] })).statusCode, 400);
  t.is((await app.inject({ method: 'PUT', url: '/api/groups/dist/roster', headers: owner, payload: [{ peer: '../x' }] })).statusCode, 400);

  t.is((await report('site-1', 'downloading', 0.2)).statusCode, 204);
  t.is((await report('site-2', 'downloading', 0.5)).statusCode, 204);
  t.is((await report('stranger', 'seeding', 1)).statusCode, 204);
  const seeder = { peer: 'distributor', infoHash, state: 'seeding', progress: 1, role: 'seeder' };
  t.is((await app.inject({ method: 'POST', url: '/api/groups/dist/reports', headers: member('distributor'), payload: seeder })).statusCode, 204, 'a seeder is not a cinema: never not-rostered');
  now += 5 * MIN;
  t.is((await report('site-1', 'downloading', 0.6)).statusCode, 204, 'site-1 moves on');
  t.is((await report('site-2', 'downloading', 0.5)).statusCode, 204, 'site-2 reports, but stands still');
  now += 6 * MIN;
  const flags = async () => {
    const st = (await app.inject({ url: '/api/groups/dist/status', headers: owner })).json<{ torrents: Array<{ name: string; retired?: { reason: string }; peers: Array<{ peer: string; flag: string; state: string; name?: string }> }> }>();
    return st.torrents.map((x) => ({ name: x.name, retired: x.retired?.reason, peers: Object.fromEntries(x.peers.map((p) => [p.peer, p.flag])) }));
  };
  t.deepEqual(await flags(), [{ name: 'Feature_FTR', retired: undefined, peers: { 'site-1': 'ok', 'site-2': 'stalled', stranger: 'not-rostered', distributor: 'ok', 'site-3': 'not-started' } }]);
  now += 30 * MIN;
  t.deepEqual((await flags())[0]!.peers, { 'site-1': 'silent', 'site-2': 'silent', stranger: 'not-rostered', distributor: 'ok', 'site-3': 'not-started' }, 'a finished peer is never silent');

  // withdraw: gone from the listing, a tombstone on disk, reports still accepted
  t.is((await app.inject({ method: 'DELETE', url: '/api/groups/dist/torrents/Feature_FTR', headers: owner })).statusCode, 204);
  t.is((await app.inject({ method: 'DELETE', url: '/api/groups/dist/torrents/Feature_FTR', headers: owner })).statusCode, 404);
  t.deepEqual((await app.inject({ url: '/api/groups/dist/torrents', headers: member('site-1') })).json(), []);
  const tomb = JSON.parse(await fs.readFile(path.join(dataDir, 'groups', 'dist', 'retired', `${infoHash}.json`), 'utf8')) as { name: string; reason: string };
  t.like(tomb, { name: 'Feature_FTR', reason: 'withdrawn' });
  t.is((await report('site-1', 'retired', 0.6)).statusCode, 204, 'a report on a withdrawn DCP is taken');
  const after = await flags();
  t.is(after[0]!.retired, 'withdrawn');
  t.false('site-3' in after[0]!.peers, 'a withdrawn DCP is not awaited from cinemas that never started it');
  t.is(after[0]!.peers['site-1'], 'ok');
});
