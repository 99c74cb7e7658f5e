// One server per data dir: DATA/server.lock names the process that holds it. A second server on
// the same DATA refuses before it touches anything there, so the start-up sweeps (staging folders,
// temp files) never remove what the live server is writing.
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export const LOCK_NAME = 'server.lock';

interface LockRecord {
  pid: number;
  /** the process's start time in clock ticks since boot (/proc/PID/stat): a pid reused by another
   * process after a crash does not count as the holder */
  started: string | null;
  /** /proc/sys/kernel/random/boot_id: after a reboot no holder from before is alive */
  boot: string | null;
}

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`another cineswarm server (pid ${pid}) is using the data dir ${dataDir}; stop it first, or give this one another --data`);
    this.name = 'DataDirLockedError';
  }
}

function readProc(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces, so count after its ')'. */
function startTicks(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

const bootId = (): string | null => readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null;

function ours(): LockRecord {
  return { pid: process.pid, started: startTicks(process.pid), boot: bootId() };
}

/** True while the process the record names still runs (the same process, not a reuse of its pid). */
function holderAlive(r: LockRecord): boolean {
  if (r.pid === process.pid) return false; // a lock left by this very process's earlier run cannot be held
  if (r.boot && bootId() && r.boot !== bootId()) return false;
  try {
    process.kill(r.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !(r.started && startTicks(r.pid) && startTicks(r.pid) !== r.started);
}

async function readLock(file: string): Promise<LockRecord | null> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockRecord>;
    return typeof v.pid === 'number' ? { pid: v.pid, started: v.started ?? null, boot: v.boot ?? null } : null;
  } catch {
    return null; // absent, or torn by a crash while it was written: nobody holds it
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Takes DATA/server.lock (DATA must exist), or throws DataDirLockedError naming the live holder. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_NAME);
  const me = ours();
  const tmp = path.join(dataDir, `.tmp-${LOCK_NAME}-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(tmp, JSON.stringify(me) + '\n', { mode: 0o644 });
  try {
    try {
      await fs.link(tmp, file); // exclusive: fails when a lock file is there
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await readLock(file);
      if (held && holderAlive(held)) throw new DataDirLockedError(dataDir, held.pid);
      // Left by a server that died: taken over. Two servers starting in the same instant over
      // one stale lock could both get here; the re-read below catches all but a tie.
      await fs.rename(tmp, file);
      const now = await readLock(file);
      if (now?.pid !== me.pid) throw new DataDirLockedError(dataDir, now?.pid ?? 0);
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return {
    async release() {
      const held = await readLock(file);
      if (held?.pid === me.pid) await fs.rm(file, { force: true });
    },
  };
}
