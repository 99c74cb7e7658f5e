// The group-auth hooks the group routes share (their schemas live in src/protocol).
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role } from '../auth.js';
import type { ServerContext } from '../context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the role the group credentials proved; set by groupAuth */
    groupRole?: Role;
  }
}

/**
 * Runs before the body is read, so a stranger cannot make the server buffer an upload:
 * 401 without the group's password (or for a group that does not exist), 403 for the member
 * password where the owner's is needed, 429 after too many wrong ones.
 */
export function groupAuth(ctx: ServerContext, need: Role = 'member'): onRequestAsyncHookHandler {
  return async function authenticateGroup(request: FastifyRequest) {
    const { id } = request.params as { id: string };
    request.groupRole = await ctx.auth.authenticate(id, request.headers.authorization, request.ip, need);
  };
}

/** The role groupAuth proved (routes without the hook never call this). */
export function roleOf(request: FastifyRequest): Role {
  if (!request.groupRole) throw new Error('groupAuth did not run for this route');
  return request.groupRole;
}
