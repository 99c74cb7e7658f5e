// The pipeline and one transfer, each side in its own process, at growing sizes (cost growth):
//   time-to-ingest      torrent uploaded to the server → DCP verified in a running agent's ingest folder
//                       (agent process, long polls as shipped) ÷ a python3-libtorrent download of the same
//                       bytes from the same seeder (process start to last piece). As in the field the
//                       seeder is `cineswarm publish --seed`: its session starts in the publishing process
//                       once the upload is done (counted); the reference's is bench/cs_seed.ts with the
//                       same settings and super seeding, fresh too; no seeder process start-up counted
//   agent-anon-memory   the agent's highest anonymous resident memory meanwhile (ratio to the 200 MB goal);
//                       agent-rss-memory: its highest RSS (file pages included)
//   single-transfer     `cineswarm get` from the same cineswarm seeder (uncapped), process start to DONE,
//                       ÷ curl over HTTP of the same files (process start to exit), run just before it
// Each runs once per disk backend (engine.storage) so the backends are compared in the same run.
// Names without a suffix are the largest size; every size also prints with its size as a suffix.
//   BENCH_INGEST_SIZES (MiB, default 256,1024,4096), BENCH_INGEST_STORAGES (default posix,mmap:
//   the agent's default first, so the names without a suffix are what ships)
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildServer } from '../src/server/app.js';
import { processMemory } from '../src/util/memory.js';
import { generateDcp, type GeneratedDcp } from '../test/helpers/dcp-generator.js';
import { CLI, startDownloader, startSeeder } from './peer-procs.js';
import { runProcess } from './proc.js';

const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_INGEST_SIZES ?? '256,1024,4096').split(',').map((s) => Number(s) * MiB);
const STORAGES = (process.env.BENCH_INGEST_STORAGES ?? 'posix,mmap').split(',') as ('mmap' | 'posix')[];
const GOAL_ANON = 200e6;
const SEED_ADDRESS = '127.0.0.2';
const PW = 'bench';

const auth = (id: string) => ({ authorization: 'Basic ' + Buffer.from(`${id}:${PW}`).toString('base64') });

async function personalTorrent(server: string, group: string, name: string, peer: string, file: string): Promise<string> {
  const res = await fetch(`${server}/api/groups/${group}/torrents/${encodeURIComponent(name)}?peer=${peer}`, { headers: auth(group) });
  if (res.status !== 200) throw new Error(`fetching the torrent for ${peer}: HTTP ${res.status}`);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}

interface AgentRun {
  seconds: number;
  peakAnon: number;
  peakRss: number;
}

