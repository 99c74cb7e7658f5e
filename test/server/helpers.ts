// Shared pieces of the server tests: a server on a temp DATA dir, hand-made torrents, Basic
// auth headers and a snapshot of DATA to prove that refusals change nothing on disk.
import type { ExecutionContext } from 'ava';
import bencode from 'bencode';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/server/app.js';
import { tempDir } from '../helpers/tmp.js';

export interface TestServer {
  app: FastifyInstance;
  dataDir: string;
}

export async function startServer(t: ExecutionContext, opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = await tempDir(t, 'cineswarm-server-');
  const app = await buildServer({ dataDir, logger: false, openGroups: true, ...opts });
  t.teardown(() => app.close());
  return { app, dataDir };
}

export function basic(id: string, password: string): string {
  return 'Basic ' + Buffer.from(`${id}:${password}`).toString('base64');
}

export interface TorrentSpec {
  name: string;
  /** single-file torrent when a Buffer, multi-file when a map of relative path → content */
  content: Buffer | Record<string, Buffer>;
  private?: number | null;
  pieceLength?: number;
  announce?: string;
  /** extra top-level keys, kept verbatim */
  extra?: Record<string, unknown>;
}

/** Builds a real v1 torrent (sha1 piece hashes over the content). */
export function makeTorrent(spec: TorrentSpec): Buffer {
  const pieceLength = spec.pieceLength ?? 16384;
  const files = Buffer.isBuffer(spec.content) ? undefined : Object.entries(spec.content);
  const all = Buffer.isBuffer(spec.content) ? spec.content : Buffer.concat(files!.map(([, b]) => b));
  const pieces: Buffer[] = [];
  for (let off = 0; off < all.length; off += pieceLength) pieces.push(createHash('sha1').update(all.subarray(off, off + pieceLength)).digest());
  const info: Record<string, unknown> = { name: spec.name, 'piece length': pieceLength, pieces: Buffer.concat(pieces) };
  if (files) info.files = files.map(([p, b]) => ({ length: b.length, path: p.split('/') }));
  else info.length = all.length;
  if (spec.private !== null) info.private = spec.private ?? 1;
  const top: Record<string, unknown> = { announce: spec.announce ?? 'http://example.invalid/announce', info, ...spec.extra };
  return Buffer.from(bencode.encode(top));
}

/** The announce URL of a torrent file. */
export function announceOf(torrent: Buffer): string {
  return Buffer.from((bencode.decode(torrent) as { announce: Uint8Array }).announce).toString('utf8');
}

export function sha1Info(torrent: Buffer): string {
  const top = bencode.decode(torrent) as { info: unknown };
  return createHash('sha1').update(bencode.encode(top.info)).digest('hex');
}

/** Every file and directory under `dir` with a hash of its content. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        out[r + '/'] = 'dir';
        await walk(r);
      } else {
        const data = await fs.readFile(path.join(dir, r));
        const st = await fs.stat(path.join(dir, r));
        out[r] = createHash('sha256').update(data).digest('hex') + ' ' + st.mtimeMs;
      }
    }
  }
  await walk('');
  return out;
}

/** Creates a group; the owner password is the member one unless given (the tests of the two
 * roles give both). */
export async function createGroup(app: FastifyInstance, id: string, password: string, ownerPassword = password): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/groups', payload: { id, password, ownerPassword } });
  if (res.statusCode !== 201) throw new Error(`creating group ${id}: ${res.statusCode} ${res.body}`);
}

export async function uploadTorrent(app: FastifyInstance, id: string, password: string, torrent: Buffer) {
  return app.inject({
    method: 'POST',
    url: `/api/groups/${id}/torrents`,
    headers: { authorization: basic(id, password), 'content-type': 'application/x-bittorrent' },
    payload: torrent,
  });
}
