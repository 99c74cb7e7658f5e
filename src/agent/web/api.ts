// The agent's local HTTP face: GET /api/status (DESIGN.md "Agent local API"), GET /metrics,
// the status page under /, and the operator actions behind the web password.
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { log as rootLog, type Logger } from '../../util/log.js';
import { addPageHeaders, assetDir, serveFiles, SHARED_ASSETS } from '../../util/web-static.js';
import type { AgentControl, AgentStatus } from '../monitoring/status-types.js';
import { CSRF_HEADER, SESSION_COOKIE, WebAuth, type LoginLimit, type WebSession } from './auth.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { MembershipError } from '../config/membership.js';
import { acceptBodySchema, actionReplySchema, errorSchema, groupParams, leaveQuerySchema, infoHashParams, joinBodySchema, loginBodySchema, sessionSchema, statusSchema } from './schemas.js';

export interface AgentApiOptions {
  getStatus: () => AgentStatus | Promise<AgentStatus>;
  /** absent: the page shows status only */
  control?: AgentControl;
  /** web.password of the config; absent or empty: the page is read-only */
  password?: string;
  logger?: Logger;
  /** wrong passwords per client address before 429; default 5 per minute */
  loginLimit?: LoginLimit;
  sessionTtlMs?: number;
  /** how often the page refreshes; default 1000 ms */
  pollIntervalMs?: number;
  /** where index.html, app.js, app.css live; default: public/ beside this module's source */
  publicDir?: string;
  /** join and leave groups (the agent rewrites its config file); absent: not offered */
  membership?: MembershipControl;
}

export interface MembershipControl {
  join(g: { id: string; password: string }): Promise<string>;
  /** deleteFiles: `leave --delete`, the group's DCPs are removed rather than kept as retired */
  leave(id: string, o?: { deleteFiles?: boolean }): Promise<string>;
}

type Action = 'pause' | 'resume' | 'reverify';

/** The agent's own page files beside the source; the shared ones (format.js, base.css, favicon) come from util. */
function pageFiles(dir: string): Record<string, string> {
  return {
    '/': path.join(dir, 'index.html'),
    '/app.js': path.join(dir, 'app.js'),
    '/app.css': path.join(dir, 'app.css'),
    ...SHARED_ASSETS,
  };
}

function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

const ACTION_WORDS: Record<Action, string> = {
  pause: 'Paused',
  resume: 'Resumed',
  reverify: 'Checking the DCP again',
};

