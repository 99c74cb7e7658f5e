// HTTP client of the central seed server for one agent: group-scoped Basic auth, ETag
// conditional listing, and typed errors the poller can tell apart (unauthorized / not found / unreachable).

export interface RemoteTorrent {
  name: string;
  infoHash: string;
  size: number;
  createdAt: string;
}

export interface ReportBody {
  peer: string;
  infoHash: string;
  state: string;
  progress: number;
  message?: string;
}

export type ServerErrorCode = 'UNAUTHORIZED' | 'NOT_FOUND' | 'UNREACHABLE' | 'CONFLICT' | 'BAD_REQUEST' | 'SERVER_ERROR';

export class ServerError extends Error {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ServerError';
  }
}

export interface GroupAuth {
  id: string;
  password: string;
}

export class ServerClient {
  private readonly etags = new Map<string, { etag: string; list: RemoteTorrent[] }>();

  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 15_000,
  ) {}

  private auth(g: GroupAuth): string {
    return 'Basic ' + Buffer.from(`${g.id}:${g.password}`).toString('base64');
  }

  private async request(url: string, init: RequestInit, what: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ServerError('UNREACHABLE', `cannot reach the server at ${this.baseUrl} (${cause}) while ${what}`);
    }
    if (res.ok || res.status === 304) return res;
    let detail = '';
    try {
      const body = (await res.json()) as { message?: string };
      detail = body.message ?? '';
    } catch {
      // a non-JSON refusal: the status line says enough
    }
    const suffix = detail ? `: ${detail}` : '';
    switch (res.status) {
      case 401:
      case 403:
        throw new ServerError('UNAUTHORIZED', `the server refused the group password while ${what}${suffix}`, res.status);
      case 404:
        throw new ServerError('NOT_FOUND', `not found on the server while ${what}${suffix}`, res.status);
      case 409:
        throw new ServerError('CONFLICT', detail || `conflict while ${what}`, res.status);
      case 400:
        throw new ServerError('BAD_REQUEST', `the server rejected the request while ${what}${suffix}`, res.status);
      default:
        // 5xx and proxies in front of a dead server: treat as unreachable for backoff purposes.
        throw new ServerError(res.status >= 500 ? 'UNREACHABLE' : 'SERVER_ERROR', `server answered ${res.status} while ${what}${suffix}`, res.status);
    }
  }

  private groupUrl(groupId: string, rest = ''): string {
    return `${this.baseUrl}/api/groups/${encodeURIComponent(groupId)}${rest}`;
  }

  /** Lists a group's torrents; answers from the ETag cache on 304. */
  async listTorrents(g: GroupAuth): Promise<{ list: RemoteTorrent[]; changed: boolean }> {
    const cached = this.etags.get(g.id);
    const headers: Record<string, string> = { authorization: this.auth(g) };
    if (cached) headers['if-none-match'] = cached.etag;
    const res = await this.request(this.groupUrl(g.id, '/torrents'), { headers }, `listing group ${g.id}`);
    if (res.status === 304 && cached) return { list: cached.list, changed: false };
    const list = (await res.json()) as RemoteTorrent[];
    const etag = res.headers.get('etag');
    if (etag) this.etags.set(g.id, { etag, list });
    return { list, changed: true };
  }

  /** Fetches the torrent personalised for this peer (the announce URL carries our passkey). */
  async fetchTorrent(g: GroupAuth, name: string, peer: string): Promise<Buffer> {
    const url = this.groupUrl(g.id, `/torrents/${encodeURIComponent(name)}?peer=${encodeURIComponent(peer)}`);
    const res = await this.request(url, { headers: { authorization: this.auth(g) } }, `fetching ${name} from group ${g.id}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async report(g: GroupAuth, body: ReportBody): Promise<void> {
    await this.request(
      this.groupUrl(g.id, '/reports'),
      { method: 'POST', headers: { authorization: this.auth(g), 'content-type': 'application/json' }, body: JSON.stringify(body) },
      `reporting ${body.state} to group ${g.id}`,
    );
  }

  async createGroup(g: GroupAuth): Promise<void> {
    await this.request(
      `${this.baseUrl}/api/groups`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: g.id, password: g.password }) },
      `creating group ${g.id}`,
    );
  }

  async uploadTorrent(g: GroupAuth, bytes: Buffer): Promise<{ name: string; infoHash: string; size: number }> {
    const res = await this.request(
      this.groupUrl(g.id, '/torrents'),
      { method: 'POST', headers: { authorization: this.auth(g), 'content-type': 'application/x-bittorrent' }, body: new Uint8Array(bytes) },
      `uploading the torrent to group ${g.id}`,
    );
    return (await res.json()) as { name: string; infoHash: string; size: number };
  }

  async groupStatus(g: GroupAuth): Promise<unknown> {
    const res = await this.request(this.groupUrl(g.id, '/status'), { headers: { authorization: this.auth(g) } }, `reading the status of group ${g.id}`);
    return res.json();
  }
}
