// The console's login and JSON API through fastify's inject, on a real server with a directory
// store: page files with a strict CSP, the owner password only, the session cookie's flags, the
// CSRF token on every call after login, throttled wrong logins, and a password change ending a session.
import test from 'ava';
import type { FastifyInstance } from 'fastify';
import { basic, createGroup, makeTorrent, startServer, uploadTorrent } from './helpers.js';

const login = (app: FastifyInstance, group: string, password: string, remoteAddress = '127.0.0.1') =>
  app.inject({ method: 'POST', url: '/api/console/login', payload: { group, password }, remoteAddress });

async function setup(t: Parameters<typeof startServer>[0]) {
  const s = await startServer(t);
  await createGroup(s.app, 'dist', 'member-pw', 'owner-pw');
  await uploadTorrent(s.app, 'dist', 'owner-pw', makeTorrent({ name: 'Feature', content: Buffer.alloc(5000, 3) }));
  return s;
}

test('GET / is the console page: local files only, CSP, no framing; its scripts and the shared assets are served', async (t) => {
  const { app } = await setup(t);
  const page = await app.inject({ url: '/' });
  t.is(page.statusCode, 200);
  t.regex(page.headers['content-type'] as string, /text\/html/);
  t.regex(page.headers['content-security-policy'] as string, /default-src 'none'; script-src 'self'/);
  t.is(page.headers['x-frame-options'], 'DENY');
  t.regex(page.body, /Owner password/);
  t.notRegex(page.body, /https?:\/\//, 'nothing loaded from elsewhere');
  for (const url of ['/console.js', '/console.css', '/deliveries.js', '/format.js', '/base.css', '/favicon.svg']) {
    const res = await app.inject({ url });
    t.is(res.statusCode, 200, url);
    t.notRegex(res.body, /https?:\/\/(?!www\.w3\.org)/, `${url} loads nothing from elsewhere`);
  }
  // The API's own headers are left as they were: the page headers are the console's alone.
  t.is((await app.inject({ url: '/healthz' })).headers['x-frame-options'], undefined);
});

test('login: owner password only, a clear refusal otherwise; the session cookie is HttpOnly and SameSite=Strict', async (t) => {
  const { app } = await setup(t);
  const wrong = await login(app, 'dist', 'nope');
  t.is(wrong.statusCode, 401);
  t.is(wrong.json().error, 'WRONG_PASSWORD');
  t.regex(wrong.json().message, /Wrong group id or owner password/);
  t.falsy(wrong.headers['set-cookie']);
  const ghost = await login(app, 'no-such-group', 'owner-pw');
  t.deepEqual(ghost.json(), wrong.json(), 'an unknown group reads like a wrong password');
  const climbing = await login(app, '../dist', 'owner-pw');
  t.is(climbing.statusCode, 401);
  const member = await login(app, 'dist', 'member-pw');
  t.is(member.statusCode, 403);
  t.regex(member.json().message, /member password the cinemas use/);
  t.falsy(member.headers['set-cookie']);

  const ok = await login(app, 'dist', 'owner-pw');
  t.is(ok.statusCode, 200);
  const cookie = ok.headers['set-cookie'] as string;
  t.regex(cookie, /^cineswarm_console=[^;]+;/);
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Strict/);
  const csrf = ok.json<{ csrfToken: string }>().csrfToken;
  t.true(csrf.length >= 32);
  const jar = cookie.split(';')[0]!;

  t.is((await app.inject({ url: '/api/console/status' })).statusCode, 401, 'no session');
  const noToken = await app.inject({ url: '/api/console/status', headers: { cookie: jar } });
  t.is(noToken.statusCode, 403);
  t.is(noToken.json().error, 'CSRF');
  t.is((await app.inject({ url: '/api/console/status', headers: { cookie: jar, 'x-csrf-token': 'forged' } })).statusCode, 403);
  const status = await app.inject({ url: '/api/console/status', headers: { cookie: jar, 'x-csrf-token': csrf } });
  t.is(status.statusCode, 200);
  const body = status.json<{ group: string; now: string; roster: unknown[]; torrents: Array<{ name: string }> }>();
  t.is(body.group, 'dist');
  t.deepEqual(body.torrents.map((x) => x.name), ['Feature']);
  t.false(Number.isNaN(Date.parse(body.now)));
  t.like((await app.inject({ url: '/api/console/session', headers: { cookie: jar } })).json(), { loggedIn: true, group: 'dist', csrfToken: csrf });

  t.is((await app.inject({ method: 'POST', url: '/api/console/logout', headers: { cookie: jar } })).statusCode, 403, 'logout needs the token too');
  t.is((await app.inject({ method: 'POST', url: '/api/console/logout', headers: { cookie: jar, 'x-csrf-token': csrf } })).statusCode, 204);
  t.is((await app.inject({ url: '/api/console/status', headers: { cookie: jar, 'x-csrf-token': csrf } })).statusCode, 401, 'logged out on the server');
});

test('wrong logins are throttled per address with 429 and Retry-After, even for the right password; other addresses go on', async (t) => {
  const { app } = await setup(t);
  for (let i = 0; i < 5; i++) t.is((await login(app, 'dist', `guess-${i}`, '10.1.1.1')).statusCode, 401);
  const limited = await login(app, 'dist', 'owner-pw', '10.1.1.1');
  t.is(limited.statusCode, 429);
  t.is(limited.json().error, 'TOO_MANY_TRIES');
  t.true(Number(limited.headers['retry-after']) > 0);
  t.falsy(limited.headers['set-cookie']);
  t.is((await login(app, 'dist', 'owner-pw', '10.1.1.2')).statusCode, 200);
});

test('changing the owner password ends the sessions logged in with the old one', async (t) => {
  const { app } = await setup(t);
  const ok = await login(app, 'dist', 'owner-pw');
  const headers = { cookie: (ok.headers['set-cookie'] as string).split(';')[0]!, 'x-csrf-token': ok.json<{ csrfToken: string }>().csrfToken };
  t.is((await app.inject({ url: '/api/console/status', headers })).statusCode, 200);
  const change = await app.inject({ method: 'PUT', url: '/api/groups/dist/password', headers: { authorization: basic('dist', 'owner-pw') }, payload: { owner: 'new-owner-pw' } });
  t.is(change.statusCode, 204);
  const after = await app.inject({ url: '/api/console/status', headers });
  t.is(after.statusCode, 401);
  t.is(after.json().error, 'SESSION_ENDED');
  t.regex(after.json().message, /owner password of group 'dist' was changed/);
  t.is((await login(app, 'dist', 'new-owner-pw')).statusCode, 200);
});
