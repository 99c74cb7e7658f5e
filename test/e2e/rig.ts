// Test rig for end-to-end runs on 127.0.0.1: a real central server on port 0, agents (in this
// process or as child processes) with their own temp directories, and a seeding publisher.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { buildServer, type ServerOptions } from '../../src/server/app.js';
import { Agent } from '../../src/agent/agent.js';
import { validateConfig, type AgentConfig } from '../../src/agent/config/config.js';
import { publishDcp, startSeeding, type Seeder } from '../../src/publish/publisher.js';
import { Session, createTorrent, type SessionSettings } from '../../src/engine/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

export const quiet = pino({ level: process.env.CINESWARM_TEST_LOG ?? 'silent' });

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

/** The rig's owner password of a group, from its member password (tests name only the member one). */
export const ownerOf = (memberPassword: string): string => `${memberPassword}-owner`;

/** Creates a group with the rig's password pair; the rig's servers run with openGroups. */
export async function createGroupOn(server: string, g: { id: string; password: string }): Promise<void> {
  const res = await fetch(`${server}/api/groups`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: g.id, password: g.password, ownerPassword: ownerOf(g.password) }),
  });
  if (res.status !== 201) throw new Error(`creating group ${g.id}: ${res.status} ${await res.text()}`);
}

export async function startServer(t: ExecutionContext, dataDir: string, port = 0, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const app = await buildServer({ dataDir, logger: false, announceIntervalSeconds: 5, openGroups: true, ...extra });
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  t.teardown(close);
  return { url: `http://127.0.0.1:${actual}`, port: actual, dataDir, close };
}

export interface AgentSpec {
  id: string;
  server: string;
  groups: { id: string; password: string }[];
  root: string;
  minFreeBytes?: number;
  pollSeconds?: number;
}

export function agentConfig(s: AgentSpec): AgentConfig {
  return validateConfig({
    id: s.id,
    server: s.server,
    groups: s.groups,
    dataDir: path.join(s.root, s.id, 'data'),
    downloadDir: path.join(s.root, s.id, 'incoming'),
    ingestDir: path.join(s.root, s.id, 'ingest'),
    listen: { host: '127.0.0.1', port: 0 },
    poll: { intervalSeconds: s.pollSeconds ?? 1, jitterSeconds: 0.5, maxBackoffSeconds: 4 },
    minFreeBytes: s.minFreeBytes ?? 0,
    resumeSaveSeconds: 1,
    reportIntervalSeconds: 1,
    engine: { allowMultipleConnectionsPerIp: true },
  });
}

export async function startAgent(t: ExecutionContext, cfg: AgentConfig): Promise<Agent> {
  const agent = new Agent(cfg, { logger: quiet.child({ agent: cfg.id }) });
  await agent.start();
  t.teardown(() => agent.stop());
  return agent;
}

export interface PublishedSeed {
  name: string;
  infoHash: string;
  size: number;
  torrent: Buffer;
  seeder: Seeder;
}

/** Publishes dcpDir to a group (member password `password`, owner password ownerOf(password))
 * and seeds it from this process. */
export async function publishAndSeed(
  t: ExecutionContext,
  o: { server: string; group: string; password: string; dcpDir: string; create?: boolean; peerId?: string; session?: SessionSettings; uploadLimit?: number },
): Promise<PublishedSeed> {
  const ownerPassword = ownerOf(o.password);
  const pub = await publishDcp({ dcpDir: o.dcpDir, server: o.server, group: o.group, password: o.password, ownerPassword, create: o.create ?? true, log: quiet });
  const seeder = await startSeeding({
    server: o.server,
    group: o.group,
    ownerPassword,
    name: pub.name,
    dcpDir: o.dcpDir,
    peerId: o.peerId ?? `publisher-${o.group}`,
    session: { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true, ...o.session },
    uploadLimit: o.uploadLimit,
    log: quiet,
  });
  t.teardown(() => seeder.stop());
  return { name: pub.name, infoHash: pub.infoHash, size: pub.size, torrent: pub.torrent, seeder };
}

/** The usual start of a swarm test: its own temp root, a server, and a generated DCP published
 * to a new group and seeded from this process. */
export async function publishedSwarm(
  t: ExecutionContext,
  o: { prefix: string; name: string; assetSizes: number[]; seed: number; group: { id: string; password: string }; uploadLimit?: number },
) {
  const root = await tempDir(t, o.prefix);
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'pub', o.name), { assetSizes: o.assetSizes, seed: o.seed });
  const G = o.group;
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: o.uploadLimit });
  return { root, server, dcp, G, pub };
}

