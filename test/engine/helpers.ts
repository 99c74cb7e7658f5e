// Shared by the engine tests: random payload folders, loopback sessions that close themselves,
// waiting for events or conditions with generous deadlines, and byte-for-byte comparison.
import type { ExecutionContext } from 'ava';
import crypto from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Session, type EngineAlert, type SessionSettings } from '../../src/engine/index.js';

export const MINUTE = 60_000;

/** Writes random files (relative path → size) under dir/name and returns that folder. */
export async function makePayload(dir: string, name: string, files: Record<string, number>): Promise<string> {
  const root = path.join(dir, name);
  for (const [rel, size] of Object.entries(files)) {
    const f = path.join(root, rel);
    await fs.mkdir(path.dirname(f), { recursive: true });
    const fh = await fs.open(f, 'w');
    for (let off = 0; off < size; off += 16 << 20) await fh.write(crypto.randomBytes(Math.min(16 << 20, size - off)));
    await fh.close();
  }
  return root;
}

/** libtorrent's two disk backends as cineswarm offers them (`posix` with its own hashing thread). */
export const STORAGES = ['mmap', 'posix'] as const;

/** A session bound to 127.0.0.1 on a free port, closed when the test ends. */
export function loopbackSession(t: ExecutionContext, settings: SessionSettings = {}): Session {
  const s = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true, ...settings });
  t.teardown(() => s.close());
  return s;
}

/** The next `event` from the session matching `pred`, or a rejection after `ms`. */
export function waitEvent(s: Session, event: string, pred: (a: EngineAlert) => boolean = () => true, ms = 3 * MINUTE): Promise<EngineAlert> {
  // One listener for the whole wait: alerts come in synchronous batches, and re-subscribing after
  // each event (as a loop over events.once would) misses the rest of the batch.
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`no '${event}' event within ${ms / 1000} s`));
    }, ms);
    function listener(a: EngineAlert): void {
      if (!pred(a)) return;
      clearTimeout(timer);
      s.off(event, listener);
      resolve(a);
    }
    s.on(event, listener);
  });
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `ms`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false, ms = 3 * MINUTE, every = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Relative paths of every regular file below dir, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** True when both folders hold the same files with the same bytes (compared with node:crypto, not the engine). */
export async function sameTree(t: ExecutionContext, a: string, b: string): Promise<void> {
  const fa = await listFiles(a);
  t.deepEqual(await listFiles(b), fa);
  for (const rel of fa) {
    const [ha, hb] = await Promise.all([digest(path.join(a, rel)), digest(path.join(b, rel))]);
    t.is(hb, ha, `${rel} differs`);
  }
}

async function digest(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
