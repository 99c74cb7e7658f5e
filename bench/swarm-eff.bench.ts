// Swarm efficiency, fairly: every peer its own process on its own loopback address, every upload
// capped, the same seeder for every downloader client, each downloader with its own personalised
// torrent from our tracker. Efficiency = ideal ÷ actual, ideal = max(S/U_seed, N·S/(U_seed + N·U_peer)),
// actual from the start of all downloaders to the last one done (each client's start-up counted).
// Seeder copies = payload bytes the seeder sent ÷ S (1.0 = every piece sent once).
//   BENCH_SWARM_BYTES (default 400 MiB), BENCH_SWARM_UPLOAD_BPS (default 25 MB/s, seeder and peers),
//   BENCH_SWARM_ONLY=n4-cineswarm,... to run a subset, BENCH_SWARM_SUPER=off|on (cineswarm seeder).
//   BENCH_SEED_LOG=FILE: the python3-libtorrent seeder logs every block it sends (one scenario at a
//   time, the file is rewritten by each seeder); bench/seed-sends.py FILE counts the pieces sent twice.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bencode from 'bencode';
import { pino } from 'pino';
import { parseTorrent } from '../src/engine/index.js';
import { buildServer } from '../src/server/app.js';
import { publishDcp } from '../src/publish/publisher.js';
import { generateDcp } from '../test/helpers/dcp-generator.js';
import { peerAddress, startDownloader, startSeeder, type Client, type Peer } from './peer-procs.js';

const MiB = 1024 * 1024;
const S_TARGET = Number(process.env.BENCH_SWARM_BYTES ?? 400 * MiB);
const U = Number(process.env.BENCH_SWARM_UPLOAD_BPS ?? 25e6);
const ONLY = process.env.BENCH_SWARM_ONLY?.split(',');
const quiet = pino({ level: 'silent' });
const SEED_ADDRESS = '127.0.0.2';

interface Scenario {
  tag: string;
  n: number;
  downloaders: Client;
  seeder: 'lt' | 'cineswarm';
}

interface Result {
  seconds: number;
  efficiency: number;
  copies: number;
}

