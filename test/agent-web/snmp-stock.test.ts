// SNMP on a stock Debian snmpd: /etc/snmp/snmpd.conf as the package installs it plus the shipped
// drop-in makes the cineswarm subtree readable with the stock community; snmpwalk loads the MIB by
// module name; alarms raised and cleared reach snmptrapd as notifications through AgentX.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { AlarmBook } from '../../src/agent/monitoring/alarms.js';
import { SnmpSubagent } from '../../src/agent/monitoring/snmp.js';
import { TORRENT_TABLE } from '../../src/agent/monitoring/snmp-mib.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { quiet, waitFor } from '../e2e/rig.js';
import { BASE_MIB_DIR, MIB_DIR, freeTcpPort, freeUdpPort, spawnSnmpd, startSnmptrapd } from './snmpd.js';

const run = promisify(execFile);
const STOCK_CONF = '/etc/snmp/snmpd.conf';
const DROP_IN = path.join(REPO_ROOT, 'rootfs', 'etc', 'snmp', 'snmpd.conf.d', 'cineswarm.conf');

const status = (dir: string): AgentStatus => ({
  id: 'site-stock', version: '0.1.0', uptime: 5, disk: { path: dir, total: 1, free: 1 }, network: { rxBps: 0, txBps: 0 },
  torrents: [
    { name: 'FEATURE_A_FTR', group: 'g', infoHash: 'aa'.repeat(20), state: 'seeding', progress: 1, sizeBytes: 3e9, downloadBps: 0, uploadBps: 10, peers: 2, etaSeconds: null, verify: { state: 'passed', failed: [] } },
    { name: 'TRAILER_B_TLR', group: 'g', infoHash: 'bb'.repeat(20), state: 'retired', progress: 1, sizeBytes: 2e8, downloadBps: 0, uploadBps: 0, peers: 0, etaSeconds: null, verify: { state: 'passed', failed: [] }, message: 'withdrawn on the server' },
  ],
  groups: [], alarms: [], history: [], conflicts: [], lastPollAt: null,
});

/**
 * The stock config with only what a test must change: its listening address (a free loopback
 * port instead of 161) and the drop-in folder (a copy of the shipped one, whose AgentX sockets move
 * to a free port and the temp dir). `extra` adds files beside the drop-in.
 */
async function stockConfig(dir: string, udpPort: number, agentxPort: number, dropIn: string, extra: Record<string, string> = {}): Promise<string> {
  const stock = await fs.readFile(STOCK_CONF, 'utf8');
  if (!/^rocommunity\s+public\s+default\s+-V\s+systemonly\s*$/m.test(stock) || !/^includeDir \/etc\/snmp\/snmpd\.conf\.d\s*$/m.test(stock)) {
    throw new Error(`${STOCK_CONF} is not Debian's stock file`);
  }
  const confD = path.join(dir, 'snmpd.conf.d');
  await fs.mkdir(confD, { recursive: true });
  const moved = dropIn.replace(/^agentXSocket .*$/m, `agentXSocket unix:${dir}/agentx-master,tcp:127.0.0.1:${agentxPort}`);
  await fs.writeFile(path.join(confD, 'cineswarm.conf'), moved);
  for (const [name, text] of Object.entries(extra)) await fs.writeFile(path.join(confD, name), text);
  return stock.replace(/^agentaddress .*$/m, `agentaddress udp:127.0.0.1:${udpPort}`).replace(/^includeDir \/etc\/snmp\/snmpd\.conf\.d\s*$/m, `includeDir ${confD}`);
}

