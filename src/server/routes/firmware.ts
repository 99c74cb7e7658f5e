// Firmware distribution on the central server: admins upload signed bundles, agents ask for the
// latest version and download it. Bundles are signed by the build machine; agents check the
// signature themselves, so the server only stores and serves them.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readMember } from '../../firmware/archive.js';
import { MANIFEST_NAME, parseManifest } from '../../firmware/manifest.js';
import {
  errorBodySchema,
  FIRMWARE_BUNDLE_TYPE,
  FIRMWARE_SIGNATURE_HEADER,
  firmwareInfoSchema,
  firmwareVersionParamsSchema,
  type FirmwareInfo,
  type FirmwareVersionParams,
} from '../../protocol/index.js';
import { isAdminBearer } from '../admin-token.js';
import type { FirmwareStore } from '../firmware-store.js';

export interface FirmwareRoutesOptions {
  /** where bundles live: DATA/firmware/ or the S3 store's PREFIX/firmware/ */
  store: FirmwareStore;
  /** Token for uploads: the server's admin token (admin-token.ts). */
  adminToken: string;
  /** Largest accepted bundle, in bytes (default 1 GiB). */
  maxBundleBytes?: number;
}

function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}


export const firmwareRoutes: FastifyPluginAsync<FirmwareRoutesOptions> = async (app, opts) => {
  const firmware = opts.store;
  const token = opts.adminToken;
  const maxBytes = opts.maxBundleBytes ?? 1024 ** 3;

  if (!app.hasContentTypeParser(FIRMWARE_BUNDLE_TYPE)) {
    app.addContentTypeParser(FIRMWARE_BUNDLE_TYPE, { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
  }

  /** The newest version whose upload completed (an upload cut short leaves no info). */
  async function latest(): Promise<FirmwareInfo | undefined> {
    for (const v of await firmware.versions()) {
      const i = await firmware.info(v);
      if (i) return i;
    }
    return undefined;
  }
  function isAdmin(req: FastifyRequest): boolean {
    return isAdminBearer(req.headers.authorization, token);
  }

  type Refusal = { status: number; error: string; message: string };
  /** Reads the manifest from a temp copy (tar needs a file), then hands the bundle to the store. */
  async function store(body: Buffer, signature: string): Promise<FirmwareInfo | Refusal> {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-firmware-upload-'));
    let version: string;
    let createdAt: string;
    try {
      const archive = path.join(tmp, 'bundle.tar.gz');
      await fs.writeFile(archive, body);
      ({ version, createdAt } = parseManifest(await readMember(archive, MANIFEST_NAME)));
    } catch (err) {
      return { status: 400, error: 'BAD_BUNDLE', message: `not a cineswarm firmware bundle: ${(err as Error).message}` };
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
    const exists: Refusal = { status: 409, error: 'FIRMWARE_EXISTS', message: `firmware ${version} is already published; build a new version` };
    if (await firmware.info(version)) return exists;
    const i: FirmwareInfo = {
      version, createdAt, size: body.length, sha256: createHash('sha256').update(body).digest('hex'),
      bundleUrl: `/api/firmware/${version}/bundle`, signatureUrl: `/api/firmware/${version}/signature`,
    };
    return (await firmware.add(i, body, signature)) ? i : exists;
  }

  app.get('/api/firmware/latest', { schema: { response: { 200: firmwareInfoSchema, 304: { type: 'null' }, 404: errorBodySchema } } }, async (req, reply) => {
    const i = await latest();
    if (!i) return refuse(reply, 404, 'NO_FIRMWARE', 'no firmware has been published on this server yet');
    const etag = `"${i.version}"`;
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('etag', etag).send(i);
  });

  app.get<{ Params: FirmwareVersionParams }>('/api/firmware/:version/bundle', { schema: { params: firmwareVersionParamsSchema } }, async (req, reply) => {
    const i = await firmware.info(req.params.version);
    const bundle = i && (await firmware.openBundle(i.version));
    if (!i || !bundle) return refuse(reply, 404, 'FIRMWARE_NOT_FOUND', `no firmware ${req.params.version} on this server`);
    return reply.type(FIRMWARE_BUNDLE_TYPE).header('content-length', i.size).send(bundle);
  });

  app.get<{ Params: FirmwareVersionParams }>('/api/firmware/:version/signature', { schema: { params: firmwareVersionParamsSchema } }, async (req, reply) => {
    const signature = await firmware.signature(req.params.version);
    if (signature === undefined) return refuse(reply, 404, 'FIRMWARE_NOT_FOUND', `no firmware ${req.params.version} on this server`);
    return reply.type('text/plain').send(signature + '\n');
  });

  app.post('/api/firmware', { bodyLimit: maxBytes, schema: { response: { 201: firmwareInfoSchema, '4xx': errorBodySchema } } }, async (req, reply) => {
    if (!isAdmin(req)) return refuse(reply, 401, 'BAD_CREDENTIALS', 'uploading firmware needs the admin token (Authorization: Bearer <token>) from the server\'s admin token file (DATA/admin-token by default)');
    if (!Buffer.isBuffer(req.body)) return refuse(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the bundle as ${FIRMWARE_BUNDLE_TYPE}`);
    const signature = String(req.headers[FIRMWARE_SIGNATURE_HEADER] ?? '').trim();
    if (Buffer.from(signature, 'base64').length !== 64) {
      return refuse(reply, 400, 'SIGNATURE_MISSING', 'the X-Cineswarm-Signature header must carry the bundle\'s base64 Ed25519 signature');
    }
    const outcome = await store(req.body, signature);
    if ('error' in outcome) return refuse(reply, outcome.status, outcome.error, outcome.message);
    req.log.info({ version: outcome.version, size: outcome.size }, 'firmware published');
    return reply.code(201).send(outcome);
  });
};

export default firmwareRoutes;
