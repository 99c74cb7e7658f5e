// Groups: creation (admin token, or anyone on an --open-groups server; an id that exists is
// refused, never reused), the owner's password change, and the owner's reset of a peer key.
import type { FastifyPluginAsync } from 'fastify';
import { isAdminBearer } from '../admin-token.js';
import type { ServerContext } from '../context.js';
import { GroupDamagedError, GroupExistsError, ServerError } from '../errors.js';
import type { GroupRecord } from '../group-store.js';
import { hashPassword } from '../passwords.js';
import {
  createdGroupSchema,
  createGroupBodySchema,
  createGroupQuerySchema,
  groupParamsSchema,
  noContentSchema,
  passwordChangeBodySchema,
  peerParamsSchema,
  refusalSchemas,
  type CreateGroupBody,
  type CreateGroupQuery,
  type GroupParams,
  type PasswordChangeBody,
  type PeerParams,
} from '../../protocol/index.js';
import { groupAuth } from './common.js';

export const groupRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post<{ Body: CreateGroupBody; Querystring: CreateGroupQuery }>(
    '/api/groups',
    {
      // Checked before the body is read: without the token nothing about the request matters.
      onRequest: async (request) => {
        if (ctx.openGroups || isAdminBearer(request.headers.authorization, ctx.adminToken)) return;
        throw new ServerError(
          'ADMIN_TOKEN_REQUIRED',
          "creating a group needs the server's admin token: send 'Authorization: Bearer <token>' (the token is in the server's admin token file, DATA/admin-token by default)",
        );
      },
      schema: {
        querystring: createGroupQuerySchema,
        body: createGroupBodySchema,
        response: { 201: createdGroupSchema, ...noContentSchema, ...refusalSchemas },
      },
    },
    async (request, reply) => {
      const { id, password, ownerPassword } = request.body;
      // Cheap early answer; the store's atomic create is what actually guarantees uniqueness.
      // A damaged record still holds its id: re-creating it would hide the damage, not repair it.
      const taken = await ctx.store.getGroup(id).catch((err: unknown) => {
        if (err instanceof GroupDamagedError) throw new GroupExistsError(id, ' (its record on the server is damaged; the server operator must restore it)');
        throw err;
      });
      if (taken) throw new GroupExistsError(id);
      // The publisher asks this before reading a DCP for an hour, and creates only after it verified.
      if (request.query.dryRun !== undefined) return reply.code(204).send();
      const [passwordHash, ownerPasswordHash] = await Promise.all([hashPassword(password), hashPassword(ownerPassword)]);
      const record: GroupRecord = { id, passwordHash, ownerPasswordHash, createdAt: ctx.now().toISOString() };
      await ctx.store.createGroup(record);
      ctx.logger.info({ group: id }, 'group created');
      return reply.code(201).send({ id, createdAt: record.createdAt });
    },
  );

  app.put<{ Params: GroupParams; Body: PasswordChangeBody }>(
    '/api/groups/:id/password',
    {
      onRequest: groupAuth(ctx, 'owner'),
      schema: { params: groupParamsSchema, body: passwordChangeBodySchema, response: { ...noContentSchema, ...refusalSchemas } },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { member, owner } = request.body;
      const current = await ctx.auth.group(id);
      const next: GroupRecord = { ...current };
      // A group from before owners keeps its one password as the owner's when only the member one changes.
      if (current.ownerPasswordHash === undefined) next.ownerPasswordHash = current.passwordHash;
      if (member !== undefined) next.passwordHash = await hashPassword(member);
      if (owner !== undefined) next.ownerPasswordHash = await hashPassword(owner);
      await ctx.store.updateGroup(next);
      // Every replica (this one too) drops what it remembered of the old passwords.
      ctx.shared.authChanged(id);
      ctx.logger.info({ group: id, member: member !== undefined, owner: owner !== undefined }, 'group password changed');
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: PeerParams }>(
    '/api/groups/:id/peers/:peer/key',
    { onRequest: groupAuth(ctx, 'owner'), schema: { params: peerParamsSchema, response: { ...noContentSchema, ...refusalSchemas } } },
    async (request, reply) => {
      const { id, peer } = request.params;
      const was = await ctx.peerKeys.reset(id, peer);
      ctx.logger.info({ group: id, peer, wasBound: was }, 'peer key reset');
      return reply.code(204).send();
    },
  );
};
