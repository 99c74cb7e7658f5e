// Shared pieces of the firmware tests: signing keys, small release payloads, an agent process
// started from the root's `current` slot (what systemd does), and snapshots of a root tree.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { freePort } from '../helpers/net.js';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { packBundle, type BuiltBundle } from '../../src/firmware/bundle.js';
import { generateKeyFiles } from '../../src/firmware/sign.js';

export interface TestKeys {
  privateKeyPem: string;
  publicKeyPem: string;
  publicKeyFile: string;
}

export async function makeKeys(dir: string): Promise<TestKeys> {
  const files = await generateKeyFiles(dir);
  return {
    privateKeyPem: await fs.readFile(files.privateKey, 'utf8'),
    publicKeyPem: await fs.readFile(files.publicKey, 'utf8'),
    publicKeyFile: files.publicKey,
  };
}

export { freePort };

const LAUNCHER = '#!/bin/sh\nexec node "$(dirname "$0")/cineswarm.js" "$@"\n';

// A small release whose `agent` command serves the status API with its own version, as the
// real agent does; 'exits' is a release whose agent dies at start (a broken build).
const HEALTHY_AGENT = `// Release payload for the updater tests: the agent status API, reporting this release's version.
import fs from 'node:fs';
import http from 'node:http';
const argv = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(argv[argv.indexOf('--config') + 1], 'utf8'));
const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: cfg.id, version: pkg.version, uptime: process.uptime(), torrents: [] }));
}).listen(cfg.web.port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;
const BROKEN_AGENT = `// Release payload for the updater tests: an agent that fails at start.
process.stderr.write('agent: cannot start\\n');
process.exit(1);
`;

/** Stages a small release (launcher, agent payload, the repository's real rootfs) and packs it. */
export async function buildTestBundle(opts: {
  workDir: string;
  version: string;
  keys: TestKeys;
  agent?: 'healthy' | 'exits';
  outDir?: string;
  /** Changes the staged tree before packing (a release with different files). */
  edit?: (stageDir: string) => Promise<void>;
}): Promise<BuiltBundle> {
  const stage = await fs.mkdtemp(path.join(opts.workDir, `stage-${opts.version}-`));
  await fs.mkdir(path.join(stage, 'bin'));
  await fs.writeFile(path.join(stage, 'bin', 'cineswarm'), LAUNCHER, { mode: 0o755 });
  await fs.writeFile(path.join(stage, 'bin', 'cineswarm.js'), opts.agent === 'exits' ? BROKEN_AGENT : HEALTHY_AGENT);
  await fs.writeFile(path.join(stage, 'package.json'), JSON.stringify({ name: 'cineswarm', type: 'module', private: true }));
  await fs.cp(path.join(REPO_ROOT, 'rootfs'), path.join(stage, 'rootfs'), { recursive: true });
  if (opts.edit) await opts.edit(stage);
  return packBundle({
    stageDir: stage,
    version: opts.version,
    privateKeyPem: opts.keys.privateKeyPem,
    publicKeyPem: opts.keys.publicKeyPem,
    outDir: opts.outDir ?? path.join(opts.workDir, 'out'),
  });
}

/** Writes the site config the agent reads, before the first install (a conffile is then kept). */
/** What `systemctl restart cineswarm-agent` does on the appliance, as a script for
 * `--restart-command`: stop the running agent, start the one `current` points at. The agent gets
 * its own session so it outlives an updater killed with its whole process group; with SLOW set the
 * script then lingers, keeping the updater in its restart step. The last agent is stopped when the
 * test ends. */
export async function writeRestartScript(t: ExecutionContext, work: string, config: string): Promise<string> {
  const pidFile = path.join(work, 'agent.pid');
  const restart = path.join(work, 'restart.sh');
  await fs.writeFile(restart, `#!/bin/sh
if [ -f "${pidFile}" ]; then
  pid=$(cat "${pidFile}"); kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
setsid "$CINESWARM_ROOT/opt/cineswarm/current/bin/cineswarm" agent --config "${config}" >/dev/null 2>&1 &
echo $! > "${pidFile}"
if [ -n "$SLOW" ]; then sleep 60; fi
`, { mode: 0o755 });
  t.teardown(async () => {
    const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => '0'));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
  return restart;
}

export async function writeSiteConfig(root: string, port: number, extra: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(root, 'etc', 'cineswarm', 'agent.json');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify({ id: 'site-test-srv1', web: { host: '127.0.0.1', port }, ...extra }, null, 2));
  return file;
}

/** Starts `ROOT/opt/cineswarm/current/bin/cineswarm agent`, resolving `current` at each start
 * the way systemd does, and stops it by PID. */
export class SlotAgent {
  child: ChildProcess | null = null;
  starts = 0;
  /** stdout and stderr of each start, in order. */
  runs: string[] = [];
  constructor(
    readonly root: string,
    readonly config: string,
    readonly args: string[] = ['agent', '--config'],
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    const bin = path.join(this.root, 'opt', 'cineswarm', 'current', 'bin', 'cineswarm');
    const child = spawn(bin, [...this.args, this.config], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    const run = this.runs.push('') - 1;
    child.stdout!.on('data', (c: Buffer) => (this.runs[run] += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.runs[run] += c.toString()));
    this.child = child;
    this.starts += 1;
  }

  /** The pino JSON lines one start printed. */
  lines(run: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of (this.runs[run] ?? '').split('\n')) {
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    return out;
  }
}

/** Every path under `root` with its type, mode and content hash or link target. */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      const abs = path.join(root, r);
      const st = await fs.lstat(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isSymbolicLink()) out[r] = `link ${await fs.readlink(abs)}`;
      else if (e.isDirectory()) {
        out[r] = `dir ${mode}`;
        await walk(r);
      } else out[r] = `file ${mode} ${createHash('sha256').update(await fs.readFile(abs)).digest('hex')}`;
    }
  }
  await walk('');
  return out;
}

export async function readlinkCurrent(root: string): Promise<string> {
  return fs.readlink(path.join(root, 'opt', 'cineswarm', 'current'));
}

export async function statusVersion(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(3000) });
    return ((await res.json()) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}
