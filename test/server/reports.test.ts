// Delivery reports and the group status: stored per peer under reports/, read back per
// torrent and per peer; each refusal leaves DATA unchanged.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { basic, createGroup, makeTorrent, snapshot, startServer, uploadTorrent } from './helpers.js';

const auth = { authorization: basic('grp', 'pw') };

async function setup(t: Parameters<typeof startServer>[0]) {
  const s = await startServer(t);
  await createGroup(s.app, 'grp', 'pw');
  const up = await uploadTorrent(s.app, 'grp', 'pw', makeTorrent({ name: 'Feature', content: Buffer.alloc(20000, 1) }));
  const up2 = await uploadTorrent(s.app, 'grp', 'pw', makeTorrent({ name: 'Trailer', content: Buffer.alloc(2000, 2) }));
  return { ...s, feature: up.json<{ infoHash: string }>().infoHash, trailer: up2.json<{ infoHash: string }>().infoHash };
}

const report = (app: Awaited<ReturnType<typeof setup>>['app'], payload: object, headers: Record<string, string> = auth) =>
  app.inject({ method: 'POST', url: '/api/groups/grp/reports', headers, payload });

test('reports are stored per peer and shown per torrent and per peer in the status', async (t) => {
  const { app, dataDir, feature, trailer } = await setup(t);
  t.is((await report(app, { peer: 'site-1', infoHash: feature, state: 'downloading', progress: 0.25 })).statusCode, 204);
  t.is((await report(app, { peer: 'site-1', infoHash: feature.toUpperCase(), state: 'seeding', progress: 1, message: 'verified, in ingest' })).statusCode, 204);
  t.is((await report(app, { peer: 'site-2', infoHash: feature, state: 'failed', progress: 0.5, message: 'disk full' })).statusCode, 204);
  t.is((await report(app, { peer: 'site-2', infoHash: trailer, state: 'queued', progress: 0 })).statusCode, 204);

  const onDisk = JSON.parse(await fs.readFile(path.join(dataDir, 'groups', 'grp', 'reports', 'site-1.json'), 'utf8'));
  t.deepEqual(Object.keys(onDisk.torrents), [feature]);
  t.like(onDisk, { peer: 'site-1', torrents: { [feature]: { state: 'seeding', progress: 1, message: 'verified, in ingest' } } });

  const res = await app.inject({ url: '/api/groups/grp/status', headers: auth });
  t.is(res.statusCode, 200);
  const status = res.json<{ group: string; torrents: Array<{ name: string; infoHash: string; peers: Array<Record<string, unknown>> }> }>();
  t.is(status.group, 'grp');
  t.deepEqual(status.torrents.map((x) => x.name), ['Feature', 'Trailer']);
  const [f, tr] = status.torrents;
  t.is(f!.infoHash, feature);
  t.deepEqual(
    f!.peers.map(({ updatedAt, progressAt, ...rest }) => (t.false(Number.isNaN(Date.parse(updatedAt as string))), t.is(progressAt, updatedAt), rest)),
    [
      { peer: 'site-1', state: 'seeding', progress: 1, message: 'verified, in ingest', flag: 'ok' },
      { peer: 'site-2', state: 'failed', progress: 0.5, message: 'disk full', flag: 'ok' },
    ],
  );
  t.deepEqual(tr!.peers.map((p) => [p.peer, p.state]), [['site-2', 'queued']]);
});

test('the report body of DESIGN.md (rates, ETA, verify, role, decision) is stored and shown; a later report replaces it whole', async (t) => {
  const { app, feature } = await setup(t);
  const full = {
    peer: 'site-1', infoHash: feature, state: 'failed', progress: 1, message: 'verification failed',
    downloadBps: 1250000, uploadBps: 300, etaSeconds: 42,
    verify: { state: 'failed', failed: [{ path: 'reel1/picture.mxf', reason: 'SHA-1 differs from the PKL' }] },
    kdm: { state: 'valid', notValidAfter: '2027-01-01T00:00:00Z' }, role: 'cinema', decision: 'kept the current version',
  };
  t.is((await report(app, full)).statusCode, 204);
  t.is((await report(app, { peer: 'pub-1', infoHash: feature, state: 'seeding', progress: 1, uploadBps: 9000000, role: 'seeder' })).statusCode, 204);
  const status = (await app.inject({ url: '/api/groups/grp/status', headers: auth })).json<{ torrents: Array<{ peers: Array<Record<string, unknown>> }> }>();
  const byPeer = (peers: Array<Record<string, unknown>>, id: string) => peers.find((p) => p.peer === id)!;
  const site = byPeer(status.torrents[0]!.peers, 'site-1');
  const pub = byPeer(status.torrents[0]!.peers, 'pub-1');
  const { updatedAt, progressAt, flag, ...shown } = site;
  const { infoHash, ...expected } = full;
  t.deepEqual(shown, expected);
  t.is(flag, 'ok');
  t.like(pub, { peer: 'pub-1', role: 'seeder', uploadBps: 9000000, state: 'seeding' });

  t.is((await report(app, { peer: 'site-1', infoHash: feature, state: 'seeding', progress: 1, role: 'cinema', verify: { state: 'passed', failed: [] } })).statusCode, 204);
  const again = (await app.inject({ url: '/api/groups/grp/status', headers: auth })).json<{ torrents: Array<{ peers: Array<Record<string, unknown>> }> }>();
  const after = byPeer(again.torrents[0]!.peers, 'site-1');
  t.deepEqual(after.verify, { state: 'passed', failed: [] });
  for (const gone of ['etaSeconds', 'downloadBps', 'kdm', 'decision', 'message']) t.false(gone in after, gone);
});

