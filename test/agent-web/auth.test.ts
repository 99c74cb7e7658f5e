// Web password, sessions, CSRF and the read-only mode, against a real agent (its engine running,
// its server absent) behind buildAgentApi, through fastify's inject.
import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildAgentApi } from '../../src/agent/web/api.js';
import { Agent } from '../../src/agent/agent.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, quiet } from '../e2e/rig.js';

const PASSWORD = 'booth-2 projector';

async function realAgent(t: ExecutionContext): Promise<Agent> {
  const root = await tempDir(t, 'cineswarm-web-auth-');
  // Nothing listens on port 9 of 127.0.0.1: the agent runs with its server unreachable.
  const cfg = agentConfig({ id: 'site-auth', server: 'http://127.0.0.1:9', groups: [{ id: 'g1', password: 'x' }], root, pollSeconds: 3600 });
  const agent = new Agent(cfg, quiet);
  await agent.start();
  t.teardown(() => agent.stop());
  return agent;
}

async function app(t: ExecutionContext, password: string | undefined): Promise<{ app: FastifyInstance; agent: Agent }> {
  const agent = await realAgent(t);
  const a = buildAgentApi({ getStatus: () => agent.getStatus(), control: agent, password, logger: quiet, loginLimit: { max: 5, windowMs: 60_000 } });
  t.teardown(() => a.close());
  await a.ready();
  return { app: a, agent };
}

function login(a: FastifyInstance, password: string, remoteAddress = '127.0.0.1') {
  return a.inject({ method: 'POST', url: '/api/login', payload: { password }, remoteAddress });
}

const FAKE_HASH = 'a'.repeat(40);

test('actions without login get 401; wrong passwords are refused, then rate-limited per address with 429', async (t) => {
  const { app: a } = await app(t, PASSWORD);
  const anon = await a.inject({ method: 'POST', url: `/api/torrents/${FAKE_HASH}/pause` });
  t.is(anon.statusCode, 401);
  t.is(anon.json().error, 'LOGIN_REQUIRED');
  t.is((await a.inject({ method: 'POST', url: '/api/poll-now' })).statusCode, 401);

  for (let i = 0; i < 5; i++) {
    const r = await login(a, `guess-${i}`, '10.0.0.7');
    t.is(r.statusCode, 401, `try ${i + 1}`);
    t.is(r.json().error, 'WRONG_PASSWORD');
    t.falsy(r.headers['set-cookie']);
  }
  // The sixth try is refused even with the right password: the guesser learns nothing.
  const limited = await login(a, PASSWORD, '10.0.0.7');
  t.is(limited.statusCode, 429);
  t.is(limited.json().error, 'TOO_MANY_TRIES');
  t.true(Number(limited.headers['retry-after']) > 0);
  t.falsy(limited.headers['set-cookie']);

  // Another address is not punished for the first one's guesses.
  const other = await login(a, PASSWORD, '10.0.0.8');
  t.is(other.statusCode, 200);
});

