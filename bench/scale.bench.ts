// The S3 + Redis deployment against the directory store, measured in the same run on 127.0.0.1:
// conditional polls (304) and tracker announces per second through one server of each kind
// (same load client, a separate process), and the listing of a 10,000-torrent group, cold (a
// fresh server reads it whole) and after one upload (the incremental catalog).
import { spawn } from 'node:child_process';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server/app.js';
import { DirGroupStore } from '../src/server/dir-store.js';
import type { GroupStore } from '../src/server/group-store.js';
import { makePasskey } from '../src/server/passkey.js';
import { hashPassword } from '../src/server/passwords.js';
import { S3GroupStore } from '../src/server/s3-store.js';
import { mapLimit } from '../src/util/map-limit.js';
import { startCeph } from '../test/helpers/ceph.js';
import { startRedis } from '../test/helpers/redis.js';
import { basic, makeTorrent } from '../test/server/helpers.js';
import { announceUrl, decodeAnnounce, peerId } from '../test/server/tracker-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUND_MS = 3000;
const ROUNDS = 3;
const BIG = 10_000;
const PW = 'bench-password';
const auth = { authorization: basic('bench', PW) };

interface Mode {
  keepAlive: boolean;
  concurrency: number;
}
const POLLS: Mode = { keepAlive: true, concurrency: 16 };
// one connection per announce, as BitTorrent clients do
const ANNOUNCES: Mode = { keepAlive: false, concurrency: 4 };

/** Requests per second one round of the load client (bench/http-load.ts) managed; every answer must be `expect`. */
function rate(origin: string, paths: string[], headers: Record<string, string>, expect: number, mode: Mode): Promise<number> {
  const spec = JSON.stringify({ origin, paths, headers, durationMs: ROUND_MS, ...mode });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', path.join(here, 'http-load.ts'), spec], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load client exited ${code}`));
      const r = JSON.parse(out) as { requests: number; errors: number; seconds: number; statuses: Record<string, number> };
      const bad = Object.keys(r.statuses).filter((s) => Number(s) !== expect);
      if (bad.length > 0 || r.errors > 0) return reject(new Error(`unexpected answers from ${origin}${paths[0]}: ${out.trim()}`));
      resolve(r.requests / r.seconds);
    });
  });
}

interface Deployment {
  name: string;
  app: FastifyInstance;
  store: GroupStore;
  origin: string;
  etag: string;
  announces: string[];
}

async function deploy(name: string, dataDir: string, store: GroupStore, redis?: string): Promise<Deployment> {
  const app = await buildServer({ dataDir, store, redis, redisNamespace: `bench-${name}:`, logger: false, openGroups: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
  await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'bench', password: PW, ownerPassword: PW } });
  let infoHash = '';
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({
      method: 'POST', url: '/api/groups/bench/torrents', headers: { ...auth, 'content-type': 'application/x-bittorrent' },
      payload: makeTorrent({ name: `Feature_${i}`, content: Buffer.alloc(50_000, i) }),
    });
    infoHash = res.json<{ infoHash: string }>().infoHash;
  }
  const etag = (await app.inject({ url: '/api/groups/bench/torrents', headers: auth })).headers.etag as string;
  // 500 peers of one swarm, each with its own passkey; all announced once before the rounds
  const hash = Buffer.from(infoHash, 'hex');
  const announces = Array.from({ length: 500 }, (_, i) =>
    announceUrl(makePasskey(app.cineswarm.secret, 'bench', `site-${i}`), { infoHash: hash, peerId: peerId(`b${i}`), port: 10000 + i, left: i % 5 === 0 ? 0 : 1000, compact: '1' }),
  );
  for (const q of announces) {
    const a = decodeAnnounce((await app.inject({ url: q })).rawPayload);
    if (a.failure) throw new Error(`${name}: announce refused: ${a.failure}`);
  }
  return { name, app, store, origin, etag, announces };
}

/** Best of ROUNDS rounds each, the two deployments alternating so both see the same machine. */
async function compare(dir: Deployment, s3: Deployment, one: (d: Deployment) => Promise<number>): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await one(dir));
    b.push(await one(s3));
  }
  return [Math.max(...a), Math.max(...b)];
}