/** snmpwalk as a monitoring host would run it: the stock community, our MIB added by module name. */
async function walkPublic(udpPort: number, oid: string): Promise<{ values: Map<string, string>; raw: string }> {
  const { stdout } = await run('snmpwalk', ['-v2c', '-c', 'public', '-m', '+CINESWARM-MIB', '-M', `+${MIB_DIR}:${BASE_MIB_DIR}`, '-OQs', '-t', '3', '-r', '3', `127.0.0.1:${udpPort}`, oid], {
    env: { ...process.env, MIBS: '' },
  });
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(' = ');
    // "No more variables left in this MIB View" answers a walk the view hides: not a value.
    if (i > 0 && !/^No (more variables|Such)/.test(line.slice(i + 3))) values.set(line.slice(0, i).trim(), line.slice(i + 3).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { values, raw: stdout };
}

async function subagentOn(t: ExecutionContext, agentxPort: number, dir: string, alarms?: AlarmBook): Promise<SnmpSubagent> {
  const sub = new SnmpSubagent({ agentx: `tcp:127.0.0.1:${agentxPort}`, getStatus: () => status(dir), alarms, refreshMs: 200, logger: quiet });
  const registered = new Promise<void>((r) => sub.once('registered', () => r()));
  sub.start();
  t.teardown(() => sub.stop());
  await registered;
  return sub;
}

test('stock snmpd.conf plus the shipped drop-in: the DCP table is readable with the stock community, by MIB name', async (t) => {
  const dir = await tempDir(t, 'cineswarm-snmp-stock-');
  const [udpPort, agentxPort] = [await freeUdpPort(), await freeTcpPort()];
  const snmpd = await spawnSnmpd(t, dir, await stockConfig(dir, udpPort, agentxPort, await fs.readFile(DROP_IN, 'utf8')), udpPort, agentxPort);
  await subagentOn(t, snmpd.agentxPort, dir);
  const { values } = await waitFor('table served', async () => {
    const w = await walkPublic(udpPort, 'CINESWARM-MIB::cswTorrentTable');
    return w.values.get('cswTorrentName.2') === 'TRAILER_B_TLR' && w;
  }, 15_000, 200);
  t.is(values.get('cswTorrentName.1'), 'FEATURE_A_FTR');
  t.is(values.get('cswTorrentState.1'), 'seeding');
  t.is(values.get('cswTorrentState.2'), 'retired');
  t.is(values.get('cswTorrentInfoHash.2'), 'bb'.repeat(20));
  // Every readable column of both rows (the index column is not-accessible).
  t.is(values.size, 2 * (TORRENT_TABLE.tableColumns.length - 1));
  // The stock view still hides the rest of the machine: the interfaces table is not in it.
  t.is((await walkPublic(udpPort, '.1.3.6.1.2.1.2')).values.size, 0);
});

test('without the drop-in\'s view line the stock view hides the subtree (what the drop-in fixes)', async (t) => {
  const dir = await tempDir(t, 'cineswarm-snmp-noview-');
  const [udpPort, agentxPort] = [await freeUdpPort(), await freeTcpPort()];
  const dropIn = (await fs.readFile(DROP_IN, 'utf8')).replace(/^view systemonly .*$/m, '');
  const snmpd = await spawnSnmpd(t, dir, await stockConfig(dir, udpPort, agentxPort, dropIn), udpPort, agentxPort);
  const sub = await subagentOn(t, snmpd.agentxPort, dir);
  await sub.refresh();
  const w = await walkPublic(udpPort, 'CINESWARM-MIB::cineswarmMIB');
  t.is(w.values.size, 0, w.raw);
});

test('an alarm raised and cleared reaches snmptrapd as cswAlarmRaised and cswAlarmCleared', async (t) => {
  const dir = await tempDir(t, 'cineswarm-snmp-trap-');
  const [udpPort, agentxPort, trapPort] = [await freeUdpPort(), await freeTcpPort(), await freeUdpPort()];
  const trapd = await startSnmptrapd(t, dir, trapPort, 'cineswarm-traps');
  const conf = await stockConfig(dir, udpPort, agentxPort, await fs.readFile(DROP_IN, 'utf8'), {
    // What a site adds beside the drop-in, as its comments say.
    'traps.conf': `trap2sink 127.0.0.1:${trapPort} cineswarm-traps\n`,
  });
  const snmpd = await spawnSnmpd(t, dir, conf, udpPort, agentxPort);
  const alarms = new AlarmBook({ logger: quiet });
  await subagentOn(t, snmpd.agentxPort, dir, alarms);

  alarms.raise('LISTEN_PORT_TAKEN', 'warning', 'Port 6881 was taken; listening on 6882.');
  const raised = await waitFor('raised trap', () => trapd.output().split('\n').find((l) => l.includes('cswAlarmRaised')), 15_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}\nsnmptrapd: ${trapd.output()}\nsnmpd: ${snmpd.output()}`);
  });
  t.regex(raised, /cswAlarmCode\.\d+ = LISTEN_PORT_TAKEN/);
  t.regex(raised, /cswAlarmSeverity\.\d+ = warning/);
  t.regex(raised, /cswAlarmMessage\.\d+ = "?Port 6881 was taken; listening on 6882\./);
  t.false(trapd.output().includes('cswAlarmCleared'));

  alarms.clear('LISTEN_PORT_TAKEN');
  const cleared = await waitFor('cleared trap', () => trapd.output().split('\n').find((l) => l.includes('cswAlarmCleared')), 15_000, 100);
  t.regex(cleared, /cswAlarmCode\.\d+ = LISTEN_PORT_TAKEN/);
});
