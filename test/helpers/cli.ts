// Runs the cineswarm command line from source (through tsx) as a child process, the way a person
// or a script runs it, and collects what it printed and its exit status.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

export const CLI_MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface CliRun {
  /** the exit status; 1 when a signal ended the process */
  code: number;
  stdout: string;
  stderr: string;
}

/** nodeArgs go before the script (e.g. another --import for a test probe). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { nodeArgs?: string[] } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', ...(opts.nodeArgs ?? []), CLI_MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    // 'close', not 'exit': the last of stdout may still be in the pipe when the process exits.
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface CliProcess {
  child: import('node:child_process').ChildProcess;
  /** everything printed on stdout so far */
  stdout(): string;
  stderr(): string;
  /** stdout's pino JSON lines so far (other lines are left out) */
  logs(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running command (seeding, an agent) from source; the caller ends it by its PID. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import=tsx', CLI_MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, CINESWARM_LOG_JSON: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const logs = () =>
    out.split('\n').flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { child, stdout: () => out, stderr: () => err, logs, exited };
}
