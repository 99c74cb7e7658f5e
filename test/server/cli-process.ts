// Runs `cineswarm server` as a real process on 127.0.0.1 with port 0 and finds its URL in the
// log; the test's teardown stops it by PID.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

export const CLI = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface RunningServer {
  url: string;
  child: ChildProcess;
  /** resolves with the exit code once the process ended */
  exited: Promise<number | null>;
}

export function startCliServer(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import=tsx', CLI, 'server', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CINESWARM_LOG_JSON: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    // tsx compiles the CLI at start: on a loaded two-core host that alone can take half a minute.
    const timer = setTimeout(() => reject(new Error(`server did not start in time: ${err}`)), 90_000);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}