export function buildAgentApi(opts: AgentApiOptions): FastifyInstance {
  const logger = opts.logger ?? rootLog.child({ component: 'web' });
  // Requests are not logged one by one: the page polls every second.
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  const auth = new WebAuth(opts.password, opts.loginLimit, opts.sessionTtlMs);
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'strict' as const };

  void app.register(fastifyCookie);
  void app.register(fastifyFormbody);

  addPageHeaders(app);

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return refuse(reply, 400, 'BAD_REQUEST', err.message);
    if (err.statusCode && err.statusCode < 500) return refuse(reply, err.statusCode, err.code ?? 'BAD_REQUEST', err.message);
    if (err.code === 'NOT_FOUND') return refuse(reply, 404, 'NOT_FOUND', err.message);
    if (err.code) return refuse(reply, 409, err.code, err.message);
    logger.error({ err }, 'web request failed');
    return refuse(reply, 500, 'INTERNAL', 'The agent could not do that; see its log.');
  });

  app.setNotFoundHandler((req, reply) => refuse(reply, 404, 'NOT_FOUND', `Nothing at ${req.url} on this agent; the status page is at /.`));

  serveFiles(app, pageFiles(opts.publicDir ?? assetDir(import.meta.url, 'public', 'index.html')));

  app.get('/api/status', { schema: { response: { 200: statusSchema } } }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return opts.getStatus();
  });

  app.get('/metrics', async (_req, reply) => {
    const status = await opts.getStatus();
    return reply.header('content-type', METRICS_CONTENT_TYPE).send(renderMetrics(status));
  });

  const sessionOf = (req: FastifyRequest): WebSession | undefined => auth.session(req.cookies[SESSION_COOKIE]);

  app.get('/api/session', { schema: { response: { 200: sessionSchema } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const s = auth.passwordSet ? sessionOf(req) : undefined;
    return {
      passwordSet: auth.passwordSet,
      loggedIn: Boolean(s),
      actionsAvailable: auth.passwordSet && Boolean(opts.control),
      pollIntervalMs,
      ...(s ? { csrfToken: s.csrfToken } : {}),
    };
  });

  app.post<{ Body: { password: string } }>(
    '/api/login',
    { schema: { body: loginBodySchema, response: { 200: sessionSchema, '4xx': errorSchema } } },
    async (req, reply) => {
      if (!auth.passwordSet) return refuse(reply, 403, 'READ_ONLY', readOnlyMessage);
      const result = auth.login(req.body.password, req.ip);
      if (!result.ok && result.reason === 'rate-limited') {
        logger.warn({ address: req.ip }, 'web login refused: too many wrong passwords from this address');
        reply.header('retry-after', String(result.retryAfterSeconds));
        return refuse(reply, 429, 'TOO_MANY_TRIES', `Too many wrong passwords. Wait ${result.retryAfterSeconds} seconds and try again.`);
      }
      if (!result.ok) {
        logger.warn({ address: req.ip }, 'web login refused: wrong password');
        return refuse(reply, 401, 'WRONG_PASSWORD', 'Wrong password.');
      }
      logger.info({ address: req.ip }, 'web login');
      reply.setCookie(SESSION_COOKIE, result.session.id, cookieBase);
      return { passwordSet: true, loggedIn: true, actionsAvailable: Boolean(opts.control), csrfToken: result.session.csrfToken, pollIntervalMs };
    },
  );

  app.post('/api/logout', async (req, reply) => {
    auth.logout(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, cookieBase);
    return reply.code(204).send();
  });

  /** A password set, a live session and its CSRF token; false when refused (reply sent). */
  const loggedIn = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (!auth.passwordSet) {
      refuse(reply, 403, 'READ_ONLY', readOnlyMessage);
      return false;
    }
    const s = sessionOf(req);
    if (!s) {
      refuse(reply, 401, 'LOGIN_REQUIRED', 'Log in with the web password first.');
      return false;
    }
    const presented = req.headers[CSRF_HEADER];
    if (!WebAuth.csrfMatches(s, typeof presented === 'string' ? presented : undefined)) {
      refuse(reply, 403, 'CSRF', 'This request did not come from the status page. Reload the page and try again.');
      return false;
    }
    return true;
  };

  /** Lets an action through only when logged in (see loggedIn) and the agent takes actions. */
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<AgentControl | undefined> => {
    if (!loggedIn(req, reply)) return undefined;
    if (!opts.control) {
      refuse(reply, 503, 'NOT_AVAILABLE', 'Actions are not available on this agent.');
      return undefined;
    }
    return opts.control;
  };

  app.post<{ Params: { infoHash: string; action: Action } }>(
    '/api/torrents/:infoHash/:action',
    { schema: { params: infoHashParams, response: { 200: actionReplySchema, '4xx': errorSchema, '5xx': errorSchema } } },
    async (req, reply) => {
      const control = await guard(req, reply);
      if (!control) return reply;
      const infoHash = req.params.infoHash.toLowerCase();
      const { action } = req.params;
      await control[action](infoHash);
      logger.info({ infoHash, action, address: req.ip }, `web action: ${action} ${infoHash}`);
      return { done: action, message: `${ACTION_WORDS[action]}.` };
    },
  );

  app.post<{ Body: { name: string } }>(
    '/api/accept',
    { schema: { body: acceptBodySchema, response: { 200: actionReplySchema, '4xx': errorSchema, '5xx': errorSchema } } },
    async (req, reply) => {
      const control = await guard(req, reply);
      if (!control) return reply;
      if (!control.accept) return refuse(reply, 503, 'NOT_AVAILABLE', 'Accepting re-releases is not available on this agent.');
      const message = await control.accept(req.body.name);
      logger.info({ name: req.body.name, address: req.ip }, `web action: accept ${req.body.name}`);
      return { done: 'accept', message };
    },
  );

  app.post('/api/poll-now', { schema: { response: { 200: actionReplySchema, '4xx': errorSchema, '5xx': errorSchema } } }, async (req, reply) => {
    const control = await guard(req, reply);
    if (!control) return reply;
    await control.pollNow();
    logger.info({ address: req.ip }, 'web action: poll now');
    return { done: 'poll-now', message: 'Asked the server for new DCPs.' };
  });

  const membership = async (req: FastifyRequest, reply: FastifyReply, work: (m: MembershipControl) => Promise<string>, done: string) => {
    if (!loggedIn(req, reply)) return reply;
    if (!opts.membership) return refuse(reply, 503, 'NOT_AVAILABLE', 'Joining and leaving groups is not available on this agent.');
    try {
      const message = await work(opts.membership);
      logger.info({ address: req.ip, done }, `web action: ${message}`);
      return { done, message };
    } catch (err) {
      if (!(err instanceof MembershipError)) throw err;
      if (err.retryAfterSeconds) reply.header('retry-after', String(err.retryAfterSeconds));
      return refuse(reply, err.status, err.code, err.message);
    }
  };

  app.post<{ Body: { id: string; password: string } }>(
    '/api/groups',
    { schema: { body: joinBodySchema, response: { 200: actionReplySchema, '4xx': errorSchema, '5xx': errorSchema } } },
    async (req, reply) => membership(req, reply, (m) => m.join({ id: req.body.id, password: req.body.password }), 'join'),
  );

  app.delete<{ Params: { id: string }; Querystring: { delete?: boolean } }>(
    '/api/groups/:id',
    { schema: { params: groupParams, querystring: leaveQuerySchema, response: { 200: actionReplySchema, '4xx': errorSchema, '5xx': errorSchema } } },
    async (req, reply) => membership(req, reply, (m) => m.leave(req.params.id, { deleteFiles: req.query.delete === true }), 'leave'),
  );

  return app;
}

const readOnlyMessage = 'This page is read-only: no web password is set in the agent config (web.password). Set one to allow actions.';
