// 1,000 agents long-polling one server (issue 16 item 4): every agent (one process holding 1,000
// connections) waits on the group's torrent list with If-None-Match; then a DCP is uploaded.
//   long-poll-hold         seconds until the server holds every poll (auth included), ratio to the 50 s wait
//   long-poll-notify-p50 / -max   upload → answer at the agents, ratio to the 60 s interval poll it replaces
//   long-poll-server-rss   server RSS while holding them, ratio to its RSS before
//   long-poll-idle-cpu     server CPU (share of one core) while holding them, 5 s
//   BENCH_LONGPOLL_AGENTS (default 1000)
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../src/server/app.js';
import { basic, makeTorrent } from '../test/server/helpers.js';

const N = Number(process.env.BENCH_LONGPOLL_AGENTS ?? 1000);
const WAIT = 50;
const here = path.dirname(fileURLToPath(import.meta.url));
const line = (name: string, value: number, unit: string, ratio: number, ref: string): void =>
  console.log(`BENCH ${name} ${value.toFixed(3)} ${unit} ratio=${ratio.toFixed(3)} ref=${ref}`);

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-bench-longpoll-'));
  const app = await buildServer({ dataDir: dir, logger: false, openGroups: true });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const auth = { authorization: basic('poll', 'poll-password') };
    await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'poll', password: 'poll-password', ownerPassword: 'poll-owner' } });
    const owner = { authorization: basic('poll', 'poll-owner') };
    const upload = (name: string) =>
      app.inject({ method: 'POST', url: '/api/groups/poll/torrents', headers: { ...owner, 'content-type': 'application/x-bittorrent' }, payload: makeTorrent({ name, content: Buffer.alloc(50_000, name.length) }) });
    await upload('Feature_1');
    const etag = (await app.inject({ url: '/api/groups/poll/torrents', headers: auth })).headers.etag as string;
    const rssBefore = process.memoryUsage().rss;

    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import=tsx', path.join(here, 'long-poll-clients.ts'), origin, 'poll', 'poll-password', etag, String(N), String(WAIT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout! });
    const answers = new Promise<[number, number][]>((resolve, reject) => {
      lines.on('line', (l) => {
        const m = JSON.parse(l) as { answers?: [number, number][] };
        if (m.answers) resolve(m.answers);
      });
      child.on('exit', (code) => reject(new Error(`clients exited ${code} before every answer`)));
    });
    const deadline = Date.now() + 120_000;
    while (app.cineswarm.catalog.waiting < N) {
      if (Date.now() > deadline) throw new Error(`only ${app.cineswarm.catalog.waiting} of ${N} polls held after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const holdSeconds = (performance.now() - t0) / 1000;
    const cpu0 = process.cpuUsage();
    const c0 = performance.now();
    await new Promise((r) => setTimeout(r, 5000));
    const cpu = process.cpuUsage(cpu0);
    const idleCpu = (cpu.user + cpu.system) / 1000 / (performance.now() - c0);
    const rssHeld = process.memoryUsage().rss;
    const uploadAt = performance.timeOrigin + performance.now();
    await upload('Feature_2');
    const got = await answers;
    const delays = got.filter(([s]) => s === 200).map(([, at]) => (at - uploadAt) / 1000).sort((a, b) => a - b);
    if (delays.length !== N) throw new Error(`${N - delays.length} agents did not get the new list (${JSON.stringify(got.filter(([s]) => s !== 200).slice(0, 3))})`);
    const p50 = delays[Math.floor(N / 2)]!;
    const max = delays[N - 1]!;
    process.stderr.write(`long-poll: ${N} agents held after ${holdSeconds.toFixed(2)} s; notified in p50 ${(p50 * 1000).toFixed(0)} ms, max ${(max * 1000).toFixed(0)} ms; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    line(`long-poll-hold-${N}`, holdSeconds, 's', holdSeconds / WAIT, `wait-${WAIT}s`);
    line(`long-poll-notify-p50-${N}`, p50, 's', p50 / 60, 'interval-poll-60s');
    line(`long-poll-notify-max-${N}`, max, 's', max / 60, 'interval-poll-60s');
    line(`long-poll-server-rss-${N}`, rssHeld / 1e6, 'MB', rssHeld / rssBefore, 'server-rss-before');
    line(`long-poll-idle-cpu-${N}`, idleCpu, 'cores', idleCpu, 'one-core');
  } finally {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`long-poll bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
