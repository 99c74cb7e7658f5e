// One log line per answered request (method, path without passkeys, status, ms, group and peer
// where known) and the request counter of /metrics. Tracker announces and conditional polls
// answered 304 arrive by the thousand: they go at debug level, and are counted like the rest.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ServerMetrics } from './metrics.js';
import { readPasskey } from './passkey.js';

/** The path as logged: no query string (it may carry a wait or a raw info hash), no passkey. */
export function loggedPath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/(announce|scrape)\/[^/]+/, '/$1/<passkey>');
}

function field(o: unknown, key: string): string | undefined {
  const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v.length > 0 && v.length <= 64 ? v : undefined;
}

/** The cineswarm peer a request speaks for: the passkey's owner, a :peer or ?peer=, a report's body. */
function peerOf(request: FastifyRequest, secret: string): string | undefined {
  const passkey = field(request.params, 'passkey');
  if (passkey) return readPasskey(secret, passkey)?.peer;
  return field(request.params, 'peer') ?? field(request.query, 'peer') ?? field(request.body, 'peer');
}

/** The onResponse hook that logs and counts every answered request. */
export function accessLogHook(logger: Logger, metrics: ServerMetrics, secret: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const access = logger;
  return async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.countRequest(request.method, route, status);
    const quiet = status === 304 || route === '/announce/:passkey' || route === '/scrape/:passkey';
    const level = quiet ? 'debug' : 'info';
    if (!access.isLevelEnabled(level)) return;
    const line: Record<string, unknown> = { method: request.method, path: loggedPath(request.url), status, ms: Math.round(reply.elapsedTime * 10) / 10 };
    const group = field(request.params, 'id');
    if (group) line.group = group;
    const peer = peerOf(request, secret);
    if (peer) line.peer = peer;
    access[level](line, 'request');
  };
}
