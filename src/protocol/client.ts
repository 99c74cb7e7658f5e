// The one HTTP client of the central seed server, used by the agent, the publisher and the CLI.
// Each endpoint is one method over `call`, which owns the URL, credentials, timeout and the
// mapping of refusals to ApiError; a new endpoint is a new method of a few lines.
import type { ReadableStream } from 'node:stream/web';
import type { ErrorBody } from './errors.js';
import { FIRMWARE_BUNDLE_TYPE, FIRMWARE_SIGNATURE_HEADER, type FirmwareInfo } from './firmware.js';
import { PEER_HEADER, type CreatedGroup, type CreateGroupBody, type PasswordChangeBody } from './groups.js';
import { KDM_CONTENT_TYPE, PEM_CONTENT_TYPE, type KdmListEntry, type KdmPosted, type KdmReceiptBody } from './kdm.js';
import type { GroupStatus, ReportBody, RosterEntry } from './reports.js';
import { TORRENT_CONTENT_TYPE, type TorrentSummary, type UploadedTorrent } from './torrents.js';

/** How the client tells refusals apart; `error` on the ApiError holds the server's own code. */
export type ApiErrorCode = 'UNAUTHORIZED' | 'NOT_FOUND' | 'UNREACHABLE' | 'CONFLICT' | 'BAD_REQUEST' | 'RATE_LIMITED' | 'SERVER_ERROR';

export interface RefusalDetails {
  /** HTTP status; absent when the server could not be reached */
  status?: number;
  /** the `error` field of the server's refusal, e.g. GROUP_EXISTS */
  error?: string;
  /** the `message` field of the server's refusal, as the server wrote it */
  serverMessage?: string;
  /** seconds from a Retry-After header (429, 503) */
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  readonly status?: number;
  readonly error?: string;
  readonly serverMessage?: string;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    details: RefusalDetails = {},
  ) {
    super(message);
    this.name = 'ApiError';
    Object.assign(this, details);
  }
}

/** A group and one of its passwords, sent as HTTP Basic with user = group id. */
export interface GroupAuth {
  id: string;
  password: string;
}

/** An admin's bearer token (group creation, firmware upload). */
export interface BearerAuth {
  bearer: string;
}

export interface ServerClientOptions {
  /** per-request time limit, default 15 s; streamed downloads take none */
  timeoutMs?: number;
}

export type FirmwareLatest = { state: 'none' } | { state: 'unchanged'; etag: string } | { state: 'offer'; info: FirmwareInfo; etag?: string };

interface Call {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** path below the base URL, starting with '/' */
  path: string;
  query?: Record<string, string | number | undefined>;
  auth?: GroupAuth | BearerAuth;
  headers?: Record<string, string>;
  json?: unknown;
  body?: { type: string; bytes: Uint8Array<ArrayBuffer> | string };
  /** what the call was doing, for error messages ("listing group g1") */
  what: string;
  /** null: no time limit (streams); default: the client's */
  timeoutMs?: number | null;
  signal?: AbortSignal;
}

function authorization(auth: GroupAuth | BearerAuth): string {
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return 'Basic ' + Buffer.from(`${auth.id}:${auth.password}`).toString('base64');
}

