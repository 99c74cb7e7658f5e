// A throwaway redis-server for tests and benches: loopback port, no persistence, ended by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { TestFn } from 'ava';
import { freePort } from './net.js';

export interface RedisServer {
  url: string;
  port: number;
  /** Ends the server (an outage); start() brings up an empty one on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setTimeout(500);
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', '--logfile', ''], {
      stdio: 'ignore',
    });
    child = c;
    process.once('exit', () => {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (c.exitCode !== null) throw new Error(`redis-server exited (${c.exitCode}) on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    process.kill(c.pid, 'SIGKILL');
    await done;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}/0`, port, start, stop };
}

/** One redis-server for all tests of a file. */
export function redisForFile(test: TestFn): () => RedisServer {
  let redis: RedisServer | undefined;
  test.before(async () => {
    redis = await startRedis();
  });
  test.after.always(async () => {
    await redis?.stop();
  });
  return () => {
    if (!redis) throw new Error('the redis-server of this test file did not start');
    return redis;
  };
}
