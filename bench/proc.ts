// Small process helpers for the benchmarks: run a command to completion, find a free loopback port.
import { spawn } from 'node:child_process';
import net from 'node:net';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(cmd: string, args: string[]): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function freeLoopbackPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Seconds for `openssl sha1` over the files with one process per file, all at once: the reference
 * for work that uses several cores (one process per core, as many as there are files).
 */
export async function opensslParallelSeconds(files: string[]): Promise<number> {
  const t0 = performance.now();
  const runs = await Promise.all(files.map((f) => runProcess('openssl', ['sha1', f])));
  const bad = runs.find((r) => r.code !== 0);
  if (bad) throw new Error(`openssl sha1 failed: ${bad.stderr}`);
  return (performance.now() - t0) / 1000;
}

/** One core's SHA-1 ceiling in MB/s, from `openssl speed -evp sha1` on 16 MiB blocks. */
export async function opensslSha1CeilingMBps(): Promise<number> {
  const r = await runProcess('openssl', ['speed', '-evp', 'sha1', '-bytes', String(16 * 1024 * 1024), '-seconds', '2']);
  if (r.code !== 0) throw new Error(`openssl speed failed: ${r.stderr}`);
  // The last line reads "sha1   123456.78k": thousands of bytes per second.
  const m = /([\d.]+)k\s*$/.exec(r.stdout.trim());
  if (!m) throw new Error(`cannot read openssl speed output: ${r.stdout.slice(-200)}`);
  return (Number(m[1]) * 1000) / 1e6;
}
