// KDMs of a group: the distributor uploads them, the server routes each to the peer named or to every
// peer whose registered certificate is its recipient, peers fetch their own and send receipts.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DcpError, MAX_KDM_BYTES, parseKdm, parsePemCertificates, type KdmFacts } from '../../dcp/index.js';
import { kdmListSchema, kdmPostedSchema, kdmReceiptSchema, type KdmDelivery, type KdmListEntry, type KdmPosted, type KdmReceiptBody } from '../../protocol/kdm.js';
import type { ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import type { KdmRecord } from '../group-store.js';
import { errorBodySchema, GROUP_ID_PATTERN, groupParamsSchema, PEER_ID_PATTERN, refusalSchemas } from '../../protocol/index.js';
import { groupAuth, roleOf } from './common.js';
import { peersForRecipient } from './kdm-routing.js';

const MESSAGE_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const MAX_PEM_BYTES = 256 * 1024;

const kdmParams = {
  type: 'object',
  required: ['id', 'messageId'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN }, messageId: { type: 'string', pattern: MESSAGE_ID_PATTERN } },
} as const;
const peerParams = {
  type: 'object',
  required: ['id', 'peer'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN }, peer: { type: 'string', pattern: PEER_ID_PATTERN } },
} as const;
const peerQuery = { type: 'object', additionalProperties: false, properties: { peer: { type: 'string', pattern: PEER_ID_PATTERN } } } as const;
const kdmRefusals = { ...refusalSchemas, 403: errorBodySchema, 413: errorBodySchema, 415: errorBodySchema } as const;

export function posted(r: KdmRecord): KdmPosted {
  return { messageId: r.messageId, cplId: r.cplId, title: r.title, notValidBefore: r.notValidBefore, notValidAfter: r.notValidAfter, recipient: r.recipient, peers: r.peers };
}

function listEntry(r: KdmRecord, onlyPeer?: string): KdmListEntry {
  const deliveries: KdmDelivery[] = r.peers
    .filter((p) => onlyPeer === undefined || p === onlyPeer)
    .map((peer) => ({ peer, ...(r.receipts[peer] ?? { state: 'routed' as const, updatedAt: r.createdAt }) }) as KdmDelivery);
  return { ...posted(r), createdAt: r.createdAt, keyCount: r.keyCount, deliveries };
}

function recordOf(facts: KdmFacts, peer: string | null, peers: string[]): KdmRecord {
  return {
    messageId: facts.messageId, cplId: facts.cplId, title: facts.title,
    notValidBefore: facts.notValidBefore, notValidAfter: facts.notValidAfter,
    recipient: facts.recipient, keyCount: facts.keys.length, createdAt: new Date().toISOString(),
    peer, peers, receipts: {},
  };
}