interface Publisher {
  /** performance.now() when `publish` said the upload was done */
  uploaded: Promise<number>;
  /** resolves once its seeding session listens */
  seeding: Promise<void>;
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** `cineswarm publish DCP --seed` in its own process: verifies, hashes, uploads, then seeds. */
function publishAndSeed(server: string, group: string, dcpDir: string, peerId: string): Publisher {
  const proc = spawn(process.execPath, [CLI, 'publish', dcpDir, '--server', server, '--group', group, '--owner-password', PW, '--seed', '--listen', `${SEED_ADDRESS}:0`, '--peer-id', peerId], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CINESWARM_LOG_LEVEL: 'warn' },
  });
  let errTail = '';
  let out = '';
  let onUploaded!: (t: number) => void;
  let onSeeding!: () => void;
  let onExit!: (e: Error) => void;
  const failed = new Promise<never>((_, rej) => (onExit = rej));
  failed.catch(() => undefined);
  const uploaded = Promise.race([new Promise<number>((r) => (onUploaded = r)), failed]);
  const seeding = Promise.race([new Promise<void>((r) => (onSeeding = r)), failed]);
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.startsWith('published ')) onUploaded(performance.now());
      if (line.startsWith('seeding on port ')) onSeeding();
    }
  });
  proc.stderr.on('data', (c: Buffer) => (errTail = (errTail + c.toString()).slice(-2000)));
  proc.on('exit', (code) => onExit(new Error(`publish exited (${code}): ${errTail.trim()}`)));
  return {
    uploaded,
    seeding,
    exited: () => (proc.exitCode !== null ? errTail : undefined),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

/** Starts an agent process on the group, publishes the DCP, and times it to the ingest folder. The
 * publisher is left seeding (the caller stops it). */
async function timeToIngest(dir: string, server: string, dcp: GeneratedDcp, storage: 'mmap' | 'posix', tag: string): Promise<{ run: AgentRun; group: string; name: string; publisher: Publisher }> {
  const group = `ingest-${tag}`;
  const name = path.basename(dcp.dir);
  // The group exists before the agent starts, as in the field; publishing below only adds the DCP.
  const made = await fetch(`${server}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: group, password: PW, ownerPassword: PW }) });
  if (made.status !== 201) throw new Error(`creating group ${group}: HTTP ${made.status} ${await made.text()}`);
  const root = path.join(dir, `agent-${tag}`);
  const cfg = {
    id: `bench-agent-${tag}`,
    server,
    groups: [{ id: group, password: PW }],
    dataDir: path.join(root, 'data'),
    downloadDir: path.join(root, 'incoming'),
    ingestDir: path.join(root, 'ingest'),
    listen: { host: '127.0.0.20', port: 0 },
    // The shipped long polls tell the agent of the upload; the interval poll is only their fallback.
    minFreeBytes: 0,
    engine: { storage },
  };
  await fs.mkdir(root, { recursive: true });
  await fs.writeFile(path.join(root, 'agent.json'), JSON.stringify(cfg));
  // BENCH_INGEST_AGENT_LOG=FILE: the agent's log (JSON lines, BENCH_INGEST_AGENT_LOG_LEVEL, default
  // info; trace shows every engine alert) goes there, to see where the time goes.
  const logTo = process.env.BENCH_INGEST_AGENT_LOG ? await fs.open(`${process.env.BENCH_INGEST_AGENT_LOG}-${tag}`, 'w') : undefined;
  const agent = spawn(process.execPath, [CLI, 'agent', '--config', path.join(root, 'agent.json')], {
    stdio: ['ignore', logTo ? logTo.fd : 'ignore', 'pipe'],
    env: { ...process.env, CINESWARM_LOG_LEVEL: logTo ? (process.env.BENCH_INGEST_AGENT_LOG_LEVEL ?? 'info') : 'warn', ...(logTo ? { CINESWARM_LOG_JSON: '1' } : {}) },
  });
  await logTo?.close();
  let errTail = '';
  agent.stderr!.on('data', (c: Buffer) => (errTail = (errTail + c.toString()).slice(-2000)));
  let peakAnon = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      const m = processMemory(agent.pid!);
      peakAnon = Math.max(peakAnon, m.anonBytes);
      peakRss = Math.max(peakRss, m.rssBytes);
    } catch {
      /* not yet or gone */
    }
  }, 100);
  let publisher: Publisher | undefined;
  let ok = false;
  try {
    await new Promise((r) => setTimeout(r, 2000)); // the agent is up and its long polls held
    if (agent.exitCode !== null) throw new Error(`agent exited: ${errTail}`);
    publisher = publishAndSeed(server, group, dcp.dir, `seed-${tag}`);
    const t0 = await publisher.uploaded;
    if (logTo) process.stderr.write(`ingest ${tag}: t0 at ${new Date(performance.timeOrigin + t0).toISOString()}\n`);
    void publisher.seeding.then(() => logTo && process.stderr.write(`ingest ${tag}: seeding after ${((performance.now() - t0) / 1000).toFixed(3)} s\n`), () => undefined);
    const target = path.join(cfg.ingestDir, name);
    for (;;) {
      if (await exists(target)) break;
      if (agent.exitCode !== null) throw new Error(`agent exited: ${errTail}`);
      const gone = publisher.exited();
      if (gone !== undefined) throw new Error(`publish exited: ${gone}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    await publisher.seeding;
    ok = true;
    return { run: { seconds, peakAnon, peakRss }, group, name, publisher };
  } finally {
    clearInterval(sampler);
    if (!ok) await publisher?.stop();
    const exited = new Promise((r) => agent.once('exit', r));
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await exited;
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** One downloader process from a cineswarm seeder started for it (its start-up not counted):
 * seconds from spawn to complete. `superSeeding` '' is what `publish --seed` ships. */
async function download(dir: string, server: string, group: string, name: string, dcpDir: string, client: 'cineswarm' | 'lt', storage: 'mmap' | 'posix', tag: string, superSeeding: string): Promise<number> {
  const root = path.join(dir, `dl-${tag}`);
  await fs.mkdir(root, { recursive: true });
  const seeder = await startSeeder({ client: 'cineswarm', torrent: await personalTorrent(server, group, name, `seed-dl-${tag}`, path.join(root, 'seed.torrent')), savePath: path.dirname(dcpDir), address: SEED_ADDRESS, uploadBps: 0, superSeeding });
  const torrent = await personalTorrent(server, group, name, `dl-${tag}`, path.join(root, 'dl.torrent'));
  await new Promise((r) => setTimeout(r, 1500)); // the seeder has announced
  const t0 = performance.now();
  const d = await startDownloader({ client, name: `${client}-${tag}`, torrent, out: path.join(root, 'out'), address: '127.0.0.30', uploadBps: 0, storage });
  try {
    return ((await d.done) - t0) / 1000;
  } finally {
    await d.stop();
    await seeder.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** curl over HTTP of the same files, from a plain static file server: process start to exit. */
async function curlSeconds(dir: string, dcp: GeneratedDcp): Promise<number> {
  const srv = http.createServer((req, res) => {
    const file = path.join(dcp.dir, path.basename(decodeURIComponent(req.url ?? '/')));
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('error', () => res.writeHead(404).end())
      .pipe(res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.3', r));
  const { port } = srv.address() as { port: number };
  const out = path.join(dir, 'curl');
  await fs.mkdir(out, { recursive: true });
  try {
    const args = ['-s', '--fail'];
    for (const f of dcp.files) args.push('-o', path.join(out, path.basename(f)), `http://127.0.0.3:${port}/${encodeURIComponent(path.basename(f))}`);
    const t0 = performance.now();
    const r = await runProcess('curl', args);
    if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
    return (performance.now() - t0) / 1000;
  } finally {
    srv.close();
    await fs.rm(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-ingest-'));
  const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 2, openGroups: true });
  const line = (name: string, value: number, unit: string, ratio: number, ref: string): void => console.log(`BENCH ${name} ${value.toFixed(3)} ${unit} ratio=${ratio.toFixed(3)} ref=${ref}`);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    let n = 0;
    for (const size of SIZES) {
      const label = size >= 1024 * MiB ? `${size / 1024 / MiB}GiB` : `${size / MiB}MiB`;
      const last = size === SIZES[SIZES.length - 1];
      const unit = Math.floor(size / 10);
      const dcp = await generateDcp(path.join(root, 'dcp', `BENCH_INGEST_${label}_FTR`), { assetSizes: [9 * unit, unit], seed: 40 + n });
      for (const storage of STORAGES) {
        const tag = `${label.toLowerCase()}-${storage}-${n++}`;
        const { run, group, name, publisher } = await timeToIngest(root, server, dcp, storage, tag);
        await publisher.stop();
        // The reference meets a seeder in the state the agent met: fresh, with the shipped super
        // seeding (ended for a lone downloader after 1.5 s), as publish --seed runs it.
        const lt = await download(root, server, group, name, dcp.dir, 'lt', storage, `lt-${tag}`, '');
        // curl right before `get`, so both meet the same load on a shared machine (minutes apart
        // the ratio moved with other work more than with either client).
        const curl = await curlSeconds(root, dcp);
        const get = await download(root, server, group, name, dcp.dir, 'cineswarm', storage, `cs-${tag}`, 'off');
        process.stderr.write(
          `ingest ${label} ${storage}: time-to-ingest ${run.seconds.toFixed(2)} s, python3-libtorrent ${lt.toFixed(2)} s, get ${get.toFixed(2)} s, curl ${curl.toFixed(2)} s; agent peak anon ${(run.peakAnon / 1e6).toFixed(0)} MB, rss ${(run.peakRss / 1e6).toFixed(0)} MB\n`,
        );
        const suffix = (base: string): string[] => [`${base}-${label}-${storage}`, ...(last && storage === STORAGES[0] ? [base] : [])];
        for (const nm of suffix('time-to-ingest')) line(nm, run.seconds, 's', run.seconds / lt, 'python3-libtorrent-download');
        for (const nm of suffix('agent-anon-memory')) line(nm, run.peakAnon / 1e6, 'MB', run.peakAnon / GOAL_ANON, 'goal-200MB');
        for (const nm of suffix('agent-rss-memory')) line(nm, run.peakRss / 1e6, 'MB', run.peakRss / GOAL_ANON, 'goal-200MB');
        // Throughput ratio: curl's time over ours (1.0 = as fast as HTTP).
        for (const nm of suffix('single-transfer')) line(nm, dcp.totalBytes / get / 1e6, 'MB/s', curl / get, 'curl-http');
      }
      await fs.rm(dcp.dir, { recursive: true, force: true });
    }
  } finally {
    await app.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
