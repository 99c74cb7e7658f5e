// Central server throughput on 127.0.0.1: conditional polls (304) of a group's torrent list
// against a bare fastify route answering 304, and tracker announces against opentracker,
// each pair measured in this run with the same load client (a separate process).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { buildServer } from '../src/server/app.js';
import { makePasskey } from '../src/server/passkey.js';
import { basic, makeTorrent } from '../test/server/helpers.js';
import { announceUrl, decodeAnnounce, peerId } from '../test/server/tracker-client.js';
import { freePort } from '../test/helpers/net.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONCURRENCY = 16;
const ROUND_MS = 3000;
const ROUNDS = 3;

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  statuses: Record<string, number>;
}

interface Mode {
  keepAlive: boolean;
  concurrency: number;
}
const POLLS: Mode = { keepAlive: true, concurrency: CONCURRENCY };
// One connection per announce, as BitTorrent clients do; one client at a time, because
// opentracker drops most connections made concurrently from one host.
const ANNOUNCES: Mode = { keepAlive: false, concurrency: 1 };

function load(origin: string, paths: string[], headers: Record<string, string>, mode: Mode): Promise<LoadResult> {
  const spec = JSON.stringify({ origin, paths, headers, durationMs: ROUND_MS, ...mode });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', path.join(here, 'http-load.ts'), spec], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client exited ${code}`))));
  });
}

/** Best rate of ROUNDS alternating rounds, after checking every answer had the expected status. */
async function rate(origin: string, paths: string[], headers: Record<string, string>, expect: number, rounds: number[], mode = POLLS): Promise<void> {
  const r = await load(origin, paths, headers, mode);
  const bad = Object.entries(r.statuses).filter(([s]) => Number(s) !== expect);
  if (bad.length > 0 || r.errors > 0) throw new Error(`unexpected statuses from ${origin}${paths[0]}: ${JSON.stringify(r)}`);
  rounds.push(r.requests / r.seconds);
}


function line(name: string, value: number, ref: number, refName: string): string {
  return `BENCH ${name} ${value.toFixed(0)} req/s ratio=${(value / ref).toFixed(2)} ref=${refName}`;
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-server-'));
  const children: ChildProcess[] = [];
  const app = await buildServer({ dataDir: dir, logger: false, openGroups: true });
  const bare = Fastify();
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
    const auth = { authorization: basic('bench', 'bench-password') };
    await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'bench', password: 'bench-password', ownerPassword: 'bench-password' } });
    let infoHash = '';
    for (let i = 0; i < 20; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/groups/bench/torrents',
        headers: { ...auth, 'content-type': 'application/x-bittorrent' },
        payload: makeTorrent({ name: `Feature_${i}`, content: Buffer.alloc(50_000, i) }),
      });
      infoHash = res.json<{ infoHash: string }>().infoHash;
    }
    const etag = (await app.inject({ url: '/api/groups/bench/torrents', headers: auth })).headers.etag as string;

    // Reference: the least a fastify route can do for a conditional GET.
    bare.get('/poll', async (_req, reply) => reply.code(304).header('etag', etag).send());
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const bareOrigin = `http://127.0.0.1:${(bare.server.address() as net.AddressInfo).port}`;

    const ours: number[] = [];
    const ref: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await rate(origin, ['/api/groups/bench/torrents'], { ...auth, 'if-none-match': etag }, 304, ours);
      await rate(bareOrigin, ['/poll'], {}, 304, ref);
    }
    console.log(line('server-poll-304', Math.max(...ours), Math.max(...ref), 'fastify-bare-304'));

    // Announces: 500 peers of one swarm, each answer carrying up to 50 compact peers.
    const hash = Buffer.from(infoHash, 'hex');
    // one passkey per peer: the tracker keys swarm entries by the passkey's peer
    const queries = Array.from({ length: 500 }, (_, i) => announceUrl(makePasskey(app.cineswarm.secret, 'bench', `site-${i}`), { infoHash: hash, peerId: peerId(`b${i}`), port: 10000 + i, left: i % 5 === 0 ? 0 : 1000, compact: '1' }));
    for (const q of queries) {
      const a = decodeAnnounce((await app.inject({ url: q })).rawPayload);
      if (a.failure) throw new Error(`announce refused: ${a.failure}`);
    }
    const announces: number[] = [];
    const refAnnounces: number[] = [];
    let refName = 'opentracker';
    const otPort = await freePort();
    const haveOpentracker = spawnSync('sh', ['-c', 'command -v opentracker']).status === 0;
    let refOrigin = '';
    let refPaths: string[] = [];
    if (haveOpentracker) {
      // Debian's opentracker serves whitelisted info hashes only; it reads the list after
      // changing root to -d, hence the relative path.
      // It also drops to user nobody, so its directory must be readable by others.
      const otDir = path.join(dir, 'opentracker');
      await fs.mkdir(otDir, { mode: 0o755 });
      await fs.chmod(dir, 0o755);
      await fs.writeFile(path.join(otDir, 'whitelist'), infoHash + '\n', { mode: 0o644 });
      const ot = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(otPort), '-P', String(otPort), '-d', otDir, '-w', 'whitelist'], { stdio: 'ignore' });
      children.push(ot);
      refOrigin = `http://127.0.0.1:${otPort}`;
      refPaths = queries.map((q) => q.replace(/^\/announce\/[^?]+/, '/announce'));
      for (let i = 0; i < 50; i++) {
        const ok = await fetch(`${refOrigin}${refPaths[0]}`).then(async (r) => !decodeAnnounce(Buffer.from(await r.arrayBuffer())).failure, () => false);
        if (ok) break;
        if (i === 49) throw new Error('opentracker did not answer');
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const p of refPaths) await fetch(`${refOrigin}${p}`).then((r) => r.arrayBuffer());
    } else {
      refName = 'fastify-bare-announce';
      const body = Buffer.from('d8:intervali60e5:peers0:e');
      bare.get('/announce', async (_req, reply) => reply.type('text/plain').send(body));
      refOrigin = bareOrigin;
      refPaths = queries.map((q) => q.replace(/^\/announce\/[^?]+/, '/announce'));
    }
    for (let i = 0; i < ROUNDS; i++) {
      await rate(origin, queries, {}, 200, announces, ANNOUNCES);
      await rate(refOrigin, refPaths, {}, 200, refAnnounces, ANNOUNCES);
    }
    console.log(line('server-announce', Math.max(...announces), Math.max(...refAnnounces), refName));
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await bare.close();
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`server bench: ${(err as Error).message}`);
  process.exit(1);
});
