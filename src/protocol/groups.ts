// Groups on the wire: creating one (with its member and owner passwords), the owner's password
// change, and the `:id` path parameter every group route takes.
import { GROUP_ID_PATTERN, PEER_ID_PATTERN } from './names.js';

export interface CreateGroupBody {
  id: string;
  /** the member password, shared with the cinemas */
  password: string;
  /** the owner password, the distributor's alone */
  ownerPassword: string;
}

export interface CreatedGroup {
  id: string;
  createdAt: string;
}

const passwordField = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const createGroupBodySchema = {
  type: 'object',
  required: ['id', 'password', 'ownerPassword'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: GROUP_ID_PATTERN },
    password: passwordField,
    ownerPassword: passwordField,
  },
} as const;

/** `?dryRun=1`: the server checks the admin token, the id and the passwords and creates nothing (204). */
export const createGroupQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { dryRun: { type: 'string', enum: ['1', 'true'] } },
} as const;

export interface CreateGroupQuery {
  dryRun?: '1' | 'true';
}

export const createdGroupSchema = {
  type: 'object',
  required: ['id', 'createdAt'],
  properties: { id: { type: 'string' }, createdAt: { type: 'string' } },
} as const;

/** PUT /api/groups/:id/password (owner): either password or both. */
export interface PasswordChangeBody {
  member?: string;
  owner?: string;
}

export const passwordChangeBodySchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { member: passwordField, owner: passwordField },
} as const;

export interface GroupParams {
  id: string;
}

export const groupParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN } },
} as const;

export interface PeerParams {
  id: string;
  peer: string;
}

export const peerParamsSchema = {
  type: 'object',
  required: ['id', 'peer'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN }, peer: { type: 'string', pattern: PEER_ID_PATTERN } },
} as const;

/** The header a member request made for one peer carries: `<peerId> <peerKey>`. */
export const PEER_HEADER = 'cineswarm-peer';
export const PEER_KEY_PATTERN = '^[A-Za-z0-9_-]{16,256}$';

export const noContentSchema = { 204: { type: 'null', description: 'done' } } as const;
