// Runs Debian's aria2c as a real third-party BitTorrent peer on 127.0.0.1 for interop tests.
// Each process is killed by its PID when the test ends.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Aria2 {
  proc: ChildProcess;
  port: number;
  /** Resolves with the exit code when aria2c ends. */
  exited: Promise<number | null>;
  output: () => string;
}

/** aria2c on `torrentFile` into `dir`, listening on a free loopback port, with DHT/LPD/PEX off. */
export async function aria2(t: ExecutionContext, torrentFile: string, dir: string, extra: string[]): Promise<Aria2> {
  const port = await freePort();
  const proc = spawn(
    'aria2c',
    [
      '--no-conf=true',
      `--dir=${dir}`,
      `--listen-port=${port}`,
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--bt-external-ip=127.0.0.1',
      '--disable-ipv6=true',
      '--file-allocation=none',
      '--summary-interval=0',
      '--console-log-level=warn',
      '--allow-overwrite=true',
      '--auto-file-renaming=false',
      ...extra,
      torrentFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  proc.on('error', (e) => (out += String(e)));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      process.kill(proc.pid, 'SIGTERM');
      await exited;
    }
  });
  return { proc, port, exited, output: () => out };
}
