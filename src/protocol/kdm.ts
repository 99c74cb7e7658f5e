// The KDM part of the server's HTTP API, described once: wire types, JSON schemas, and the client
// calls the distributor's CLI and the cinema agent make.
import type { KdmState } from '../dcp/index.js';

export interface KdmRecipientWire { subject: string; issuer: string; serial: string; dnQualifier: string | null }

/** 201 body of POST /api/groups/:id/kdms */
export interface KdmPosted {
  messageId: string;
  cplId: string;
  title: string | null;
  notValidBefore: string;
  notValidAfter: string;
  recipient: KdmRecipientWire;
  peers: string[];
}

/** Per peer: `routed` until the peer sends a receipt, then the state it judged. */
export interface KdmDelivery {
  peer: string;
  state: 'routed' | KdmState;
  message?: string;
  updatedAt: string;
}

export interface KdmListEntry extends KdmPosted {
  createdAt: string;
  keyCount: number;
  deliveries: KdmDelivery[];
}

export interface KdmReceiptBody { peer: string; state: KdmState; message?: string }

export const KDM_RECEIPT_STATES = [
  'valid', 'waiting-for-dcp', 'not-yet-valid', 'expired', 'not-for-this-server', 'keys-missing',
  'signature-invalid', 'signature-not-checked',
] as const satisfies readonly KdmState[];

const recipientSchema = {
  type: 'object',
  required: ['subject', 'issuer', 'serial', 'dnQualifier'],
  properties: {
    subject: { type: 'string' }, issuer: { type: 'string' }, serial: { type: 'string' },
    dnQualifier: { type: ['string', 'null'] },
  },
} as const;

const postedProps = {
  messageId: { type: 'string' },
  cplId: { type: 'string' },
  title: { type: ['string', 'null'] },
  notValidBefore: { type: 'string' },
  notValidAfter: { type: 'string' },
  recipient: recipientSchema,
  peers: { type: 'array', items: { type: 'string' } },
} as const;

export const kdmPostedSchema = {
  type: 'object',
  required: ['messageId', 'cplId', 'title', 'notValidBefore', 'notValidAfter', 'recipient', 'peers'],
  properties: postedProps,
} as const;

export const kdmListSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: [...kdmPostedSchema.required, 'createdAt', 'keyCount', 'deliveries'],
    properties: {
      ...postedProps,
      createdAt: { type: 'string' },
      keyCount: { type: 'integer' },
      deliveries: {
        type: 'array',
        items: {
          type: 'object',
          required: ['peer', 'state', 'updatedAt'],
          properties: { peer: { type: 'string' }, state: { type: 'string' }, message: { type: 'string' }, updatedAt: { type: 'string' } },
        },
      },
    },
  },
} as const;

export const kdmReceiptSchema = {
  type: 'object',
  required: ['peer', 'state'],
  additionalProperties: false,
  properties: {
    peer: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    state: { type: 'string', enum: [...KDM_RECEIPT_STATES] },
    message: { type: 'string', maxLength: 2000 },
  },
} as const;

/** A refusal from the server, with its `{error, message}`. */
export class KdmApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'KdmApiError';
  }
}

export interface KdmClientOptions {
  server: string;
  group: string;
  password: string;
  /** `Cineswarm-Peer: <peerId> <peerKey>` for requests made for a peer */
  peerHeader?: string;
  signal?: AbortSignal;
}

export class KdmClient {
  constructor(private readonly o: KdmClientOptions) {}

  postKdm(xml: Buffer, peer?: string): Promise<KdmPosted> {
    const q = peer ? `?peer=${encodeURIComponent(peer)}` : '';
    return this.json<KdmPosted>('POST', `/kdms${q}`, { body: xml, type: 'application/xml' });
  }

  listKdms(peer?: string): Promise<KdmListEntry[]> {
    return this.json<KdmListEntry[]>('GET', `/kdms${peer ? `?peer=${encodeURIComponent(peer)}` : ''}`);
  }

  async fetchKdm(messageId: string, peer: string): Promise<Buffer> {
    const res = await this.request('GET', `/kdms/${encodeURIComponent(messageId)}?peer=${encodeURIComponent(peer)}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async deleteKdm(messageId: string): Promise<void> {
    await this.request('DELETE', `/kdms/${encodeURIComponent(messageId)}`);
  }

  async postReceipt(messageId: string, receipt: KdmReceiptBody): Promise<void> {
    await this.request('POST', `/kdms/${encodeURIComponent(messageId)}/receipts`, { body: JSON.stringify(receipt), type: 'application/json' });
  }

  async putCertificates(peer: string, pem: string): Promise<void> {
    await this.request('PUT', `/peers/${encodeURIComponent(peer)}/certificates`, { body: pem, type: 'application/x-pem-file' });
  }

  private async json<T>(method: string, rel: string, body?: { body: Buffer | string; type: string }): Promise<T> {
    const res = await this.request(method, rel, body);
    return (await res.json()) as T;
  }

  private async request(method: string, rel: string, body?: { body: Buffer | string; type: string }): Promise<Response> {
    const url = `${this.o.server.replace(/\/+$/, '')}/api/groups/${encodeURIComponent(this.o.group)}${rel}`;
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${this.o.group}:${this.o.password}`).toString('base64')}`,
    };
    if (this.o.peerHeader) headers['cineswarm-peer'] = this.o.peerHeader;
    if (body) headers['content-type'] = body.type;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: typeof body?.body === 'string' ? body.body : body ? new Uint8Array(body.body) : undefined, signal: this.o.signal ?? AbortSignal.timeout(30_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new KdmApiError(0, 'SERVER_UNREACHABLE', `cannot reach ${this.o.server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (res.ok) return res;
    let code = 'HTTP_ERROR';
    let message = `the server answered ${res.status}`;
    try {
      const b = (await res.json()) as { error?: string; message?: string };
      if (b.error) code = b.error;
      if (b.message) message = b.message;
    } catch {
      // not a JSON refusal; the status says enough
    }
    throw new KdmApiError(res.status, code, message);
  }
}