const auth = (id: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${id}:${pw}`).toString('base64') });

async function personalTorrent(server: string, group: string, pw: string, name: string, peer: string, file: string): Promise<string> {
  const res = await fetch(`${server}/api/groups/${group}/torrents/${encodeURIComponent(name)}?peer=${peer}`, { headers: auth(group, pw) });
  if (res.status !== 200) throw new Error(`fetching the torrent for ${peer}: HTTP ${res.status}`);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

/** Waits until the tracker lists a seed for the torrent: on a real site the seeder was there long
 * before the cinemas started, and no client should pay for a seeder still starting up. */
async function seederListed(torrentFile: string): Promise<void> {
  const announce = parseTorrent(await fs.readFile(torrentFile)).trackers[0]!;
  const scrape = announce.replace('/announce/', '/scrape/');
  for (let i = 0; i < 300; i++) {
    const res = await fetch(scrape);
    const body = bencode.decode(Buffer.from(await res.arrayBuffer())) as { files?: Record<string, { complete?: number }> };
    if (Object.values(body.files ?? {}).some((f) => (f.complete ?? 0) > 0)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the seeder never appeared at the tracker');
}

async function runScenario(root: string, server: string, dcpDir: string, size: number, sc: Scenario): Promise<Result> {
  const dir = path.join(root, sc.tag);
  await fs.mkdir(dir, { recursive: true });
  // A group per scenario: the tracker keeps peers for minutes, so stopped peers of an earlier run
  // must not be in this run's peer lists.
  const group = `eff-${sc.tag}`;
  const pw = 'bench';
  const pub = await publishDcp({ dcpDir, server, group, password: pw, ownerPassword: pw, create: true, log: quiet });
  const seedTorrent = await personalTorrent(server, group, pw, pub.name, `seed-${sc.tag}`, path.join(dir, 'seed.torrent'));
  const peers: Peer[] = [];
  try {
    const seeder = await startSeeder({ client: sc.seeder, torrent: seedTorrent, savePath: path.dirname(dcpDir), address: SEED_ADDRESS, uploadBps: U, superSeeding: process.env.BENCH_SWARM_SUPER });
    peers.push(seeder);
    await seederListed(seedTorrent);
    const files = await Promise.all(Array.from({ length: sc.n }, (_, i) => personalTorrent(server, group, pw, pub.name, `peer-${sc.tag}-${i}`, path.join(dir, `p${i}.torrent`))));
    const start = performance.now();
    const downloaders = await Promise.all(
      files.map((torrent, i) => startDownloader({ client: sc.downloaders, name: `${sc.downloaders}-${i}`, torrent, out: path.join(dir, `p${i}`), address: peerAddress(i), uploadBps: U })),
    );
    peers.push(...downloaders);
    // Seeder upload over time: when its first payload byte left, and how busy it was afterwards.
    let firstByte = 0;
    const timeline: number[] = [];
    const probe = setInterval(() => {
      const up = seeder.uploaded();
      if (!firstByte && up > 0) firstByte = performance.now();
      timeline.push(up);
    }, 1000);
    const doneAt = await Promise.all(downloaders.map((d) => d.done)).finally(() => clearInterval(probe));
    process.stderr.write(
      `swarm-eff: ${sc.tag}: seeder first byte after ${((firstByte - start) / 1000).toFixed(1)} s; done at ${doneAt.map((t) => ((t - start) / 1000).toFixed(1)).join(' ')} s; seeder MB/s per second: ${timeline.map((v, i) => ((v - (timeline[i - 1] ?? 0)) / 1e6).toFixed(1)).join(' ')}\n`,
    );
    const seconds = (Math.max(...doneAt) - start) / 1000;
    // Let the seeder's last upload report arrive.
    await new Promise((r) => setTimeout(r, 300));
    const ideal = Math.max(size / U, (sc.n * size) / (U + sc.n * U));
    return { seconds, efficiency: ideal / seconds, copies: seeder.uploaded() / size };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-eff-'));
  const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 2, openGroups: true });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    // Two reels (picture + sound each), most bytes in the pictures, as in a feature.
    const unit = Math.floor(S_TARGET / 20);
    const dcp = await generateDcp(path.join(root, 'dcp', 'BENCH_EFF_FTR'), { assetSizes: [9 * unit, unit, 9 * unit, unit], seed: 16 });
    const size = dcp.totalBytes;
    process.stderr.write(`swarm-eff: ${(size / 1e6).toFixed(0)} MB, every upload capped at ${(U / 1e6).toFixed(1)} MB/s\n`);
    const scenarios: Scenario[] = [];
    for (const n of [4, 8]) for (const c of ['cineswarm', 'lt', 'aria2c'] as const) scenarios.push({ tag: `n${n}-${c}`, n, downloaders: c, seeder: 'lt' });
    scenarios.push({ tag: 'n8-cs-seeder', n: 8, downloaders: 'cineswarm', seeder: 'cineswarm' });
    const results = new Map<string, Result>();
    for (const sc of scenarios) {
      if (ONLY && !ONLY.includes(sc.tag)) continue;
      const r = await runScenario(root, server, dcp.dir, size, sc);
      results.set(sc.tag, r);
      process.stderr.write(`swarm-eff: ${sc.tag}: ${r.seconds.toFixed(2)} s, efficiency ${r.efficiency.toFixed(3)}, seeder sent ${r.copies.toFixed(2)} copies\n`);
    }
    const line = (name: string, value: number, unit: string, ref: number | undefined, refName: string): void => {
      console.log(`BENCH ${name} ${value.toFixed(3)} ${unit} ratio=${ref ? (value / ref).toFixed(3) : 'n/a'} ref=${refName}`);
    };
    for (const n of [4, 8]) {
      const ref = results.get(`n${n}-aria2c`);
      for (const c of ['cineswarm', 'lt', 'aria2c']) {
        const r = results.get(`n${n}-${c}`);
        if (r) line(`swarm-eff-n${n}-${c}`, r.efficiency, 'x', ref?.efficiency, `aria2c-n${n}`);
        if (r) line(`swarm-copies-n${n}-${c}`, r.copies, 'copies', 1, 'one-copy');
      }
    }
    const cs = results.get('n8-cs-seeder');
    if (cs) {
      line('swarm-eff-n8-cs-seeder', cs.efficiency, 'x', results.get('n8-cineswarm')?.efficiency, 'python3-libtorrent-seeder');
      line('seeder-copies-n8', cs.copies, 'copies', 1, '1.0');
    }
  } finally {
    await app.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`swarm-eff bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
