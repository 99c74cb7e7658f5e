// Tracker passkeys: each (group, peer) gets one, signed with the server secret, so the tracker
// can tell statelessly which group an announce belongs to and a forged passkey is refused.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createOnce } from '../util/durable-write.js';
import { isGroupId, isPeerId } from '../protocol/index.js';

const MAC_BYTES = 16;

export interface PasskeyOwner {
  group: string;
  peer: string;
}

function mac(secret: string, group: string, peer: string): Buffer {
  return createHmac('sha256', secret).update(`cineswarm-passkey\0${group}\0${peer}`).digest().subarray(0, MAC_BYTES);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** `<group>.<peer>.<mac>`, each base64url, so it is a single safe URL path segment. */
export function makePasskey(secret: string, group: string, peer: string): string {
  return `${b64(group)}.${b64(peer)}.${mac(secret, group, peer).toString('base64url')}`;
}

/** The owner of a genuine passkey, or undefined for anything malformed or forged. */
export function readPasskey(secret: string, passkey: string): PasskeyOwner | undefined {
  const parts = passkey.split('.');
  if (parts.length !== 3) return undefined;
  const [g, p, m] = parts as [string, string, string];
  const group = Buffer.from(g, 'base64url').toString('utf8');
  const peer = Buffer.from(p, 'base64url').toString('utf8');
  if (!isGroupId(group) || !isPeerId(peer)) return undefined;
  const given = Buffer.from(m, 'base64url');
  const expected = mac(secret, group, peer);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { group, peer };
}

/** DATA/server-secret, created once (0600) so passkeys survive restarts. */
export async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'server-secret');
  // Exclusive and whole: a reader never sees a half-written secret, and the first one made stays.
  await createOnce(file, randomBytes(32).toString('hex') + '\n');
  const secret = (await fs.readFile(file, 'utf8')).trim();
  if (secret.length < 16) throw new Error(`${file} is too short to be a server secret; delete it to have a new one made`);
  return secret;
}