export const kdmRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const onRequest = groupAuth(ctx);
  const ownerOnly = groupAuth(ctx, 'owner');
  // Member requests act for one peer and must carry its Cineswarm-Peer key; the owner may act for any.
  const asPeer = (request: FastifyRequest, group: string, peer: string) => ctx.peerKeys.check(group, peer, roleOf(request), request.headers);
  const store = ctx.store.kdms;
  const bytes = (limit: number) => ({ parseAs: 'buffer' as const, bodyLimit: limit });
  app.addContentTypeParser(['application/xml', 'text/xml'], bytes(MAX_KDM_BYTES), (_r, body, done) => done(null, body));
  app.addContentTypeParser(['application/x-pem-file', 'application/pem-certificate-chain'], bytes(MAX_PEM_BYTES), (_r, body, done) => done(null, body));
  // One lock per group: routing reads every peer's certificates, receipts rewrite one record.
  const locked = <T>(group: string, fn: () => Promise<T>): Promise<T> => ctx.reportLocks.run(`kdm/${group}`, fn);

  app.post<{ Params: { id: string }; Querystring: { peer?: string } }>(
    '/api/groups/:id/kdms',
    { onRequest: ownerOnly, bodyLimit: MAX_KDM_BYTES, schema: { params: groupParamsSchema, querystring: peerQuery, response: { 201: kdmPostedSchema, ...kdmRefusals } } },
    async (request, reply) => {
      const group = request.params.id;
      const xml = bodyBytes(request, 'send the KDM XML itself as the body, with content type application/xml');
      let facts: KdmFacts;
      try {
        facts = parseKdm(xml, 'the KDM');
      } catch (err) {
        if (err instanceof DcpError) throw new ServerError('BAD_KDM', err.message);
        throw err;
      }
      const peer = request.query.peer ?? null;
      const record = await locked(group, async () => {
        const peers = peer !== null ? [peer] : await peersForRecipient(store, group, facts.recipient);
        const rec = recordOf(facts, peer, peers);
        await store.addKdm(group, rec, xml);
        return rec;
      });
      ctx.logger.info({ group, messageId: record.messageId, peers: record.peers }, 'KDM stored');
      return reply.code(201).send(posted(record));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { peer?: string } }>(
    '/api/groups/:id/kdms',
    { onRequest, schema: { params: groupParamsSchema, querystring: peerQuery, response: { 200: kdmListSchema, ...kdmRefusals } } },
    async (request) => {
      const { peer } = request.query;
      if (roleOf(request) !== 'owner') {
        if (peer === undefined) throw new ServerError('NOT_A_RECIPIENT', 'a member lists the KDMs of one peer: add ?peer=ID and its Cineswarm-Peer header; the owner sees all');
        await asPeer(request, request.params.id, peer);
      }
      const all = await store.listKdms(request.params.id);
      return all.filter((r) => peer === undefined || r.peers.includes(peer)).map((r) => listEntry(r, peer));
    },
  );

  app.get<{ Params: { id: string; messageId: string }; Querystring: { peer?: string } }>(
    '/api/groups/:id/kdms/:messageId',
    { onRequest, schema: { params: kdmParams, querystring: peerQuery } },
    async (request, reply) => {
      const { id, messageId } = request.params;
      const rec = await needRecord(id, messageId);
      const { peer } = request.query;
      if (peer !== undefined) await asPeer(request, id, peer);
      if (peer === undefined || !rec.peers.includes(peer)) {
        throw new ServerError('NOT_A_RECIPIENT', `the KDM ${messageId} is not routed to ${peer === undefined ? 'an unnamed peer (add ?peer=ID)' : `peer '${peer}'`}`);
      }
      const xml = await store.readKdm(id, messageId);
      if (!xml) throw new ServerError('KDM_NOT_FOUND', `group '${id}' holds no KDM ${messageId}`);
      return reply.type('application/xml').send(xml);
    },
  );

  app.delete<{ Params: { id: string; messageId: string } }>(
    '/api/groups/:id/kdms/:messageId',
    { onRequest: ownerOnly, schema: { params: kdmParams, response: { 204: { type: 'null' }, ...kdmRefusals } } },
    async (request, reply) => {
      const { id, messageId } = request.params;
      if (!(await locked(id, () => store.removeKdm(id, messageId)))) throw new ServerError('KDM_NOT_FOUND', `group '${id}' holds no KDM ${messageId}`);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string; messageId: string }; Body: KdmReceiptBody }>(
    '/api/groups/:id/kdms/:messageId/receipts',
    { onRequest, schema: { params: kdmParams, body: kdmReceiptSchema, response: { 204: { type: 'null' }, ...kdmRefusals } } },
    async (request, reply) => {
      const { id, messageId } = request.params;
      const { peer, state, message } = request.body;
      await asPeer(request, id, peer);
      await locked(id, async () => {
        const rec = await needRecord(id, messageId);
        if (!rec.peers.includes(peer)) throw new ServerError('NOT_A_RECIPIENT', `the KDM ${messageId} is not routed to peer '${peer}'`);
        rec.receipts[peer] = { state, ...(message !== undefined ? { message } : {}), updatedAt: new Date().toISOString() };
        await store.writeKdmRecord(id, rec);
      });
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { id: string; peer: string } }>(
    '/api/groups/:id/peers/:peer/certificates',
    { onRequest, bodyLimit: MAX_PEM_BYTES, schema: { params: peerParams, response: { 204: { type: 'null' }, ...kdmRefusals } } },
    async (request, reply) => {
      const { id, peer } = request.params;
      await asPeer(request, id, peer);
      const text = bodyBytes(request, 'send the PEM certificates as the body, with content type application/x-pem-file').toString('utf8');
      let blocks: string[];
      try {
        blocks = parsePemCertificates(text, 'the body').map((c) => c.toString());
      } catch (err) {
        if (err instanceof DcpError) throw new ServerError('BAD_CERTIFICATE', err.message);
        throw err;
      }
      await locked(id, async () => {
        await store.writePeerCertificates(id, peer, blocks);
        // KDMs that arrived before this peer said who it is are routed to it now.
        for (const rec of await store.listKdms(id)) {
          if (rec.peer !== null || rec.peers.includes(peer)) continue;
          if ((await peersForRecipient(store, id, rec.recipient, [peer])).length === 0) continue;
          rec.peers = [...rec.peers, peer].sort();
          await store.writeKdmRecord(id, rec);
        }
      });
      return reply.code(204).send();
    },
  );

  async function needRecord(group: string, messageId: string): Promise<KdmRecord> {
    const rec = await store.readKdmRecord(group, messageId);
    if (!rec) throw new ServerError('KDM_NOT_FOUND', `group '${group}' holds no KDM ${messageId}`);
    return rec;
  }
};

function bodyBytes(request: FastifyRequest, hint: string): Buffer {
  const body: unknown = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ServerError('BAD_REQUEST', `the body is empty or of the wrong type; ${hint}`);
  return body;
}