test('bad report fields of the full body are refused with the rule to follow; DATA unchanged', async (t) => {
  const { app, dataDir, feature } = await setup(t);
  const before = await snapshot(dataDir);
  const ok = { peer: 'site-1', infoHash: feature, state: 'downloading', progress: 0.5 };
  const many = Array.from({ length: 101 }, (_, i) => ({ path: `f${i}.mxf`, reason: 'missing' }));
  const cases: Array<[object, RegExp]> = [
    [{ ...ok, role: 'boss' }, /role is 'seeder' or 'cinema'/],
    [{ ...ok, downloadBps: -1 }, /downloadBps is a rate in bytes per second/],
    [{ ...ok, uploadBps: 'fast' }, /uploadBps is a rate/],
    [{ ...ok, etaSeconds: -5 }, /etaSeconds is a number of seconds/],
    [{ ...ok, verify: { state: 'great', failed: [] } }, /verify is \{state/],
    [{ ...ok, verify: { state: 'failed', failed: many } }, /at most 100 failed files/],
    [{ ...ok, verify: { state: 'failed' } }, /verify is/],
    [{ ...ok, decision: 'x'.repeat(201) }, /decision is a text of at most 200/],
  ];
  for (const [payload, message] of cases) {
    const res = await report(app, payload);
    t.is(res.statusCode, 400, JSON.stringify(payload).slice(90, 200));
    t.regex(res.json<{ message: string }>().message, message);
  }
  t.deepEqual(await snapshot(dataDir), before);
});

test('concurrent reports of one peer on several torrents all survive', async (t) => {
  const { app, feature, trailer } = await setup(t);
  const res = await Promise.all([
    report(app, { peer: 'p', infoHash: feature, state: 'downloading', progress: 0.1 }),
    report(app, { peer: 'p', infoHash: trailer, state: 'downloading', progress: 0.2 }),
    report(app, { peer: 'p', infoHash: feature, state: 'downloading', progress: 0.3 }),
  ]);
  t.deepEqual(res.map((r) => r.statusCode), [204, 204, 204]);
  const status = (await app.inject({ url: '/api/groups/grp/status', headers: auth })).json<{ torrents: Array<{ peers: Array<{ progress: number }> }> }>();
  t.deepEqual(status.torrents.map((x) => x.peers.map((p) => p.progress)), [[0.3], [0.2]]);
});

test('report refusals: 400 bad fields, 404 unknown torrent, 401 credentials or unknown group; DATA unchanged', async (t) => {
  const { app, dataDir, feature } = await setup(t);
  await report(app, { peer: 'site-1', infoHash: feature, state: 'downloading', progress: 0.5 });
  const before = await snapshot(dataDir);
  const ok = { peer: 'site-1', infoHash: feature, state: 'seeding', progress: 1 };
  const cases: Array<[string, object, Record<string, string>, number, string, RegExp]> = [
    ['bad state', { ...ok, state: 'exploded' }, auth, 400, 'BAD_REQUEST', /state is one of/],
    ['progress above 1', { ...ok, progress: 50 }, auth, 400, 'BAD_REQUEST', /progress is a number from 0 to 1/],
    ['missing peer', { infoHash: feature, state: 'seeding', progress: 1 }, auth, 400, 'BAD_PEER', /missing 'peer'/],
    ['path-climbing peer', { ...ok, peer: '../../group' }, auth, 400, 'BAD_PEER', /peer id starts with/],
    ['not a hash', { ...ok, infoHash: 'xyz' }, auth, 400, 'BAD_REQUEST', /info hash in hex/],
    ['unknown torrent', { ...ok, infoHash: 'a'.repeat(40) }, auth, 404, 'TORRENT_NOT_FOUND', /no torrent with info hash a{40}/],
    ['no credentials', ok, {}, 401, 'AUTH_REQUIRED', /needs its password/],
    ['wrong password', ok, { authorization: basic('grp', 'bad') }, 401, 'BAD_CREDENTIALS', /wrong group id or password/],
  ];
  for (const [what, payload, headers, status, code, message] of cases) {
    const res = await report(app, payload, headers);
    t.is(res.statusCode, status, what);
    const body = res.json<{ error: string; message: string }>();
    t.is(body.error, code, what);
    t.regex(body.message, message, what);
  }
  const ghost = await app.inject({ method: 'POST', url: '/api/groups/ghost/reports', headers: { authorization: basic('ghost', 'pw') }, payload: ok });
  t.is(ghost.statusCode, 401);
  t.is(ghost.json<{ error: string }>().error, 'BAD_CREDENTIALS');
  t.deepEqual(await snapshot(dataDir), before);
});

test('status refusals: 401 with their bodies, an unknown group as a wrong password', async (t) => {
  const { app } = await setup(t);
  const noAuth = await app.inject({ url: '/api/groups/grp/status' });
  t.is(noAuth.statusCode, 401);
  t.deepEqual(noAuth.json(), { error: 'AUTH_REQUIRED', message: "group 'grp' needs its password: send HTTP Basic auth with the group id as user name" });
  const ghost = await app.inject({ url: '/api/groups/ghost/status', headers: auth });
  t.is(ghost.statusCode, 401);
  t.deepEqual(ghost.json(), { error: 'BAD_CREDENTIALS', message: "wrong group id or password for group 'ghost'" });
});
