// The distributor console at the server's GET /: static page files, and the small JSON API the
// page uses. Login is the group id with its owner password, checked by the server's own group
// auth (scrypt, failure limits); a session cookie (HttpOnly, SameSite=Strict) then stands for it,
// every call after login carries the session's CSRF token, and a changed owner password ends it.
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { isGroupId, type GroupStatus, type RosterEntry } from '../protocol/index.js';
import { CSRF_HEADER, LoginThrottle, SessionBook, sha256, type LoginLimit, type WebSession } from '../util/web-sessions.js';
import { addPageHeaders, assetDir, serveFiles, SHARED_ASSETS } from '../util/web-static.js';
import { ownerHash } from './auth.js';
import type { ServerContext } from './context.js';
import { ServerError, TooManyFailuresError } from './errors.js';
import { readGroupStatus } from './group-status.js';

export const CONSOLE_COOKIE = 'cineswarm_console';

export interface ConsoleOptions {
  ctx: ServerContext;
  /** how often the page asks for the status again (default 5000 ms) */
  pollIntervalMs?: number;
  /** wrong logins per address before 429 (default 5 a minute), on top of the server's group limits */
  loginLimit?: LoginLimit;
  sessionTtlMs?: number;
}

interface ConsoleSession {
  group: string;
  /** a digest of the owner hash logged in with: a password change ends the session */
  owner: string;
}

/** What the page reads every few seconds. */
export interface ConsoleStatus extends GroupStatus {
  /** the server's clock, so "3 min ago" does not depend on the viewer's clock */
  now: string;
  stalledAfterMinutes: number;
  silentAfterMinutes: number;
  roster: RosterEntry[];
}

const loginBodySchema = {
  type: 'object',
  required: ['group', 'password'],
  properties: { group: { type: 'string', maxLength: 200 }, password: { type: 'string', maxLength: 1024 } },
} as const;

function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

const fingerprint = (hash: string): string => sha256(hash).toString('base64url');

export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { ctx } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? 5000;
  const sessions = new SessionBook<ConsoleSession>(opts.sessionTtlMs ?? 12 * 3600_000, () => ctx.now().getTime());
  const throttle = new LoginThrottle(opts.loginLimit ?? { max: 5, windowMs: 60_000 }, () => ctx.now().getTime());
  const pages = assetDir(import.meta.url, 'console-public', 'index.html');

  await app.register(fastifyCookie);
  addPageHeaders(app);
  serveFiles(app, {
    '/': path.join(pages, 'index.html'),
    '/console.js': path.join(pages, 'console.js'),
    '/console.css': path.join(pages, 'console.css'),
    '/deliveries.js': path.join(assetDir(import.meta.url, '../protocol/web-assets', 'deliveries.js'), 'deliveries.js'),
    ...SHARED_ASSETS,
  });

  const cookie = (req: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https' });

  /** The live session of a request that carries its CSRF token and whose owner password still holds; else refused. */
  const session = async (req: FastifyRequest, reply: FastifyReply): Promise<WebSession<ConsoleSession> | undefined> => {
    const s = sessions.get(req.cookies[CONSOLE_COOKIE]);
    if (!s) {
      refuse(reply, 401, 'LOGIN_REQUIRED', 'Log in with the group id and its owner password.');
      return undefined;
    }
    const presented = req.headers[CSRF_HEADER];
    if (!SessionBook.csrfMatches(s, typeof presented === 'string' ? presented : undefined)) {
      refuse(reply, 403, 'CSRF', 'This request did not come from the console page. Reload the page and try again.');
      return undefined;
    }
    const rec = await ctx.auth.find(s.data.group);
    if (!rec || fingerprint(ownerHash(rec)) !== s.data.owner) {
      sessions.close(s.id);
      reply.clearCookie(CONSOLE_COOKIE, cookie(req));
      refuse(reply, 401, 'SESSION_ENDED', `The owner password of group '${s.data.group}' was changed (or the group is gone). Log in again.`);
      return undefined;
    }
    return s;
  };

  app.get('/api/console/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const s = sessions.get(req.cookies[CONSOLE_COOKIE]);
    return { loggedIn: Boolean(s), pollIntervalMs, ...(s ? { group: s.data.group, csrfToken: s.csrfToken } : {}) };
  });

  app.post<{ Body: { group: string; password: string } }>('/api/console/login', { schema: { body: loginBodySchema } }, async (req, reply) => {
    const { group, password } = req.body;
    const wait = throttle.blockedFor(req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return refuse(reply, 429, 'TOO_MANY_TRIES', `Too many wrong logins from your address. Wait ${wait} seconds and try again.`);
    }
    const wrong = () => {
      throttle.failed(req.ip);
      ctx.logger.warn({ address: req.ip, group: group.slice(0, 64) }, 'console login refused');
      return refuse(reply, 401, 'WRONG_PASSWORD', 'Wrong group id or owner password. The console needs the owner (distributor) password of the group.');
    };
    if (!isGroupId(group) || password === '') return wrong();
    try {
      await ctx.auth.authenticate(group, `Basic ${Buffer.from(`${group}:${password}`).toString('base64')}`, req.ip, 'owner');
    } catch (err) {
      if (err instanceof TooManyFailuresError) {
        reply.header('retry-after', String(err.retryAfterSeconds));
        return refuse(reply, 429, 'TOO_MANY_TRIES', `Too many wrong passwords. Wait ${err.retryAfterSeconds} seconds and try again.`);
      }
      if (err instanceof ServerError && err.code === 'OWNER_REQUIRED') {
        throttle.failed(req.ip);
        return refuse(reply, 403, 'OWNER_REQUIRED', 'That is the member password the cinemas use. The console needs the owner (distributor) password.');
      }
      if (err instanceof ServerError && err.code === 'BAD_CREDENTIALS') return wrong();
      throw err;
    }
    throttle.succeeded(req.ip);
    const rec = await ctx.auth.group(group);
    const s = sessions.open({ group, owner: fingerprint(ownerHash(rec)) });
    ctx.logger.info({ address: req.ip, group }, 'console login');
    reply.setCookie(CONSOLE_COOKIE, s.id, cookie(req));
    reply.header('cache-control', 'no-store');
    return { loggedIn: true, group, csrfToken: s.csrfToken, pollIntervalMs };
  });

  app.post('/api/console/logout', async (req, reply) => {
    const s = await session(req, reply);
    if (!s) return reply;
    sessions.close(s.id);
    reply.clearCookie(CONSOLE_COOKIE, cookie(req));
    return reply.code(204).send();
  });

  app.get('/api/console/status', async (req, reply): Promise<ConsoleStatus | FastifyReply> => {
    const s = await session(req, reply);
    if (!s) return reply;
    reply.header('cache-control', 'no-store');
    const [status, roster] = await Promise.all([readGroupStatus(ctx, s.data.group), ctx.store.readRoster(s.data.group)]);
    return { ...status, now: ctx.now().toISOString(), stalledAfterMinutes: ctx.stalledAfterMinutes, silentAfterMinutes: ctx.silentAfterMinutes, roster };
  });
};
