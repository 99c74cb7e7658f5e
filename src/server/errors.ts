// Domain errors of the central server and the one place that turns any error into an HTTP
// refusal `{error, message}`: every code maps to exactly one status.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ErrorBody } from '../protocol/index.js';

export type ServerErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_GROUP_ID'
  | 'BAD_PASSWORD'
  | 'BAD_TORRENT'
  | 'BAD_PEER'
  | 'AUTH_REQUIRED'
  | 'BAD_CREDENTIALS'
  | 'ADMIN_TOKEN_REQUIRED'
  | 'OWNER_REQUIRED'
  | 'PEER_KEY_REQUIRED'
  | 'PEER_KEY_MISMATCH'
  | 'GROUP_NOT_FOUND'
  | 'TORRENT_NOT_FOUND'
  | 'NOT_FOUND'
  | 'GROUP_EXISTS'
  | 'TORRENT_EXISTS'
  | 'BAD_KDM'
  | 'BAD_CERTIFICATE'
  | 'KDM_EXISTS'
  | 'KDM_NOT_FOUND'
  | 'NOT_A_RECIPIENT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'STORE_UNAVAILABLE'
  | 'TOO_MANY_FAILURES'
  | 'GROUP_DAMAGED'
  | 'INTERNAL';

const STATUS: Record<ServerErrorCode, number> = {
  BAD_REQUEST: 400,
  BAD_GROUP_ID: 400,
  BAD_PASSWORD: 400,
  BAD_TORRENT: 400,
  BAD_PEER: 400,
  AUTH_REQUIRED: 401,
  BAD_CREDENTIALS: 401,
  ADMIN_TOKEN_REQUIRED: 401,
  OWNER_REQUIRED: 403,
  PEER_KEY_REQUIRED: 400,
  PEER_KEY_MISMATCH: 403,
  GROUP_NOT_FOUND: 404,
  TORRENT_NOT_FOUND: 404,
  NOT_FOUND: 404,
  GROUP_EXISTS: 409,
  TORRENT_EXISTS: 409,
  BAD_KDM: 400,
  BAD_CERTIFICATE: 400,
  KDM_EXISTS: 409,
  KDM_NOT_FOUND: 404,
  NOT_A_RECIPIENT: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORE_UNAVAILABLE: 503,
  TOO_MANY_FAILURES: 429,
  GROUP_DAMAGED: 500,
  INTERNAL: 500,
};

export class ServerError extends Error {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServerError';
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export class GroupExistsError extends ServerError {
  constructor(id: string, note = '') {
    super('GROUP_EXISTS', `the group id '${id}' is already taken${note}; choose another id, or use the existing group with its password`);
  }
}

/** A group's stored record cannot be read as one (edited by hand, a disk error): nothing is
 * guessed from it, and the id stays taken. */
export class GroupDamagedError extends ServerError {
  constructor(id: string, where: string, why: string) {
    super('GROUP_DAMAGED', `the server's record of group '${id}' is damaged (${where}: ${why}); the server operator must restore it from a backup`);
  }
}

export class GroupNotFoundError extends ServerError {
  constructor(id: string) {
    super('GROUP_NOT_FOUND', `there is no group '${id}' on this server; check the group id`);
  }
}

export class TorrentExistsError extends ServerError {
  constructor(group: string, name: string) {
    super('TORRENT_EXISTS', `group '${group}' already has a torrent named '${name}'; it was not replaced`);
  }
}

export class KdmExistsError extends ServerError {
  constructor(group: string, messageId: string) {
    super('KDM_EXISTS', `group '${group}' already holds the KDM ${messageId}; it was not replaced (withdraw it first to send it again)`);
  }
}

export class TorrentNotFoundError extends ServerError {
  constructor(group: string, name: string) {
    super('TORRENT_NOT_FOUND', `group '${group}' has no torrent named '${name}'`);
  }
}

export class BadTorrentError extends ServerError {
  constructor(reason: string) {
    super('BAD_TORRENT', `this is not a usable private torrent: ${reason}`);
  }
}

/** The group store or Redis did not answer: the request may simply be tried again later. */
export class StoreUnavailableError extends ServerError {
  constructor(what: string, cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message || cause.name}` : '';
    super('STORE_UNAVAILABLE', `the server's storage is unavailable right now (${what}${why}); try again shortly`);
    if (cause !== undefined) this.cause = cause;
  }
}

export class TooManyFailuresError extends ServerError {
  constructor(
    by: 'source' | 'group',
    readonly retryAfterSeconds: number,
  ) {
    super(
      'TOO_MANY_FAILURES',
      by === 'source'
        ? `too many wrong passwords from your address; try again in ${retryAfterSeconds} s with the right group password`
        : `too many wrong passwords for this group from many addresses; try again in ${retryAfterSeconds} s`,
    );
  }
}

