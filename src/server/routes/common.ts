// The group-auth hook the group routes share (their schemas live in src/protocol).
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ServerContext } from '../context.js';

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
