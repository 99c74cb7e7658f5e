// Real third-party BitTorrent clients from Debian (aria2c, transmission-cli) as peers on 127.0.0.1
// for interop tests. Each process is killed by its PID when the test ends.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/net.js';

export { freePort };

export interface Client {
  proc: ChildProcess;
  port: number;
  /** Resolves with the exit code when the client ends. */
  exited: Promise<number | null>;
  output: () => string;
}

function start(t: ExecutionContext, cmd: string, args: string[], port: number): Client {
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
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

/** aria2c on `torrentFile` into `dir`, listening on a free loopback port, with DHT/LPD/PEX off. */
export async function aria2(t: ExecutionContext, torrentFile: string, dir: string, extra: string[]): Promise<Client> {
  const port = await freePort();
  const args = [
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
  ];
  return start(t, 'aria2c', args, port);
}

/** transmission-cli (3.00) on `torrentFile` with data in `dir`; it verifies what is there, then seeds or downloads until killed. */
export async function transmission(t: ExecutionContext, torrentFile: string, dir: string, configDir: string): Promise<Client> {
  const port = await freePort();
  return start(t, 'transmission-cli', ['-g', configDir, '-w', dir, '-p', String(port), '-M', '-U', '-D', '-ep', torrentFile], port);
}