// Field names that appear in schemas, with the rule a person can act on.
const FIELD_RULES: Record<string, string> = {
  id: "a group id starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'",
  password: 'the password must not be empty (at most 1024 characters)',
  ownerPassword: 'the owner password must not be empty (at most 1024 characters)',
  member: 'the member password must not be empty (at most 1024 characters)',
  owner: 'the owner password must not be empty (at most 1024 characters)',
  peer: "a peer id starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'",
  name: "a torrent name starts with a letter or digit and has at most 200 letters, digits, '.', '_' or '-'",
  infoHash: 'infoHash is the torrent info hash in hex (40 or 64 characters)',
  state: 'state is one of queued, checking, downloading, verifying, ready, seeding, failed, paused, retired',
  progress: 'progress is a number from 0 to 1',
  message: 'message is a text of at most 2000 characters',
  downloadBps: 'downloadBps is a rate in bytes per second (a number, 0 or more)',
  uploadBps: 'uploadBps is a rate in bytes per second (a number, 0 or more)',
  etaSeconds: 'etaSeconds is a number of seconds, 0 or more',
  verify: "verify is {state: none|pending|running|passed|failed, failed: [{path, reason}]} with at most 100 failed files",
  role: "role is 'seeder' or 'cinema'",
  decision: 'decision is a text of at most 200 characters',
};

function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const params = first.params as Record<string, unknown>;
  const path = first.instancePath.replace(/^\//, '');
  // A field missing inside an object (verify.failed) is explained by that object's rule.
  const top = path.split('/')[0] ?? '';
  const field = typeof params.missingProperty === 'string' && top === '' ? params.missingProperty : top;
  if (first.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return `unknown field '${params.additionalProperty}' in the ${err.validationContext ?? 'request'}`;
  }
  const rule = FIELD_RULES[field];
  if (first.keyword === 'required') {
    return `missing '${field}' in the ${err.validationContext ?? 'request'}${rule ? `; ${rule}` : ''}`;
  }
  if (rule) return `bad '${field}': ${rule}`;
  return `${err.validationContext ?? 'request'}${first.instancePath} ${first.message ?? 'is not valid'}`;
}

function codeForValidation(err: FastifyError): ServerErrorCode {
  const first = err.validation?.[0];
  const params = (first?.params ?? {}) as Record<string, unknown>;
  const field = typeof params.missingProperty === 'string' ? params.missingProperty : (first?.instancePath ?? '').replace(/^\//, '');
  if (err.validationContext === 'params' && field === 'id') return 'BAD_CREDENTIALS';
  if (err.validationContext === 'params' && field === 'name') return 'TORRENT_NOT_FOUND';
  if (field === 'id') return 'BAD_GROUP_ID';
  if (['password', 'ownerPassword', 'member', 'owner'].includes(field)) return 'BAD_PASSWORD';
  if (field === 'peer') return 'BAD_PEER';
  return 'BAD_REQUEST';
}

/** Maps any thrown error to `{error, message}` with the status of its code. */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ServerError) return { status: err.status, body: { error: err.code, message: err.message } };
  const fe = err as FastifyError;
  if (fe && fe.validation) {
    const code = codeForValidation(fe);
    // An id or name in the path that cannot exist is simply not found.
    const message =
      code === 'BAD_CREDENTIALS'
        ? 'wrong group id or password'
        : code === 'TORRENT_NOT_FOUND'
          ? 'there is no torrent of that name in this group'
          : validationMessage(fe);
    return { status: STATUS[code], body: { error: code, message } };
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: { error: 'UNSUPPORTED_MEDIA_TYPE', message: `unsupported content type; send JSON, or application/x-bittorrent for a torrent` },
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: { error: 'BAD_REQUEST', message: 'the request body is not valid JSON' } };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: 'BAD_REQUEST', message: fe.message } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'the server failed to handle this request; see the server log' } };
}

export function makeErrorHandler(logger: Logger, onUnavailable: () => void = () => {}) {
  return function handle(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const { status, body } = toErrorReply(err);
    if (status === 503) onUnavailable();
    if (status >= 500) logger.error({ err, url: request.url }, 'request failed');
    if (err instanceof TooManyFailuresError) reply.header('retry-after', String(err.retryAfterSeconds));
    if (body.error === 'AUTH_REQUIRED' || body.error === 'BAD_CREDENTIALS') {
      reply.header('www-authenticate', 'Basic realm="cineswarm group", charset="UTF-8"');
    }
    if (body.error === 'ADMIN_TOKEN_REQUIRED') reply.header('www-authenticate', 'Bearer realm="cineswarm admin"');
    void reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}
