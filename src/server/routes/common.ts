// Pieces the group routes share: the group-auth hook and the schemas of path parameters.
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorBodySchema } from '../errors.js';
import { GROUP_ID_PATTERN } from '../names.js';

export const groupParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN } },
} as const;

export const refusals = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  429: errorBodySchema,
} as const;

/**
 * Runs before the body is read, so a stranger cannot make the server buffer an upload:
 * 401 without the group's password (or for a group that does not exist), 429 after too many wrong ones.
 */
export function groupAuth(ctx: ServerContext): onRequestAsyncHookHandler {
  return async function authenticateGroup(request: FastifyRequest) {
    const { id } = request.params as { id: string };
    await ctx.auth.authenticate(id, request.headers.authorization, request.ip);
  };
}
