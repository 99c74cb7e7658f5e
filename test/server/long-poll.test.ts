// Long polling of a group's torrent list: with If-None-Match and ?wait=S the answer waits for the
// next change (200 with the new list) or ends as 304 when nothing changed; the hold is cut to the
// server's maxWaitSeconds, and a bad wait is refused.
import test from 'ava';
import { basic, createGroup, makeTorrent, startServer, uploadTorrent } from './helpers.js';

const PW = 'pw';
const auth = { authorization: basic('dist', PW) };

test('a waiting poll answers with the new list as soon as a DCP is added', async (t) => {
  const { app } = await startServer(t, { maxWaitSeconds: 120 });
  await createGroup(app, 'dist', PW);
  const first = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  const etag = first.headers.etag as string;
  const waiting = app.inject({ url: '/api/groups/dist/torrents?wait=120', headers: { ...auth, 'if-none-match': etag } });
  // The poll is held by the server (nothing to answer yet) until the upload below.
  await new Promise((r) => setTimeout(r, 200));
  t.is(app.cineswarm.catalog.waiting, 1);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'New_FTR', content: Buffer.alloc(40_000, 7) }));
  const res = await waiting;
  t.is(res.statusCode, 200);
  t.deepEqual((res.json() as { name: string }[]).map((x) => x.name), ['New_FTR']);
  t.not(res.headers.etag, etag);
  t.is(app.cineswarm.catalog.waiting, 0, 'nothing is left waiting');
});

test('no change within the wait: 304 with the same tag; no tag or a stale tag answers at once', async (t) => {
  const { app } = await startServer(t, { maxWaitSeconds: 1 });
  await createGroup(app, 'dist', PW);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Old_FTR', content: Buffer.alloc(30_000, 3) }));
  const etag = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).headers.etag as string;
  // wait=600 is cut to the server's one second, so this ends (a test timeout would say otherwise).
  const held = await app.inject({ url: '/api/groups/dist/torrents?wait=600', headers: { ...auth, 'if-none-match': etag } });
  t.is(held.statusCode, 304);
  t.is(held.headers.etag, etag);
  const stale = await app.inject({ url: '/api/groups/dist/torrents?wait=600', headers: { ...auth, 'if-none-match': '"old"' } });
  t.is(stale.statusCode, 200);
  const plain = await app.inject({ url: '/api/groups/dist/torrents?wait=600', headers: auth });
  t.is(plain.statusCode, 200);
  for (const bad of ['-1', 'soon', '1.5']) {
    const res = await app.inject({ url: `/api/groups/dist/torrents?wait=${bad}`, headers: { ...auth, 'if-none-match': etag } });
    t.is(res.statusCode, 400, bad);
    t.truthy((res.json() as { error: string; message: string }).message);
  }
  t.is(app.cineswarm.catalog.waiting, 0);
});

test('a client that goes away stops waiting on the server', async (t) => {
  const { app } = await startServer(t, { maxWaitSeconds: 300 });
  await createGroup(app, 'dist', PW);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const etag = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).headers.etag as string;
  const ac = new AbortController();
  const req = fetch(`http://127.0.0.1:${port}/api/groups/dist/torrents?wait=300`, { headers: { ...auth, 'if-none-match': etag }, signal: ac.signal }).catch(() => 'aborted');
  for (let i = 0; i < 100 && app.cineswarm.catalog.waiting === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(app.cineswarm.catalog.waiting, 1);
  ac.abort();
  t.is(await req, 'aborted');
  for (let i = 0; i < 100 && app.cineswarm.catalog.waiting > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(app.cineswarm.catalog.waiting, 0);
});
