// A throwaway Ceph for tests and benches: one monitor, one memstore OSD and radosgw (beast) on
// 127.0.0.1, cephx off, pool size 1, all files in a temp dir, every process ended by its PID.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestFn } from 'ava';
import { freePort } from './net.js';

const run = promisify(execFile);

export interface Ceph {
  /** http://127.0.0.1:PORT of radosgw */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  /** Ends radosgw alone (the OSD keeps the objects), as an outage of the S3 endpoint. */
  stopGateway(): Promise<void>;
  /** Starts radosgw again on the same port. */
  startGateway(): Promise<void>;
  stop(): Promise<void>;
}

function conf(dir: string, monPort: number, rgwPort: number, fsid: string): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 1073741824
# without it the monitor waits ~1 s per proposal and start-up takes ~12 s
paxos propose interval = 0.05
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
keyring = /dev/null
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`;
}

async function gatewayAnswers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint + '/', { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the cluster; about 1.5 s on an idle machine. Under heavy load the OSD now and then
 * fails its first talk with the monitor ('wrong fsid') and radosgw then waits forever for its
 * pools: a fresh cluster is started instead, up to three times. */
export async function startCeph(): Promise<Ceph> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCephOnce(attempt < 3 ? 20_000 : 60_000);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startCephOnce(gatewayWaitMs: number): Promise<Ceph> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-ceph-'));
  const children: ChildProcess[] = [];
  let gateway: ChildProcess | undefined;
  const cfg = path.join(dir, 'ceph.conf');
  const daemon = (cmd: string, args: string[]): ChildProcess => {
    const child = spawn(cmd, ['-c', cfg, ...args, '-f'], { cwd: dir, stdio: 'ignore' });
    children.push(child);
    // A worker that ends without teardown (ava's timeout) still takes its daemons with it.
    process.once('exit', () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    return child;
  };
  const stop = async () => {
    // memstore keeps nothing worth a clean shutdown; SIGKILL ends each daemon at once.
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    await Promise.all(children.map(ended));
    if (!process.env.KEEP_CEPH) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    for (const d of ['run', 'log', 'mon', 'osd/ceph-0']) await fs.mkdir(path.join(dir, d), { recursive: true });
    await fs.writeFile(cfg, conf(dir, monPort, rgwPort, fsid));
    await run('monmaptool', ['--create', '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, '--fsid', fsid, path.join(dir, 'monmap')]);
    await run('ceph-mon', ['-c', cfg, '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    await run('ceph', ['-c', cfg, '--connect-timeout', '10', 'osd', 'new', osdUuid]);
    await run('ceph-osd', ['-c', cfg, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', '0']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const startGateway = async () => {
      gateway = daemon('radosgw', ['-n', 'client.rgw']);
      const deadline = Date.now() + gatewayWaitMs;
      while (!(await gatewayAnswers(endpoint))) {
        if (gateway.exitCode !== null) throw new Error(`radosgw exited (${gateway.exitCode}); see ${dir}/log`);
        if (Date.now() > deadline) {
          const tail = await fs.readFile(path.join(dir, 'log', 'client.rgw.log'), 'utf8').catch(() => '');
          throw new Error(`radosgw did not answer on ${endpoint} within ${gatewayWaitMs / 1000} s; its log ends: ${tail.split('\n').slice(-6).join(' | ')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await startGateway();
    const accessKeyId = 'CINESWARMTEST' + randomUUID().slice(0, 8).toUpperCase();
    const secretAccessKey = randomUUID() + randomUUID();
    await run('radosgw-admin', ['-c', cfg, 'user', 'create', '--uid', 'cineswarm', '--display-name', 'cineswarm tests', '--access-key', accessKeyId, '--secret', secretAccessKey]);
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      dir,
      startGateway,
      async stopGateway() {
        const g = gateway;
        if (!g?.pid || g.exitCode !== null) return;
        process.kill(g.pid, 'SIGKILL');
        await ended(g);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One cluster for all tests of a file (ava runs each file in its own process): started before
 * the first test, ended after the last. Returns the accessor the tests call. */
export function cephForFile(test: TestFn, onStart?: (ceph: Ceph) => Promise<void>): () => Ceph {
  let ceph: Ceph | undefined;
  // ava runs a file's before hooks at once, so set-up that needs the cluster goes in onStart.
  test.before(async () => {
    ceph = await startCeph();
    await onStart?.(ceph);
  });
  test.after.always(async () => {
    await ceph?.stop();
  });
  return () => {
    if (!ceph) throw new Error('the Ceph of this test file did not start');
    return ceph;
  };
}
