// Swarm efficiency: one seeder capped at U bytes/s, N downloaders in the group (engine sessions
// found through our own tracker). Efficiency = (size / U) / time: 1.0 means every peer got the DCP
// as fast as the seeder alone could have sent one copy; plain client-server would give 1/N.
// The reference is one downloader alone from the same capped seeder, measured in the same run.
// The clock starts when the peers add the torrent, so every figure also pays a fixed start-up
// (announce, connect, first unchoke and the rate limiter's first 500 ms quota tick: ~1.3 s here,
// ~12% of a 10 s transfer, nothing next to a feature's hours) and the limiter counting TCP/IP
// overhead against U (~5%): one peer alone reaches ~0.84, not 1.0. The start-up is printed as
// swarm-nN-startup (until the seeder's first payload byte), and swarm-nN-transfer-efficiency
// charges only the time after it, to show what the swarm itself loses beyond that fixed cost.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildServer } from '../src/server/app.js';
import { publishDcp, startSeeding } from '../src/publish/publisher.js';
import { ServerClient } from '../src/protocol/index.js';
import { Session } from '../src/engine/index.js';
import { generateDcp } from '../test/helpers/dcp-generator.js';

const MiB = 1024 * 1024;
const U = Number(process.env.BENCH_SWARM_UPLOAD_BPS ?? 8 * MiB);
const SIZES = [48 * MiB, 8 * MiB, 24 * MiB, 4 * MiB];
const quiet = pino({ level: 'silent' });

interface Run {
  seconds: number;
  /** seconds from adding the torrent to the seeder's first payload byte */
  startup: number;
  size: number;
}

async function swarm(root: string, server: string, dcpDir: string, n: number, tag: string): Promise<Run> {
  const group = { id: `bench-${tag}`, password: 'bench' };
  const pub = await publishDcp({ dcpDir, server, group: group.id, password: group.password, create: true, log: quiet });
  const seeder = await startSeeding({
    server,
    group: group.id,
    password: group.password,
    name: pub.name,
    dcpDir,
    peerId: `seed-${tag}`,
    session: { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true },
    uploadLimit: U,
    log: quiet,
  });
  const client = new ServerClient(server);
  const peers = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const bytes = await client.fetchTorrent(group, pub.name, `peer-${tag}-${i}`);
      const session = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true, raw: { min_announce_interval: 5, min_reconnect_time: 5 } });
      return { session, bytes, dir: path.join(root, tag, `peer-${i}`) };
    }),
  );
  const start = performance.now();
  const torrents = peers.map((p) => p.session.addTorrent({ torrent: p.bytes, savePath: p.dir }));
  let firstByte = 0;
  while (!torrents.every((t) => t.status().isSeeding)) {
    if (!firstByte && seeder.torrent.status().totalPayloadUpload > 0) firstByte = performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  const startup = ((firstByte || performance.now()) - start) / 1000;
  const sent = seeder.torrent.status().totalPayloadUpload;
  // Every copy beyond the first that the seeder sends is time the swarm could have saved.
  process.stderr.write(`swarm: N=${n}: the seeder sent ${(sent / pub.size).toFixed(2)} copies\n`);
  await Promise.all(peers.map((p) => p.session.close()));
  await seeder.stop();
  await fs.rm(path.join(root, tag), { recursive: true, force: true });
  return { seconds, startup, size: pub.size };
}

async function main(): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-swarm-'));
  const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 2 });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const dcp = await generateDcp(path.join(root, 'dcp', 'BENCH_SWARM_FTR'), { assetSizes: SIZES, seed: 7 });
    const one = await swarm(root, server, dcp.dir, 1, 'n1');
    const ideal = one.size / U;
    const refEfficiency = ideal / one.seconds;
    process.stderr.write(`swarm: ${(one.size / 1e6).toFixed(1)} MB, seeder capped at ${(U / 1e6).toFixed(1)} MB/s; one peer alone: ${one.seconds.toFixed(2)} s\n`);
    console.log(`BENCH swarm-n1-efficiency ${refEfficiency.toFixed(3)} x ratio=1.000 ref=swarm-n1-efficiency`);
    console.log(`BENCH swarm-n1-startup ${one.startup.toFixed(2)} s ratio=${(one.startup / one.seconds).toFixed(3)} ref=swarm-n1-time`);
    const refTransfer = ideal / (one.seconds - one.startup);
    console.log(`BENCH swarm-n1-transfer-efficiency ${refTransfer.toFixed(3)} x ratio=1.000 ref=swarm-n1-transfer-efficiency`);
    for (const n of [4, 8]) {
      const r = await swarm(root, server, dcp.dir, n, `n${n}`);
      const eff = ideal / r.seconds;
      process.stderr.write(`swarm: N=${n}: ${r.seconds.toFixed(2)} s for every peer to hold the DCP (client-server would need about ${(n * one.seconds).toFixed(1)} s)\n`);
      console.log(`BENCH swarm-n${n}-efficiency ${eff.toFixed(3)} x ratio=${(eff / refEfficiency).toFixed(3)} ref=swarm-n1-efficiency`);
      console.log(`BENCH swarm-n${n}-time ${r.seconds.toFixed(2)} s ratio=${(r.seconds / one.seconds).toFixed(3)} ref=swarm-n1-time`);
      const transfer = ideal / (r.seconds - r.startup);
      console.log(`BENCH swarm-n${n}-startup ${r.startup.toFixed(2)} s ratio=${(r.startup / one.seconds).toFixed(3)} ref=swarm-n1-time`);
      console.log(`BENCH swarm-n${n}-transfer-efficiency ${transfer.toFixed(3)} x ratio=${(transfer / refTransfer).toFixed(3)} ref=swarm-n1-transfer-efficiency`);
    }
  } finally {
    await app.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`swarm bench: ${(err as Error).message}\n`);
  process.exit(1);
});
