// POST /api/groups: the initiator creates a group; an id that exists is refused, never reused.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { GroupExistsError } from '../errors.js';
import { GROUP_ID_PATTERN } from '../names.js';
import { hashPassword } from '../passwords.js';
import { refusals } from './common.js';

interface CreateBody {
  id: string;
  password: string;
}

export const groupRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post<{ Body: CreateBody }>(
    '/api/groups',
    {
      schema: {
        body: {
          type: 'object',
          required: ['id', 'password'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: GROUP_ID_PATTERN },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'createdAt'],
            properties: { id: { type: 'string' }, createdAt: { type: 'string' } },
          },
          ...refusals,
        },
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
