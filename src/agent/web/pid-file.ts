// dataDir/agent.pid: how `cineswarm join|leave|accept` find the running agent and its local API.
// Written once the status page listens (with its real port), removed at a clean stop; a file left
// by a crash names a process that no longer exists and is ignored.
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../util/durable-write.js';

export interface AgentPid {
  pid: number;
  /** the local API, e.g. http://127.0.0.1:8680; null when the config has no web section */
  url: string | null;
}

export const pidFile = (dataDir: string): string => path.join(dataDir, 'agent.pid');

export async function writePidFile(dataDir: string, entry: AgentPid): Promise<void> {
  await writeFileAtomic(pidFile(dataDir), JSON.stringify(entry) + '\n');
}

/** Removes the file only when it still names this process (a second agent may have replaced it). */
export async function removePidFile(dataDir: string, pid = process.pid): Promise<void> {
  const found = await readPidFile(dataDir);
  if (found?.pid === pid) await fs.rm(pidFile(dataDir), { force: true });
}

async function readPidFile(dataDir: string): Promise<AgentPid | null> {
  try {
    const v = JSON.parse(await fs.readFile(pidFile(dataDir), 'utf8')) as Partial<AgentPid>;
    return typeof v.pid === 'number' ? { pid: v.pid, url: typeof v.url === 'string' ? v.url : null } : null;
  } catch {
    return null;
  }
}

/** The agent running on dataDir, or null when none does. */
export async function findRunningAgent(dataDir: string): Promise<AgentPid | null> {
  const entry = await readPidFile(dataDir);
  if (!entry) return null;
  try {
    process.kill(entry.pid, 0);
    return entry;
  } catch (err) {
    // EPERM: it exists but belongs to another user (the agent runs as its own user).
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? entry : null;
  }
}
