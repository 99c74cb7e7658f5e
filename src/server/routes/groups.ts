// POST /api/groups: the initiator creates a group; an id that exists is refused, never reused.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { GroupExistsError } from '../errors.js';
import { createdGroupSchema, createGroupBodySchema, refusalSchemas, type CreateGroupBody } from '../../protocol/index.js';
import { hashPassword } from '../passwords.js';

export const groupRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post<{ Body: CreateGroupBody }>(
    '/api/groups',
    {
      schema: {
        body: createGroupBodySchema,
        response: { 201: createdGroupSchema, ...refusalSchemas },
      },
    },
    async (request, reply) => {
      const { id, password } = request.body;
      // Cheap early answer; the store's atomic create is what actually guarantees uniqueness.
      if (await ctx.store.getGroup(id)) throw new GroupExistsError(id);
      const record = { id, passwordHash: await hashPassword(password), createdAt: new Date().toISOString() };
      await ctx.store.createGroup(record);
      ctx.logger.info({ group: id }, 'group created');
      return reply.code(201).send({ id, createdAt: record.createdAt });
    },
  );
};
