// Groups on the wire: creating one, and the `:id` path parameter every group route takes.
import { GROUP_ID_PATTERN } from './names.js';

export interface CreateGroupBody {
  id: string;
  password: string;
}

export interface CreatedGroup {
  id: string;
  createdAt: string;
}

export const createGroupBodySchema = {
  type: 'object',
  required: ['id', 'password'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: GROUP_ID_PATTERN },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

export const createdGroupSchema = {
  type: 'object',
  required: ['id', 'createdAt'],
  properties: { id: { type: 'string' }, createdAt: { type: 'string' } },
} as const;

export interface GroupParams {
  id: string;
}

export const groupParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN } },
} as const;
