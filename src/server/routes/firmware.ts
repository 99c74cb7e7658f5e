// Firmware distribution on the central server: admins upload signed bundles, agents ask for the
// latest version and download it. Bundles are signed by the build machine; agents check the
// signature themselves, so the server only stores and serves them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import semver from 'semver';
import { readMember } from '../../firmware/archive.js';
import { bundleFileName } from '../../firmware/bundle.js';
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
import { isAdminBearer, loadAdminToken } from '../admin-token.js';

export interface FirmwareRoutesOptions {
  /** The server's DATA directory; bundles live in DATA/firmware/<version>/. */
  dataDir: string;
  /** Token for uploads; default: the server's admin token (admin-token.ts). */
  adminToken?: string;
  /** Largest accepted bundle, in bytes (default 1 GiB). */
  maxBundleBytes?: number;
}

const INFO_FILE = 'info.json';

function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}


export const firmwareRoutes: FastifyPluginAsync<FirmwareRoutesOptions> = async (app, opts) => {
  const root = path.join(opts.dataDir, 'firmware');
  const token = opts.adminToken ?? (await loadAdminToken(opts.dataDir));
  const maxBytes = opts.maxBundleBytes ?? 1024 ** 3;

  if (!app.hasContentTypeParser(FIRMWARE_BUNDLE_TYPE)) {
    app.addContentTypeParser(FIRMWARE_BUNDLE_TYPE, { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
  }

  async function versions(): Promise<string[]> {
    const names = await fs.readdir(root).catch(() => [] as string[]);
    return names.filter((n) => semver.valid(n) === n).sort(semver.rcompare);
  }
  async function info(version: string): Promise<FirmwareInfo | null> {
    try {
      return JSON.parse(await fs.readFile(path.join(root, version, INFO_FILE), 'utf8')) as FirmwareInfo;
    } catch {
      return null;
    }
  }
  function isAdmin(req: FastifyRequest): boolean {
    return isAdminBearer(req.headers.authorization, token);
  }

  type Refusal = { status: number; error: string; message: string };
  /** Keeps an uploaded bundle as DATA/firmware/<version>/; the temp dir is gone before the reply. */
  async function store(body: Buffer, signature: string): Promise<FirmwareInfo | Refusal> {
    await fs.mkdir(root, { recursive: true });
    const tmp = await fs.mkdtemp(path.join(root, '.upload-'));
    try {
      const archive = path.join(tmp, 'bundle.tar.gz');
      await fs.writeFile(archive, body);
      let version: string;
      let createdAt: string;
      try {
        ({ version, createdAt } = parseManifest(await readMember(archive, MANIFEST_NAME)));
      } catch (err) {
        return { status: 400, error: 'BAD_BUNDLE', message: `not a cineswarm firmware bundle: ${(err as Error).message}` };
      }
      const exists: Refusal = { status: 409, error: 'FIRMWARE_EXISTS', message: `firmware ${version} is already published; build a new version` };
      if (await info(version)) return exists;
      const i: FirmwareInfo = {
        version, createdAt, size: body.length, sha256: createHash('sha256').update(body).digest('hex'),
        bundleUrl: `/api/firmware/${version}/bundle`, signatureUrl: `/api/firmware/${version}/signature`,
      };
      await fs.rename(archive, path.join(tmp, bundleFileName(version)));
      await fs.writeFile(path.join(tmp, bundleFileName(version) + '.sig'), signature + '\n');
      await fs.writeFile(path.join(tmp, INFO_FILE), JSON.stringify(i, null, 2) + '\n');
      // The version directory appears whole by one rename; a racing upload of the same version loses.
      try {
        await fs.rename(tmp, path.join(root, version));
      } catch {
        return exists;
      }
      return i;
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  app.get('/api/firmware/latest', { schema: { response: { 200: firmwareInfoSchema, 304: { type: 'null' }, 404: errorBodySchema } } }, async (req, reply) => {
    const [latest] = await versions();
    const i = latest ? await info(latest) : null;
    if (!i) return refuse(reply, 404, 'NO_FIRMWARE', 'no firmware has been published on this server yet');
    const etag = `"${i.version}"`;
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('etag', etag).send(i);
  });

  app.get<{ Params: FirmwareVersionParams }>('/api/firmware/:version/bundle', { schema: { params: firmwareVersionParamsSchema } }, async (req, reply) => {
    const i = semver.valid(req.params.version) === req.params.version ? await info(req.params.version) : null;
    if (!i) return refuse(reply, 404, 'FIRMWARE_NOT_FOUND', `no firmware ${req.params.version} on this server`);
    const file = path.join(root, i.version, bundleFileName(i.version));
    return reply.type(FIRMWARE_BUNDLE_TYPE).header('content-length', i.size).send(createReadStream(file));
  });

  app.get<{ Params: FirmwareVersionParams }>('/api/firmware/:version/signature', { schema: { params: firmwareVersionParamsSchema } }, async (req, reply) => {
    const i = semver.valid(req.params.version) === req.params.version ? await info(req.params.version) : null;
    if (!i) return refuse(reply, 404, 'FIRMWARE_NOT_FOUND', `no firmware ${req.params.version} on this server`);
    return reply.type('text/plain').send(await fs.readFile(path.join(root, i.version, bundleFileName(i.version) + '.sig'), 'utf8'));
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
