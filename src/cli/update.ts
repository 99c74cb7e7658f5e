// `cineswarm update`: installs a signed firmware bundle into the inactive slot, switches to it,
// restarts the agent and rolls back by itself when the new version does not report healthy.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FirmwareError } from '../firmware/errors.js';
import { agentStatusTarget, waitHealthy, type HealthTarget } from '../firmware/health.js';
import { finishTrial, installBundle, type InstallResult } from '../firmware/install.js';
import { writeFileAtomic } from '../util/durable-write.js';

const HELP = `usage: cineswarm update BUNDLE [options]
       cineswarm update --pending FILE [options]
       cineswarm update --finish-trial [options]

Installs a firmware bundle (cineswarm-<version>.tar.gz) after checking its Ed25519
signature (BUNDLE.sig beside it) and the SHA-256 of every file. The new version goes to
/opt/cineswarm/releases/<version>, /opt/cineswarm/current is switched to it, the agent is
restarted and must report the new version on its status API within the timeout; if it
does not, the previous version is switched back and restarted. A bundle that is not
newer than the installed version is refused. Refusals change nothing.

options:
  --signature FILE        detached signature (default: BUNDLE.sig)
  --public-key FILE       trusted public key (default: ROOT/etc/cineswarm/firmware-key.pem)
  --root DIR              install under DIR instead of / (image building, tests)
  --config FILE           agent config used to find its status API
                          (default: ROOT/etc/cineswarm/agent.json)
  --restart-command CMD   shell command that restarts the agent (default on /:
                          systemctl daemon-reload && systemctl restart cineswarm-agent.service;
                          under another root: no restart)
  --no-restart            only install and switch; no restart, no health check
  --health-url URL        status URL to poll (default: from the agent config)
  --health-timeout SEC    seconds the new agent has to report healthy (default 90)
  --force                 install a version that was rolled back before
  --pending FILE          process the request the agent staged ({bundle, signature});
                          used by cineswarm-update.service; FILE is removed afterwards
  --finish-trial          at boot (cineswarm-update-check.service): an update whose
                          updater was interrupted (power cut) before the new agent reported
                          healthy is confirmed now, or rolled back
  -h, --help              this text

exit status: 0 installed, 1 refused (nothing changed), 3 installed but rolled back`;

const SYSTEMD_RESTART = 'systemctl daemon-reload && systemctl restart cineswarm-agent.service';

function runShell(command: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`'${command}' exited with status ${code}`))));
  });
}

interface PendingRequest {
  bundle: string;
  signature: string;
}

async function readPending(file: string): Promise<PendingRequest> {
  const raw = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<PendingRequest>;
  if (typeof raw.bundle !== 'string') throw new FirmwareError('BUNDLE_NOT_FOUND', `${file} names no bundle`);
  // The request is written by the unprivileged agent and read by root: only files beside it
  // are accepted, since the updater deletes them once processed.
  const dir = path.dirname(path.resolve(file));
  const inside = (p: string): string => {
    const abs = path.resolve(dir, p);
    if (path.dirname(abs) !== dir) throw new FirmwareError('BUNDLE_NOT_FOUND', `${file} names a file outside ${dir}: ${p}`);
    return abs;
  };
  const bundle = inside(raw.bundle);
  return { bundle, signature: inside(typeof raw.signature === 'string' ? raw.signature : `${raw.bundle}.sig`) };
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        signature: { type: 'string' },
        'public-key': { type: 'string' },
        root: { type: 'string', default: '/' },
        config: { type: 'string' },
        'restart-command': { type: 'string' },
        'no-restart': { type: 'boolean', default: false },
        'health-url': { type: 'string' },
        'health-timeout': { type: 'string', default: '90' },
        force: { type: 'boolean', default: false },
        pending: { type: 'string' },
        'finish-trial': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`cineswarm update: ${(err as Error).message}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const root = path.resolve(v.root ?? '/');
  const timeoutSec = Number(v['health-timeout']);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    process.stderr.write('cineswarm update: --health-timeout must be a positive number of seconds\n');
    return 2;
  }
  const restartCommand = v['no-restart'] ? undefined : (v['restart-command'] ?? (root === '/' ? SYSTEMD_RESTART : undefined));
  const configPath = v.config ?? path.join(root, 'etc', 'cineswarm', 'agent.json');
  const env = { ...process.env, CINESWARM_ROOT: root };
  const restart = restartCommand ? () => runShell(restartCommand, env) : undefined;
  const healthy = async (version: string): Promise<boolean> => {
    let target: HealthTarget;
    if (v['health-url']) target = { url: v['health-url'], version };
    else target = await agentStatusTarget(root, configPath, version);
    return waitHealthy(target, timeoutSec * 1000);
  };

  if (v['finish-trial']) {
    try {
      const r = await finishTrial({ root, restart, healthy });
      process.stdout.write((r ? r.message : 'no interrupted update to finish') + '\n');
      return r?.outcome === 'rolled-back' ? 3 : 0;
    } catch (err) {
      const e = err as Error & { code?: string };
      process.stderr.write(`cineswarm update: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
      return 1;
    }
  }

  let request: PendingRequest;
  try {
    if (v.pending) request = await readPending(v.pending);
    else if (args.positionals.length === 1) request = { bundle: args.positionals[0]!, signature: v.signature ?? `${args.positionals[0]}.sig` };
    else {
      process.stderr.write("cineswarm update: give exactly one BUNDLE (or --pending FILE, or --finish-trial); see 'cineswarm update --help'\n");
      return 2;
    }
  } catch (err) {
    process.stderr.write(`cineswarm update: cannot read the update request ${v.pending}: ${(err as Error).message}\n`);
    if (v.pending) await fs.rm(v.pending, { force: true });
    return 1;
  }

  let result: InstallResult | null = null;
  let failure: FirmwareError | Error | null = null;
  try {
    result = await installBundle({
      bundle: request.bundle,
      signature: request.signature,
      publicKey: v['public-key'],
      root,
      force: v.force,
      restart,
      healthy: restart ? healthy : undefined,
    });
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  }

  if (v.pending) {
    // The request is consumed whatever happened, so the path unit does not loop on it.
    const report = {
      at: new Date().toISOString(),
      bundle: request.bundle,
      outcome: result?.outcome ?? 'refused',
      version: result?.version,
      code: failure && 'code' in failure ? failure.code : undefined,
      message: result?.message ?? failure?.message,
    };
    await writeFileAtomic(path.join(path.dirname(v.pending), 'last-update.json'), JSON.stringify(report, null, 2) + '\n', { mode: 0o644 });
    await fs.rm(v.pending, { force: true });
    await fs.rm(request.bundle, { force: true });
    await fs.rm(request.signature, { force: true });
  }
  if (failure) {
    const errno = (failure as NodeJS.ErrnoException).code;
    if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS') {
      failure.message = `cannot write under ${root} (${failure.message}): run as root, or give --root DIR`;
    }
    const code = 'code' in failure ? ` [${String(failure.code)}]` : '';
    process.stderr.write(`cineswarm update: ${failure.message}${code}\n`);
    return 1;
  }
  process.stdout.write(result!.message + '\n');
  return result!.outcome === 'installed' ? 0 : 3;
}
