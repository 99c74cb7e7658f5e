// The server's access log and GET /metrics: one line per request (info, or debug for announces
// and 304 polls) without passwords or passkeys, and every request counted by route and status.
import test from 'ava';
import { logSink } from '../helpers/log-sink.js';
import { announceOf, basic, createGroup, makeTorrent, startServer, uploadTorrent } from './helpers.js';
import { announceUrl, decodeAnnounce, peerId } from './tracker-client.js';

const PW = 'secret-pw-123';
const auth = { authorization: basic('dist', PW) };

function sample(metrics: string, name: string, labels: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('one log line per request, quiet ones at debug, no secrets; /metrics counts routes, peers and torrents', async (t) => {
  const sink = logSink('debug');
  const { app } = await startServer(t, { logger: sink.logger });
  await createGroup(app, 'dist', PW);
  const up = await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Feature', content: Buffer.alloc(4000, 1) }));
  const infoHash = up.json<{ infoHash: string }>().infoHash;
  const list = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  for (let i = 0; i < 3; i++) t.is((await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': list.headers.etag as string } })).statusCode, 304);
  const passkeys: string[] = [];
  for (const peer of ['site-1', 'site-2']) {
    const torrent = await app.inject({ url: `/api/groups/dist/torrents/Feature?peer=${peer}`, headers: auth });
    const passkey = announceOf(torrent.rawPayload).split('/announce/')[1]!;
    passkeys.push(passkey);
    const ann = await app.inject({ url: announceUrl(passkey, { infoHash: Buffer.from(infoHash, 'hex'), peerId: peerId(peer), port: 7001 + passkeys.length, left: 4000, event: 'started' }) });
    t.falsy(decodeAnnounce(ann.rawPayload).failure);
  }
  t.is((await app.inject({ method: 'POST', url: '/api/groups/dist/reports', headers: auth, payload: { peer: 'site-1', infoHash, state: 'downloading', progress: 0.5 } })).statusCode, 204);
  t.is((await app.inject({ url: '/api/groups/dist/torrents', headers: { authorization: basic('dist', 'wrong') } })).statusCode, 401);
  t.is((await app.inject({ url: '/no/such/thing?token=abc' })).statusCode, 404);

  const requests = sink.lines.filter((l) => l.msg === 'request');
  const info = requests.filter((l) => l.level === 30);
  const debug = requests.filter((l) => l.level === 20);
  // every answered request has its line, with method, path, status and a duration
  t.is(requests.length, 1 + 1 + 1 + 3 + 2 * 2 + 1 + 1 + 1);
  for (const l of requests) {
    t.is(typeof l.method, 'string');
    t.is(typeof l.status, 'number');
    t.true(typeof l.ms === 'number' && (l.ms as number) >= 0);
    t.false(String(l.path).includes('?'));
  }
  t.deepEqual(debug.map((l) => l.status).sort(), [200, 200, 304, 304, 304]);
  const announces = debug.filter((l) => l.path === '/announce/<passkey>');
  t.deepEqual(announces.map((l) => l.peer), ['site-1', 'site-2']);
  t.like(info.find((l) => l.method === 'POST' && l.path === '/api/groups/dist/reports'), { status: 204, group: 'dist', peer: 'site-1' });
  t.like(info.find((l) => String(l.path).startsWith('/api/groups/dist/torrents/Feature')), { status: 200, peer: 'site-1' });
  t.like(info.find((l) => l.status === 401), { method: 'GET', path: '/api/groups/dist/torrents' });
  t.like(info.find((l) => l.status === 404), { path: '/no/such/thing' });
  const all = JSON.stringify(sink.lines);
  for (const secret of [PW, 'wrong', ...passkeys, Buffer.from(`dist:${PW}`).toString('base64')]) t.false(all.includes(secret), 'a secret in the log');

  // /metrics: the debug-level requests are counted too
  const m = (await app.inject({ url: '/metrics' })).body;
  t.is(sample(m, 'cineswarm_server_requests_total', 'method="GET",route="/api/groups/:id/torrents",status="304"'), 3);
  t.is(sample(m, 'cineswarm_server_requests_total', 'method="GET",route="/api/groups/:id/torrents",status="401"'), 1);
  t.is(sample(m, 'cineswarm_server_requests_total', 'method="GET",route="/announce/:passkey",status="200"'), 2);
  t.is(sample(m, 'cineswarm_server_requests_total', 'method="POST",route="/api/groups",status="201"'), 1);
  t.is(sample(m, 'cineswarm_server_requests_total', 'method="GET",route="unmatched",status="404"'), 1);
  t.is(sample(m, 'cineswarm_server_active_peers', 'group="dist"'), 2);
  t.is(sample(m, 'cineswarm_server_torrents', 'group="dist"'), 1);
  t.is(sample(m, 'cineswarm_server_store_unavailable_total', ''), 0);
  t.regex(m, /# TYPE cineswarm_server_requests_total counter/);
  // a stopped peer leaves the gauge
  await app.inject({ url: announceUrl(passkeys[1]!, { infoHash: Buffer.from(infoHash, 'hex'), peerId: peerId('site-2'), port: 7003, left: 4000, event: 'stopped' }) });
  t.is(sample((await app.inject({ url: '/metrics' })).body, 'cineswarm_server_active_peers', 'group="dist"'), 1);
});