export { waitFor };

/** Every file below dir, relative path → bytes (small test DCPs only). */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out.set(r, await fs.readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}

/** Each file's SHA-256 by relative path: compares trees of MiB-sized files in milliseconds, where
 * ava's deep comparison of readTree's Buffers takes tens of seconds. */
export async function treeDigests(dir: string): Promise<Map<string, string>> {
  return new Map([...(await readTree(dir))].map(([f, b]) => [f, createHash('sha256').update(b).digest('hex')]));
}

/** Names in ingestDir, hidden ones included: a partial placement would show up here. */
export async function ingestListing(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

/** The owner's status of a group, given its member password (the rig derives the owner's, ownerOf). */
export async function groupStatus(server: string, group: string, password: string): Promise<unknown> {
  const res = await fetch(`${server}/api/groups/${group}/status`, { headers: { authorization: 'Basic ' + Buffer.from(`${group}:${ownerOf(password)}`).toString('base64') } });
  if (!res.ok) throw new Error(`group status ${res.status}`);
  return res.json();
}

export interface AgentProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Runs `cineswarm agent --config F` as a child process; its pino JSON lines are collected. */
export function spawnAgent(t: ExecutionContext, configFile: string): AgentProcess {
  const child = spawn(process.execPath, ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', configFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, CINESWARM_LOG_JSON: '1', CINESWARM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (stderr.trim()) t.log(`agent stderr: ${stderr.trim().slice(0, 2000)}`);
  });
  return { child, lines, exited };
}

/** Logs in to an agent's local page (web.password) and offers its JSON API, as the page uses it. */
export async function agentWeb(url: string, password: string) {
  const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  if (!login.ok) throw new Error(`agent web login ${login.status}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return {
    async status(): Promise<AgentStatus> {
      const res = await fetch(`${url}/api/status`);
      if (!res.ok) throw new Error(`agent status ${res.status}`);
      return (await res.json()) as AgentStatus;
    },
    async action(infoHash: string, action: 'pause' | 'resume' | 'reverify'): Promise<void> {
      const res = await fetch(`${url}/api/torrents/${infoHash}/${action}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
      if (!res.ok) throw new Error(`agent ${action} ${res.status}: ${await res.text()}`);
    },
  };
}

/** A DCP damaged after its packing list was written, uploaded by hand as a careless tool might
 * (`cineswarm publish` itself refuses it) and seeded from this process: it can never verify. */
export async function seededDamagedDcp(t: ExecutionContext, o: { root: string; server: string; name: string; seed: number; group: { id: string; password: string }; assetSizes?: number[]; uploadLimit?: number }) {
  // the second asset is the damaged one
  const dcp = await generateDcp(path.join(o.root, 'pub', o.name), { assetSizes: o.assetSizes ?? [3 * 1024 * 1024, 1024 * 1024], seed: o.seed });
  const bad = dcp.assets[1];
  const fh = await fs.open(bad.path, 'r+');
  await fh.write(Buffer.from('damaged'), 0, 7, 4096);
  await fh.close();
  const client = new ServerClient(o.server);
  await createGroupOn(o.server, o.group);
  const owner = { id: o.group.id, password: ownerOf(o.group.password) };
  const up = await client.uploadTorrent(owner, await createTorrent(dcp.dir, { private: true, trackers: [`${o.server}/announce`] }));
  const seeder = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true, ...(o.uploadLimit ? { rateLimitLocalPeers: true } : {}) });
  t.teardown(() => seeder.close());
  seeder.addTorrent({ torrent: await client.fetchTorrent(owner, up.name, 'careless-publisher'), savePath: path.dirname(dcp.dir), seedMode: true, ...(o.uploadLimit ? { uploadLimit: o.uploadLimit } : {}) });
  return { dcp, bad, infoHash: up.infoHash, name: up.name };
}

/** `cineswarm agent` as a child process with its local page on a free port, logged in. */
export async function spawnAgentWithWeb(t: ExecutionContext, root: string, cfg: AgentConfig) {
  const port = await freePort();
  const config = { ...cfg, web: { host: '127.0.0.1', port, password: 'projectionist' } };
  const file = path.join(root, `${cfg.id}.json`);
  await fs.writeFile(file, JSON.stringify(config));
  const proc = spawnAgent(t, file);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('status page up', () => fetch(`${url}/api/status`).then((r) => r.ok, () => false), 60_000);
  return { proc, file, config, web: await agentWeb(url, 'projectionist') };
}
