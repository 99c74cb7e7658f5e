// Peers for the swarm benches, each in its own process on its own loopback address: cineswarm
// (`cineswarm get`, `bench/cs_seed.ts`), python3-libtorrent (`bench/lt_peer.py`) and aria2c.
// Every peer reports when it holds the whole torrent (`doneAt`, the bench's clock) and, where the
// client can tell, how many payload bytes it has uploaded.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processMemory } from '../src/util/memory.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
/** The compiled CLI (make bench builds it first): what a site runs, without a transpiler's start-up. */
export const CLI = path.join(root, 'dist', 'cli', 'main.js');

export type Client = 'cineswarm' | 'lt' | 'aria2c';

export interface Peer {
  name: string;
  proc: ChildProcess;
  /** performance.now() when the peer held every piece */
  done: Promise<number>;
  uploaded(): number;
  /** highest anonymous resident memory seen (sampled every 100 ms) */
  peakAnonBytes(): number;
  listening: Promise<number>;
  stop(): Promise<void>;
}

/** 127.0.0.(10+i): one address per peer, as on a real network (trackers and peers tell them apart). */
export function peerAddress(i: number): string {
  return `127.0.0.${10 + i}`;
}

function watch(name: string, proc: ChildProcess, onLine: (line: string, p: Internal) => void): Internal {
  let resolveDone!: (t: number) => void;
  let rejectDone!: (e: Error) => void;
  let resolveListen!: (p: number) => void;
  const p: Internal = {
    name,
    proc,
    up: 0,
    peakAnon: 0,
    done: new Promise<number>((res, rej) => ((resolveDone = res), (rejectDone = rej))),
    listening: new Promise<number>((res) => (resolveListen = res)),
    markDone: (t) => resolveDone(t),
    markListening: (port) => resolveListen(port),
    uploaded: () => p.up,
    peakAnonBytes: () => p.peakAnon,
    stop: async () => {
      clearInterval(sampler);
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  p.done.catch(() => undefined);
  let buf = '';
  let errTail = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i), p);
      buf = buf.slice(i + 1);
    }
  });
  proc.stderr!.on('data', (c: Buffer) => (errTail = (errTail + c.toString()).slice(-2000)));
  proc.on('exit', (code) => rejectDone(new Error(`${name} exited (${code}) before it was done: ${errTail.trim()}`)));
  const sampler = setInterval(() => {
    try {
      p.peakAnon = Math.max(p.peakAnon, processMemory(proc.pid!).anonBytes);
    } catch {
      /* exited */
    }
  }, 100);
  return p;
}

interface Internal extends Peer {
  up: number;
  peakAnon: number;
  markDone(t: number): void;
  markListening(port: number): void;
}

function jsonLines(line: string, p: Internal): void {
  let m: { listening?: number; done?: number; uploaded?: number };
  try {
    m = JSON.parse(line) as typeof m;
  } catch {
    return;
  }
  if (m.listening !== undefined) p.markListening(m.listening);
  if (m.done !== undefined) p.markDone(performance.now());
  if (m.uploaded !== undefined) p.up = m.uploaded;
}

export interface DownloaderSpec {
  client: Client;
  name: string;
  torrent: string;
  out: string;
  address: string;
  uploadBps: number;
  /** cineswarm only: disk backend */
  storage?: 'mmap' | 'posix';
}

/** A downloader that keeps seeding after it is done, until stop(). */
export async function startDownloader(s: DownloaderSpec): Promise<Peer> {
  await fs.mkdir(s.out, { recursive: true });
  if (s.client === 'cineswarm') {
    const args = [CLI, 'get', s.torrent, '--out', s.out, '--host', s.address, '--port', '0', '--upload-limit', String(s.uploadBps), '--seed'];
    if (s.storage) args.push('--storage', s.storage);
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CINESWARM_LOG_LEVEL: 'warn' } });
    const p = watch(s.name, proc, (line, q) => {
      if (/^DONE /.test(line)) q.markDone(performance.now());
    });
    p.markListening(0);
    return p;
  }
  if (s.client === 'lt') {
    const proc = spawn('/usr/bin/python3', [path.join(here, 'lt_peer.py'), 'get', s.torrent, s.out, s.address, String(s.uploadBps)], { stdio: ['pipe', 'pipe', 'pipe'] });
    return watch(s.name, proc, jsonLines);
  }
  // aria2c: seeds on after the download (ratio 0 = no ratio goal) until stopped; its completion
  // hook (bench/aria2-done.sh) prints a line on aria2c's stdout when the last piece is in.
  const proc = spawn(
    'aria2c',
    [
      '--dir', s.out, '--interface', s.address, '--listen-port', '6881-6999', '--max-overall-upload-limit', String(s.uploadBps),
      '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--seed-ratio=0.0', '--seed-time=100000',
      '--file-allocation=none', '--summary-interval=0', '--console-log-level=warn', '--bt-hash-check-seed=false', '--check-integrity=false',
      `--on-bt-download-complete=${path.join(here, 'aria2-done.sh')}`, s.torrent,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const p = watch(s.name, proc, (line, q) => {
    if (line.startsWith('ARIA2_BT_DONE')) q.markDone(performance.now());
  });
  p.markListening(0);
  return p;
}

export interface SeederSpec {
  client: 'cineswarm' | 'lt';
  torrent: string;
  /** the folder that holds the torrent's top folder */
  savePath: string;
  address: string;
  uploadBps: number;
  /** cineswarm: superseeding mode; lt: 'on' turns libtorrent's super seeding on from the start */
  superSeeding?: string;
}

export async function startSeeder(s: SeederSpec): Promise<Peer> {
  const proc =
    s.client === 'lt'
      ? spawn('/usr/bin/python3', [path.join(here, 'lt_peer.py'), 'seed', s.torrent, s.savePath, s.address, String(s.uploadBps), ...(s.superSeeding === 'on' ? ['super'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import=tsx', path.join(here, 'cs_seed.ts'), s.torrent, s.savePath, s.address, String(s.uploadBps), s.superSeeding ?? ''], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CINESWARM_LOG_LEVEL: 'warn' } });
  const p = watch(`seeder-${s.client}`, proc, jsonLines);
  await p.listening;
  return p;
}