function retryAfter(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** `Cineswarm-Peer: <peerId> <peerKey>` for a member request made for one peer. */
function peerHeaders(as: string | undefined): Record<string, string> {
  return as ? { 'cineswarm-peer': as } : {};
}

export class ServerClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly etags = new Map<string, { etag: string; list: TorrentSummary[] }>();
  private peerHeader: string | undefined;

  constructor(baseUrl: string, opts: ServerClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** Requests made as this peer (its torrent, its reports) carry `Cineswarm-Peer: <id> <key>`. */
  setPeer(id: string, key: string): void {
    this.peerHeader = `${id} ${key}`;
  }

  private asPeer(): Record<string, string> {
    return this.peerHeader ? { [PEER_HEADER]: this.peerHeader } : {};
  }

  private url(p: string, query?: Call['query']): string {
    const u = new URL(this.baseUrl + p);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  private async call(c: Call): Promise<Response> {
    const headers: Record<string, string> = { ...c.headers };
    if (c.auth) headers.authorization = authorization(c.auth);
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (c.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.json);
    } else if (c.body) {
      headers['content-type'] = c.body.type;
      body = c.body.bytes;
    }
    const limit = c.timeoutMs === null ? undefined : AbortSignal.timeout(c.timeoutMs ?? this.timeoutMs);
    const signal = limit && c.signal ? AbortSignal.any([limit, c.signal]) : (limit ?? c.signal);
    let res: Response;
    try {
      res = await fetch(this.url(c.path, c.query), { method: c.method ?? 'GET', headers, body, signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError('UNREACHABLE', `cannot reach the server at ${this.baseUrl} (${cause}) while ${c.what}`);
    }
    if (res.ok || res.status === 304) return res;
    throw await this.refusal(res, c.what);
  }

  private async refusal(res: Response, what: string): Promise<ApiError> {
    let refusal: Partial<ErrorBody> = {};
    try {
      refusal = (await res.json()) as Partial<ErrorBody>;
    } catch {
      // a non-JSON refusal (a proxy, an old server): the status line says enough
    }
    const detail = refusal.message ?? '';
    const suffix = detail ? `: ${detail}` : '';
    const make = (code: ApiErrorCode, message: string) =>
      new ApiError(code, message, { status: res.status, error: refusal.error, serverMessage: refusal.message, retryAfterSeconds: retryAfter(res) });
    switch (res.status) {
      case 401:
      case 403:
        return make('UNAUTHORIZED', `the server refused the credentials while ${what}${suffix}`);
      case 404:
        return make('NOT_FOUND', `not found on the server while ${what}${suffix}`);
      case 409:
        return make('CONFLICT', detail || `conflict while ${what}`);
      case 400:
        return make('BAD_REQUEST', `the server rejected the request while ${what}${suffix}`);
      case 429:
        return make('RATE_LIMITED', `the server asks to wait before ${what} again${suffix}`);
      default:
        // 5xx and proxies in front of a dead server: unreachable, for backoff purposes.
        return make(res.status >= 500 ? 'UNREACHABLE' : 'SERVER_ERROR', `server answered ${res.status} while ${what}${suffix}`);
    }
  }

  private group(id: string, rest = ''): string {
    return `/api/groups/${encodeURIComponent(id)}${rest}`;
  }

  /** POST /api/groups (admin token unless the server runs with --open-groups). */
  async createGroup(body: CreateGroupBody, admin?: BearerAuth): Promise<CreatedGroup> {
    const res = await this.call({ method: 'POST', path: '/api/groups', auth: admin, json: body, what: `creating group ${body.id}` });
    return (await res.json()) as CreatedGroup;
  }

  /** POST /api/groups?dryRun=1: whether the server would create this group (token, id free, passwords); creates nothing. */
  async checkCreateGroup(body: CreateGroupBody, admin?: BearerAuth): Promise<void> {
    await this.call({ method: 'POST', path: '/api/groups', query: { dryRun: 1 }, auth: admin, json: body, what: `checking that the server would create group ${body.id}` });
  }

  /** PUT /api/groups/:id/password (owner). */
  async changePassword(owner: GroupAuth, change: PasswordChangeBody): Promise<void> {
    await this.call({ method: 'PUT', path: this.group(owner.id, '/password'), auth: owner, json: change, what: `changing the password of group ${owner.id}` });
  }

  /** DELETE /api/groups/:id/torrents/:name (owner): withdraws a DCP; agents retire it. */
  async withdrawTorrent(owner: GroupAuth, name: string): Promise<void> {
    await this.call({ method: 'DELETE', path: this.group(owner.id, `/torrents/${encodeURIComponent(name)}`), auth: owner, what: `withdrawing ${name} from group ${owner.id}` });
  }

  /** PUT /api/groups/:id/roster (owner). */
  async setRoster(owner: GroupAuth, roster: RosterEntry[]): Promise<void> {
    await this.call({ method: 'PUT', path: this.group(owner.id, '/roster'), auth: owner, json: roster, what: `setting the roster of group ${owner.id}` });
  }

  /** GET /api/groups/:id/roster (owner). */
  async roster(owner: GroupAuth): Promise<RosterEntry[]> {
    const res = await this.call({ path: this.group(owner.id, '/roster'), auth: owner, what: `reading the roster of group ${owner.id}` });
    return (await res.json()) as RosterEntry[];
  }

  /** DELETE /api/groups/:id/peers/:peer/key (owner): the next key used for that peer id is bound. */
  async resetPeerKey(owner: GroupAuth, peer: string): Promise<void> {
    await this.call({ method: 'DELETE', path: this.group(owner.id, `/peers/${encodeURIComponent(peer)}/key`), auth: owner, what: `resetting the key of peer ${peer}` });
  }

  /** GET /api/groups/:id/torrents; answers from the ETag cache on 304 (`changed: false`). */
  /** With `waitSeconds` (and a list already known) a long poll: the server answers at the next change or after the wait. */
  async listTorrents(g: GroupAuth, opts: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<{ list: TorrentSummary[]; changed: boolean }> {
    const cached = this.etags.get(g.id);
    const headers: Record<string, string> = cached ? { 'if-none-match': cached.etag } : {};
    const wait = cached && opts.waitSeconds ? Math.round(opts.waitSeconds) : undefined;
    const res = await this.call({
      path: this.group(g.id, '/torrents'),
      query: { wait },
      auth: g,
      headers,
      what: `listing group ${g.id}`,
      // The server holds a long poll up to the wait: allow for it on top of the usual limit.
      ...(wait ? { timeoutMs: this.timeoutMs + wait * 1000 } : {}),
      signal: opts.signal,
    });
    if (res.status === 304 && cached) return { list: cached.list, changed: false };
    const list = (await res.json()) as TorrentSummary[];
    const etag = res.headers.get('etag');
    if (etag) this.etags.set(g.id, { etag, list });
    return { list, changed: true };
  }

  /** GET /api/groups/:id/torrents/:name?peer=: the torrent whose announce URL carries this peer's passkey. */
  async fetchTorrent(g: GroupAuth, name: string, peer: string): Promise<Buffer> {
    const res = await this.call({
      path: this.group(g.id, `/torrents/${encodeURIComponent(name)}`),
      query: { peer },
      auth: g,
      headers: this.asPeer(),
      what: `fetching ${name} from group ${g.id}`,
    });
    return Buffer.from(await res.arrayBuffer());
  }

  /** POST /api/groups/:id/torrents with the .torrent bytes (owner). */
  async uploadTorrent(g: GroupAuth, bytes: Uint8Array): Promise<UploadedTorrent> {
    const res = await this.call({
      method: 'POST',
      path: this.group(g.id, '/torrents'),
      auth: g,
      body: { type: TORRENT_CONTENT_TYPE, bytes: new Uint8Array(bytes) },
      what: `uploading the torrent to group ${g.id}`,
    });
    return (await res.json()) as UploadedTorrent;
  }

  /** POST /api/groups/:id/reports. */
  async report(g: GroupAuth, body: ReportBody): Promise<void> {
    await this.call({ method: 'POST', path: this.group(g.id, '/reports'), auth: g, headers: this.asPeer(), json: body, what: `reporting ${body.state} to group ${g.id}` });
  }

  /** POST /api/groups/:id/kdms[?peer=] with the KDM XML (owner). */
  async postKdm(g: GroupAuth, xml: Uint8Array, peer?: string): Promise<KdmPosted> {
    const body = { type: KDM_CONTENT_TYPE, bytes: new Uint8Array(xml) };
    const res = await this.call({ method: 'POST', path: this.group(g.id, '/kdms'), query: { peer }, auth: g, body, what: `sending a KDM to group ${g.id}` });
    return (await res.json()) as KdmPosted;
  }

  /** GET /api/groups/:id/kdms[?peer=]: all (owner) or one peer's KDMs with their deliveries. */
  async listKdms(g: GroupAuth, peer?: string, as?: string): Promise<KdmListEntry[]> {
    const res = await this.call({ path: this.group(g.id, '/kdms'), query: { peer }, auth: g, headers: as ? peerHeaders(as) : this.asPeer(), what: `listing the KDMs of group ${g.id}` });
    return (await res.json()) as KdmListEntry[];
  }

  /** GET /api/groups/:id/kdms/:messageId?peer=: the XML, for a peer it is routed to. */
  async fetchKdm(g: GroupAuth, messageId: string, peer: string, as?: string): Promise<Buffer> {
    const res = await this.call({ path: this.group(g.id, `/kdms/${encodeURIComponent(messageId)}`), query: { peer }, auth: g, headers: as ? peerHeaders(as) : this.asPeer(), what: `fetching KDM ${messageId} from group ${g.id}` });
    return Buffer.from(await res.arrayBuffer());
  }

  /** DELETE /api/groups/:id/kdms/:messageId (owner). */
  async deleteKdm(g: GroupAuth, messageId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: this.group(g.id, `/kdms/${encodeURIComponent(messageId)}`), auth: g, what: `withdrawing KDM ${messageId} from group ${g.id}` });
  }

  /** POST /api/groups/:id/kdms/:messageId/receipts. */
  async postKdmReceipt(g: GroupAuth, messageId: string, receipt: KdmReceiptBody, as?: string): Promise<void> {
    await this.call({ method: 'POST', path: this.group(g.id, `/kdms/${encodeURIComponent(messageId)}/receipts`), auth: g, headers: as ? peerHeaders(as) : this.asPeer(), json: receipt, what: `sending the receipt of KDM ${messageId} to group ${g.id}` });
  }

  /** PUT /api/groups/:id/peers/:peer/certificates with PEM text (public certificates only). */
  async putCertificates(g: GroupAuth, peer: string, pem: string, as?: string): Promise<void> {
    const path = this.group(g.id, `/peers/${encodeURIComponent(peer)}/certificates`);
    await this.call({ method: 'PUT', path, auth: g, headers: as ? peerHeaders(as) : this.asPeer(), body: { type: PEM_CONTENT_TYPE, bytes: pem }, what: `registering certificates with group ${g.id}` });
  }

  /** GET /api/groups/:id/status (owner). */
  async groupStatus(g: GroupAuth): Promise<GroupStatus> {
    const res = await this.call({ path: this.group(g.id, '/status'), auth: g, what: `reading the status of group ${g.id}` });
    return (await res.json()) as GroupStatus;
  }

  /** GET /api/firmware/latest, conditional on the ETag of the last answer. */
  async firmwareLatest(etag?: string, signal?: AbortSignal): Promise<FirmwareLatest> {
    let res: Response;
    try {
      res = await this.call({ path: '/api/firmware/latest', headers: etag ? { 'if-none-match': etag } : {}, what: 'checking for firmware', signal });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return { state: 'none' };
      throw err;
    }
    if (res.status === 304 && etag) return { state: 'unchanged', etag };
    return { state: 'offer', info: (await res.json()) as FirmwareInfo, etag: res.headers.get('etag') ?? undefined };
  }

  /** The bundle an offer names, as a stream (no time limit: bundles are large; pass a signal). */
  async firmwareBundle(info: FirmwareInfo, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await this.call({ path: this.sameOrigin(info.bundleUrl), what: `downloading firmware ${info.version}`, timeoutMs: null, signal });
    if (!res.body) throw new ApiError('SERVER_ERROR', `the server sent no body for firmware ${info.version}`, { status: res.status });
    return res.body as ReadableStream<Uint8Array>;
  }

  /** The detached signature of an offered bundle (base64 text). */
  async firmwareSignature(info: FirmwareInfo, signal?: AbortSignal): Promise<string> {
    const res = await this.call({ path: this.sameOrigin(info.signatureUrl), what: `downloading the signature of firmware ${info.version}`, signal });
    return res.text();
  }

  /** POST /api/firmware with a signed bundle (admin token). */
  async publishFirmware(auth: BearerAuth, bundle: Uint8Array, signature: string): Promise<FirmwareInfo> {
    const res = await this.call({
      method: 'POST',
      path: '/api/firmware',
      auth,
      headers: { [FIRMWARE_SIGNATURE_HEADER]: signature },
      body: { type: FIRMWARE_BUNDLE_TYPE, bytes: new Uint8Array(bundle) },
      what: 'publishing firmware',
      timeoutMs: null,
    });
    return (await res.json()) as FirmwareInfo;
  }

  /** The server names bundle URLs by absolute path: keep them on this server, below its base path. */
  private sameOrigin(p: string): string {
    const u = new URL(p, this.baseUrl + '/');
    const base = new URL(this.baseUrl + '/');
    if (u.origin !== base.origin) throw new ApiError('BAD_REQUEST', `the server offered firmware from another host (${u.origin})`);
    return (u.pathname.startsWith(base.pathname) ? u.pathname.slice(base.pathname.length - 1) : u.pathname) + u.search;
  }
}
