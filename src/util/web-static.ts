// Static files of cineswarm's web pages (agent status page, distributor console) served the same
// way by both: read once at start, nothing loaded from elsewhere (a strict CSP), no caching
// surprises, and the headers that keep a page out of frames and sniffers.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The page loads nothing from elsewhere, so everything but our own origin is refused. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * A folder of page files beside a module's source: `rel` from the module at `moduleUrl`; when run
 * from a compiled build (dist/) that was not given its copy, the same folder in the source tree.
 */
export function assetDir(moduleUrl: string, rel: string, marker: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const candidates = [path.resolve(here, rel)];
  // dist/<layer>/... → src/<layer>/...
  const m = /^(.*)[/\\]dist([/\\].*)$/.exec(here);
  if (m) candidates.push(path.resolve(`${m[1]}${path.sep}src${m[2]}`, rel));
  return candidates.find((d) => fs.existsSync(path.join(d, marker))) ?? candidates[0]!;
}

/** The shared assets (format.js, base.css, favicon.svg) every page links to. */
export const SHARED_ASSETS_DIR = assetDir(import.meta.url, 'web-assets', 'base.css');

export const SHARED_ASSETS: Record<string, string> = {
  '/format.js': path.join(SHARED_ASSETS_DIR, 'format.js'),
  '/base.css': path.join(SHARED_ASSETS_DIR, 'base.css'),
  '/favicon.svg': path.join(SHARED_ASSETS_DIR, 'favicon.svg'),
};

/** Adds the security headers every answer of a page's server carries. */
export function addPageHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
}

/** Serves `files` (URL → file path), read once now; HTML pages get the CSP. */
export function serveFiles(app: FastifyInstance, files: Record<string, string>): void {
  for (const [url, file] of Object.entries(files)) {
    const body = fs.readFileSync(file);
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    app.get(url, async (_req, reply) => {
      reply.header('content-type', type).header('cache-control', 'no-cache');
      if (type.startsWith('text/html')) reply.header('content-security-policy', PAGE_CSP);
      return reply.send(body);
    });
  }
}
