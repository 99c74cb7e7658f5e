// The server's admin token: what group creation and firmware upload ask for as
// `Authorization: Bearer <token>`. Read from --admin-token-file, or from DATA/admin-token, which
// the server makes (mode 0600) on first start; replicas point at one shared file.
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createOnce } from '../util/durable-write.js';

export const ADMIN_TOKEN_FILE = 'admin-token';
/** Where servers before the shared token kept the firmware upload token; adopted when present. */
const LEGACY_FILE = 'firmware-admin-token';

async function readToken(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The token of an explicit file (which must exist and hold one), or of DATA/admin-token (made when absent). */
export async function loadAdminToken(dataDir: string, file?: string): Promise<string> {
  if (file) {
    const token = await readToken(file);
    if (token === undefined) throw new Error(`the admin token file ${file} does not exist`);
    if (token.length < 16) throw new Error(`the admin token in ${file} is shorter than 16 characters`);
    return token;
  }
  const target = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readToken(target);
  if (existing) return existing;
  await fs.mkdir(dataDir, { recursive: true });
  const legacy = await readToken(path.join(dataDir, LEGACY_FILE));
  // Exclusive: two replicas starting at once agree on one token, the first written.
  await createOnce(target, (legacy || randomBytes(24).toString('hex')) + '\n');
  const token = await readToken(target);
  if (!token) throw new Error(`${target} is empty; delete it to have a new admin token made`);
  return token;
}

/** Whether an Authorization header carries the admin token (constant-time comparison). */
export function isAdminBearer(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