test('a login gives an HttpOnly SameSite=Strict cookie; actions need its CSRF token as well', async (t) => {
  const { app: a } = await app(t, PASSWORD);
  const ok = await login(a, PASSWORD);
  t.is(ok.statusCode, 200);
  const setCookie = String(ok.headers['set-cookie']);
  t.regex(setCookie, /^cineswarm_session=[A-Za-z0-9_-]{40,};/);
  t.regex(setCookie, /HttpOnly/);
  t.regex(setCookie, /SameSite=Strict/);
  const csrf = ok.json().csrfToken as string;
  t.truthy(csrf);
  const cookie = setCookie.split(';')[0];

  const session = await a.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
  t.deepEqual({ ...session.json(), csrfToken: undefined }, { passwordSet: true, loggedIn: true, actionsAvailable: true, pollIntervalMs: 1000, csrfToken: undefined });
  t.is(session.json().csrfToken, csrf);

  const noToken = await a.inject({ method: 'POST', url: '/api/poll-now', headers: { cookie } });
  t.is(noToken.statusCode, 403);
  t.is(noToken.json().error, 'CSRF');
  const wrongToken = await a.inject({ method: 'POST', url: '/api/poll-now', headers: { cookie, 'x-csrf-token': csrf.slice(1) + 'x' } });
  t.is(wrongToken.statusCode, 403);

  const poll = await a.inject({ method: 'POST', url: '/api/poll-now', headers: { cookie, 'x-csrf-token': csrf } });
  t.is(poll.statusCode, 200, poll.body);
  t.is(poll.json().done, 'poll-now');
  // Through the guard to the real agent, which does not know this torrent.
  const unknown = await a.inject({ method: 'POST', url: `/api/torrents/${FAKE_HASH}/pause`, headers: { cookie, 'x-csrf-token': csrf } });
  t.is(unknown.statusCode, 404);
  t.is(unknown.json().error, 'NOT_FOUND');
  const bad = await a.inject({ method: 'POST', url: '/api/torrents/not-a-hash/pause', headers: { cookie, 'x-csrf-token': csrf } });
  t.is(bad.statusCode, 400);
  // Accepting a re-release: login and CSRF like every action; a name with nothing to accept is a 404.
  t.is((await a.inject({ method: 'POST', url: '/api/accept', payload: { name: 'X_FTR' } })).statusCode, 401);
  t.is((await a.inject({ method: 'POST', url: '/api/accept', payload: { name: 'X_FTR' }, headers: { cookie } })).json().error, 'CSRF');
  const nothing = await a.inject({ method: 'POST', url: '/api/accept', payload: { name: 'X_FTR' }, headers: { cookie, 'x-csrf-token': csrf } });
  t.is(nothing.statusCode, 404);
  t.is(nothing.json().message, 'Nothing to accept for X_FTR: no DCP of that name is here.');
  t.is((await a.inject({ method: 'POST', url: '/api/accept', payload: {}, headers: { cookie, 'x-csrf-token': csrf } })).statusCode, 400);

  const out = await a.inject({ method: 'POST', url: '/api/logout', headers: { cookie } });
  t.is(out.statusCode, 204);
  const after = await a.inject({ method: 'POST', url: '/api/poll-now', headers: { cookie, 'x-csrf-token': csrf } });
  t.is(after.statusCode, 401);
});

test('without a web password the page is read-only and says why', async (t) => {
  const { app: a, agent } = await app(t, '');
  const s = await a.inject({ method: 'GET', url: '/api/session' });
  t.deepEqual(s.json(), { passwordSet: false, loggedIn: false, actionsAvailable: false, pollIntervalMs: 1000 });
  const l = await login(a, '');
  t.is(l.statusCode, 400, 'an empty password is not even a try');
  const l2 = await login(a, 'anything');
  t.is(l2.statusCode, 403);
  t.is(l2.json().error, 'READ_ONLY');
  const act = await a.inject({ method: 'POST', url: '/api/poll-now' });
  t.is(act.statusCode, 403);
  t.regex(act.json().message, /read-only.*web\.password/);

  const status = await a.inject({ method: 'GET', url: '/api/status' });
  t.is(status.statusCode, 200);
  t.is(status.json().id, agent.config.id);
  const page = await a.inject({ method: 'GET', url: '/' });
  t.is(page.statusCode, 200);
  t.regex(String(page.headers['content-security-policy']), /default-src 'none'/);
  // The page loads its script from the agent itself (a module since the page and the CLI share format.js).
  t.regex(page.body, /<script type="module" src="\/app.js"><\/script>/);
  t.is((await a.inject({ method: 'GET', url: '/app.js' })).headers['content-type'], 'text/javascript; charset=utf-8');
  const missing = await a.inject({ method: 'GET', url: '/nope' });
  t.is(missing.statusCode, 404);
  t.is(missing.json().error, 'NOT_FOUND');
});
