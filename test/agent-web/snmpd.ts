// Debian's snmpd as a child process for tests: our own config on 127.0.0.1 (SNMP on UDP, AgentX
// master on TCP), the system config ignored, killed by PID; plus snmpwalk with the shipped MIB.
import type { ExecutionContext } from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

export const MIB_DIR = path.join(REPO_ROOT, 'rootfs', 'usr', 'share', 'snmp', 'mibs');
/** SNMPv2-SMI, -TC and -CONF: Debian ships them only in a non-free package; net-snmp (npm) carries them. */
export const BASE_MIB_DIR = path.join(REPO_ROOT, 'node_modules', 'net-snmp', 'lib', 'mibs');
export const COMMUNITY = 'cineswarm-test';

export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface Snmpd {
  udpPort: number;
  agentxPort: number;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function startSnmpd(t: ExecutionContext, dir: string, ports?: { udpPort: number; agentxPort: number }): Promise<Snmpd> {
  const udpPort = ports?.udpPort ?? (await freeUdpPort());
  const agentxPort = ports?.agentxPort ?? (await freeTcpPort());
  const conf = [`agentAddress udp:127.0.0.1:${udpPort}`, 'master agentx', `agentXSocket tcp:127.0.0.1:${agentxPort}`, `rocommunity ${COMMUNITY} 127.0.0.1`, ''].join('\n');
  return spawnSnmpd(t, dir, conf, udpPort, agentxPort);
}

/** A child process killed by PID at teardown; its stdout and stderr are kept for assertions. */
interface Child {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function spawnChild(t: ExecutionContext, file: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await exited;
  };
  t.teardown(stop);
  return { child, output: () => out, stop };
}

/** snmpd with the given config text (written to dir/snmpd.conf), ready once its AgentX port answers. */
export async function spawnSnmpd(t: ExecutionContext, dir: string, confText: string, udpPort: number, agentxPort: number): Promise<Snmpd> {
  const conf = path.join(dir, 'snmpd.conf');
  await fs.writeFile(conf, confText);
  // -C: only our config; -f: stay in the foreground as our child; -Lo: log to stdout.
  // No MIB files are loaded by snmpd itself: it serves numeric OIDs and needs none. -I -smux:
  // the stock config would bind SMUX's fixed port 199, which concurrent tests' snmpds share.
  const c = spawnChild(t, '/usr/sbin/snmpd', ['-f', '-Lo', '-C', '-c', conf, '-I', '-smux', '-M', dir, '-m', ''], { SNMP_PERSISTENT_DIR: dir, MIBS: '' });
  const end = Date.now() + 10_000;
  while (!(await canConnect(agentxPort))) {
    if (c.child.exitCode !== null || Date.now() > end) throw new Error(`snmpd did not start: ${c.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { udpPort, agentxPort, ...c };
}

/**
 * Debian's snmptrapd on 127.0.0.1:udpPort accepting SNMPv2c notifications of `community`, printing
 * each one on its stdout with the shipped MIB's names (its variables on one line, tab-separated).
 */
export async function startSnmptrapd(t: ExecutionContext, dir: string, udpPort: number, community: string): Promise<Child> {
  const conf = path.join(dir, 'snmptrapd.conf');
  await fs.writeFile(conf, `authCommunity log ${community}\n`);
  const c = spawnChild(
    t,
    '/usr/sbin/snmptrapd',
    ['-f', '-Lo', '-C', '-c', conf, '-m', 'CINESWARM-MIB', '-M', `+${MIB_DIR}:${BASE_MIB_DIR}`, '-OQs', `udp:127.0.0.1:${udpPort}`],
    { SNMP_PERSISTENT_DIR: dir, MIBS: '' },
  );
  const end = Date.now() + 10_000;
  while (!/NET-SNMP version/.test(c.output())) {
    if (c.child.exitCode !== null || Date.now() > end) throw new Error(`snmptrapd did not start: ${c.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return c;
}

/** snmpwalk with the shipped MIB; returns "object.index" → value (enums by name, no type prefix). */
export async function snmpwalk(udpPort: number, oid: string, retries = 5, command: 'snmpwalk' | 'snmpbulkwalk' = 'snmpwalk', timeoutSeconds = 3): Promise<Map<string, string>> {
  const { stdout } = await run(command, [
    '-v2c',
    '-c',
    COMMUNITY,
    '-m',
    // Only our module: the default list names MIBs Debian does not ship without non-free packages.
    'CINESWARM-MIB',
    '-M',
    `+${MIB_DIR}:${BASE_MIB_DIR}`,
    '-OQs',
    '-t',
    String(timeoutSeconds),
    '-r',
    String(retries),
    `127.0.0.1:${udpPort}`,
    oid,
  ], { env: { ...process.env, MIBS: '' } });
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0) values.set(line.slice(0, i).trim(), line.slice(i + 3).trim().replace(/^"(.*)"$/, '$1'));
  }
  return values;
}