/** ms of the first listing of a 10,000-torrent group by a fresh server, and of the listing after one upload. */
async function listing(dataDir: string, store: GroupStore, redis?: string): Promise<[number, number]> {
  const app = await buildServer({ dataDir, store, redis, redisNamespace: `bench-list-${Math.random()}:`, logger: false, openGroups: true });
  const big = { authorization: basic('big', PW) };
  try {
    let t = process.hrtime.bigint();
    const first = await app.inject({ url: '/api/groups/big/torrents', headers: big });
    const cold = Number(process.hrtime.bigint() - t) / 1e6;
    if (first.json<unknown[]>().length !== BIG) throw new Error(`listing gave ${first.json<unknown[]>().length} torrents`);
    const up = await app.inject({
      method: 'POST', url: '/api/groups/big/torrents', headers: { ...big, 'content-type': 'application/x-bittorrent' },
      payload: makeTorrent({ name: 'New_Feature', content: Buffer.alloc(100, 7) }),
    });
    if (up.statusCode !== 201) throw new Error(`upload into the big group: ${up.statusCode}`);
    t = process.hrtime.bigint();
    const after = await app.inject({ url: '/api/groups/big/torrents', headers: big });
    const warm = Number(process.hrtime.bigint() - t) / 1e6;
    if (after.json<unknown[]>().length !== BIG + 1) throw new Error('the upload is missing from the listing');
    return [cold, warm];
  } finally {
    await app.close();
  }
}

async function fillBig(store: GroupStore): Promise<void> {
  await store.createGroup({ id: 'big', passwordHash: await hashPassword(PW), createdAt: new Date().toISOString() });
  const names = Array.from({ length: BIG }, (_, i) => `T${String(i).padStart(5, '0')}`);
  await mapLimit(names, 32, (name) => store.addTorrent('big', name, makeTorrent({ name, content: Buffer.from(name) })));
}

function line(name: string, value: number, unit: string, ref: number, digits = 0): string {
  return `BENCH ${name} ${value.toFixed(digits)} ${unit} ratio=${(value / ref).toFixed(2)} ref=dir-store`;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-scale-'));
  const ceph = await startCeph();
  const redis = await startRedis();
  const s3 = (prefix: string) =>
    new S3GroupStore({ bucket: 'bench', prefix, endpoint: ceph.endpoint, credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }, requestTimeoutMs: 15_000 });
  const opened: Array<{ app: FastifyInstance; store: GroupStore }> = [];
  try {
    const admin = s3('');
    await admin.client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    admin.close();
    const dirStore = new DirGroupStore(path.join(work, 'dir'));
    await dirStore.init();
    const s3Store = s3('api/');
    await s3Store.init();
    const dir = await deploy('dir', path.join(work, 'dir'), dirStore);
    const remote = await deploy('s3', path.join(work, 's3'), s3Store, redis.url);
    opened.push(dir, remote);

    const [pollDir, pollS3] = await compare(dir, remote, (d) => rate(d.origin, ['/api/groups/bench/torrents'], { ...auth, 'if-none-match': d.etag }, 304, POLLS));
    console.log(line('scale-poll-304-s3-redis', pollS3, 'req/s', pollDir));
    const [annDir, annS3] = await compare(dir, remote, (d) => rate(d.origin, d.announces, {}, 200, ANNOUNCES));
    console.log(line('scale-announce-s3-redis', annS3, 'req/s', annDir));
    console.log(`# dir store: ${pollDir.toFixed(0)} polls/s, ${annDir.toFixed(0)} announces/s; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const d of opened) await d.app.close();
    opened.length = 0;

    // 10,000 torrents written through each store (not the API: that would time scrypt and fsync)
    const bigDir = new DirGroupStore(path.join(work, 'big-dir'));
    await bigDir.init();
    const bigS3 = s3('big/');
    await Promise.all([fillBig(bigDir), fillBig(bigS3)]);
    const [coldDir, warmDir] = await listing(path.join(work, 'big-dir'), bigDir);
    const [coldS3, warmS3] = await listing(path.join(work, 'big-s3'), bigS3, redis.url);
    console.log(line('scale-list-10k-cold-s3', coldS3, 'ms', coldDir, 1));
    console.log(line('scale-list-10k-after-upload-s3', warmS3, 'ms', warmDir, 1));
    console.log(`# dir store: ${coldDir.toFixed(1)} ms cold, ${warmDir.toFixed(1)} ms after an upload; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    bigS3.close();
    s3Store.close();
  } finally {
    for (const d of opened) await d.app.close();
    await redis.stop();
    await ceph.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`scale bench: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
