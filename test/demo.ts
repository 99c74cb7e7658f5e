// `make demo`: the whole product on 127.0.0.1. A central server, a distributor publishing a
// generated DCP of a few hundred MB to a new group, and three cinema agents (real `cineswarm agent`
// processes, each with its own folders) that fetch it from each other, verify it and ingest it.
// Ctrl-C stops everything; DEMO_EXIT=1 stops right after all three are ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildServer } from '../src/server/app.js';
import { ServerClient } from '../src/protocol/index.js';
import { publishDcp, startSeeding } from '../src/publish/publisher.js';
import type { AgentStatus } from '../src/agent/monitoring/status-types.js';
import { generateDcp } from './helpers/dcp-generator.js';
import { REPO_ROOT } from './helpers/paths.js';

const MiB = 1024 * 1024;
const SIZES = (process.env.DEMO_SIZES_MIB ?? '150,30,90,20').split(',').map((s) => Number(s) * MiB);
const SEED_KIBPS = Number(process.env.DEMO_SEED_KIBPS ?? 40 * 1024);
const say = (s: string) => process.stdout.write(s + '\n');
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

interface DemoAgent {
  id: string;
  child: ChildProcess;
  url?: string;
  ingestDir: string;
  status?: AgentStatus;
}

/** The same table a distributor gets from `cineswarm deliveries`, from the command line itself. */
async function deliveries(server: string, group: string, ownerPassword: string): Promise<void> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'deliveries', '--server', server, '--group', group], {
    cwd: REPO_ROOT,
    env: { ...process.env, CINESWARM_OWNER_PASSWORD: ownerPassword },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await new Promise((r) => child.once('exit', r));
}

async function main(): Promise<number> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-demo-'));
  const quiet = pino({ level: 'silent' });
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const shutdown = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    say('\nstopping: agents, publisher, server ...');
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (process.env.DEMO_KEEP === '1') say(`kept ${root}`);
    else await fs.rm(root, { recursive: true, force: true });
    say('demo stopped');
    return code;
  };
  const interrupted = new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve(0));
    process.once('SIGTERM', () => resolve(0));
  });

  const run = async (): Promise<number> => {
    say(`cineswarm demo in ${root}`);
    const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 10, openGroups: true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    say(`server      ${server}`);

    say(`generating a DCP of ${mb(SIZES.reduce((a, b) => a + b, 0))} ...`);
    const dcp = await generateDcp(path.join(root, 'distributor', 'DEMO_FEATURE_FTR_S_EN-XX_51_2K_20260101_SMPTE_OV'), { assetSizes: SIZES, title: 'DEMO_FEATURE' });
    const group = `demo-${randomBytes(3).toString('hex')}`;
    const password = randomBytes(9).toString('base64url');
    const ownerPassword = randomBytes(9).toString('base64url');
    say(`publishing to new group ${group} (verify, hash, upload) ...`);
    const pub = await publishDcp({ dcpDir: dcp.dir, server, group, password, ownerPassword, create: true, log: quiet });
    const seeder = await startSeeding({
      server,
      group,
      ownerPassword,
      name: pub.name,
      dcpDir: dcp.dir,
      peerId: 'distributor',
      session: { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true },
      uploadLimit: SEED_KIBPS * 1024,
      log: quiet,
    });
    cleanups.push(() => seeder.stop());
    say(`published   ${pub.name} (${mb(pub.size)}), distributor seeding at up to ${mb(SEED_KIBPS * 1024)}/s`);
    // The distributor expects four cinemas; the fourth never starts, so the console shows it as not started.
    const owner = { id: group, password: ownerPassword };
    await new ServerClient(server).setRoster(owner, [
      { peer: 'cinema-1', name: 'Cinema One', site: 'Town A' },
      { peer: 'cinema-2', name: 'Cinema Two', site: 'Town B' },
      { peer: 'cinema-3', name: 'Cinema Three', site: 'Town C' },
      { peer: 'cinema-4', name: 'Cinema Four', site: 'Town D' },
    ]);
    say(`console     ${server}/  (group ${group}, owner password ${ownerPassword}; cinema-4 is on the roster and never starts)`);

    const agents: DemoAgent[] = [];
    for (const id of ['cinema-1', 'cinema-2', 'cinema-3']) {
      const dir = path.join(root, id);
      const cfg = {
        id,
        server,
        groups: [{ id: group, password }],
        dataDir: path.join(dir, 'data'),
        downloadDir: path.join(dir, 'incoming'),
        ingestDir: path.join(dir, 'ingest'),
        listen: { host: '127.0.0.1', port: 0 },
        poll: { intervalSeconds: 5, jitterSeconds: 2 },
        web: { host: '127.0.0.1', port: 0 },
        minFreeBytes: 0,
        resumeSaveSeconds: 5,
        reportIntervalSeconds: 2,
        engine: { allowMultipleConnectionsPerIp: true },
      };
      await fs.mkdir(dir, { recursive: true });
      const cfgFile = path.join(dir, 'agent.json');
      await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2));
      const logFile = await fs.open(path.join(dir, 'agent.log'), 'w');
      const child = spawn(process.execPath, ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', cfgFile], {
        cwd: REPO_ROOT,
        env: { ...process.env, CINESWARM_LOG_JSON: '1' },
        stdio: ['ignore', 'pipe', logFile.fd],
      });
      const a: DemoAgent = { id, child, ingestDir: cfg.ingestDir };
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        void logFile.write(c);
        buf += c.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) {
          if (!a.url && l.includes('status page listening')) a.url = (JSON.parse(l) as { url: string }).url;
        }
      });
      cleanups.push(async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
        await logFile.close();
      });
      agents.push(a);
    }
    say('agents      cinema-1, cinema-2, cinema-3 starting (logs in each agent folder, agent.log)');

    for (;;) {
      await new Promise((r) => setTimeout(r, 2000));
      for (const a of agents) {
        if (a.child.exitCode !== null) throw new Error(`${a.id} exited with code ${a.child.exitCode}; see ${path.join(root, a.id, 'agent.log')}`);
        if (!a.url) continue;
        a.status = await fetch(`${a.url}api/status`).then((r) => r.json() as Promise<AgentStatus>, () => a.status);
      }
      const parts = agents.map((a) => {
        const t = a.status?.torrents.find((x) => x.name === pub.name);
        if (!t) return `${a.id}: waiting`;
        const speed = t.state === 'downloading' ? `${mb(t.downloadBps).padStart(9)}/s` : ''.padStart(11);
        return `${a.id}: ${t.state.padEnd(11)} ${(t.progress * 100).toFixed(1).padStart(5)}% ${speed} ${t.peers} peers`;
      });
      say(parts.join(' | '));
      if (agents.every((a) => a.status?.torrents.some((x) => x.name === pub.name && (x.state === 'ready' || x.state === 'seeding')))) break;
    }
    say('\nall three cinemas hold a verified copy:');
    for (const a of agents) say(`  ${a.id}  ingest ${path.join(a.ingestDir, pub.name)}   page ${a.url}`);
    say(`\nthe distributor's view (cineswarm deliveries --server ${server} --group ${group} --owner-password ${ownerPassword}):`);
    await deliveries(server, group, ownerPassword);
    if (process.env.DEMO_EXIT === '1') return 0;
    say('\npress Ctrl-C to stop the demo');
    return interrupted;
  };

  try {
    const code = await Promise.race([run(), interrupted]);
    return await shutdown(code);
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return shutdown(1);
  }
}

main().then((code) => process.exit(code));
