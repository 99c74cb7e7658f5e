// The KDM part of the server's HTTP API, described once: wire types and JSON schemas (the calls
// are methods of the one ServerClient).
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

export const KDM_CONTENT_TYPE = 'application/xml';
export const PEM_CONTENT_TYPE = 'application/x-pem-file';
