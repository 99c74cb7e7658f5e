// The agent's peer key: made at random in dataDir on first start and sent with every request
// the agent makes as its peer id (Cineswarm-Peer header), so the server can tell this cinema
// server from another one configured with the same id.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../util/durable-write.js';

export const PEER_KEY_FILE = 'peer-key';

/** The key in dataDir/peer-key, made (mode 0600) when absent. */
export async function loadOrCreatePeerKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, PEER_KEY_FILE);
  try {
    const key = (await fs.readFile(file, 'utf8')).trim();
    if (/^[A-Za-z0-9_-]{16,256}$/.test(key)) return key;
    throw new Error(`${file} does not hold a peer key; delete it to have a new one made (the group owner must then reset this peer's key on the server)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32).toString('base64url');
  await writeFileAtomic(file, key + '\n');
  return key;
}
