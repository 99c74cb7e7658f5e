// SNMP: the shipped MIB passes smilint and resolves in net-snmp; Debian's snmpd with an AgentX
// master on 127.0.0.1 serves our subagent's subtree, and snmpwalk reads a real agent's torrent
// table with the same values as /api/status. Without snmpd the subagent says so once and waits.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { readEnterpriseNumber } from '../../src/firmware/mib-pen.js';
import { SnmpSubagent } from '../../src/agent/monitoring/snmp.js';
import { buildAgentApi } from '../../src/agent/web/api.js';
import { AlarmBook } from '../../src/agent/monitoring/alarms.js';
import { Monitor, withMonitor } from '../../src/agent/monitoring/monitor.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, publishAndSeed, quiet, startAgent, startServer, waitFor } from '../e2e/rig.js';
import { BASE_MIB_DIR, MIB_DIR, freeTcpPort, freeUdpPort, snmpwalk, startSnmpd } from './snmpd.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const MIB_FILE = path.join(MIB_DIR, 'CINESWARM-MIB.txt');

async function smilint(file: string): Promise<string> {
  // smilint exits 0 even when it reports errors: what it prints is the verdict.
  const r = await run('smilint', ['-l', '6', '-s', file], { env: { ...process.env, SMIPATH: BASE_MIB_DIR } }).catch((e: { stdout: string; stderr: string }) => e);
  return (r.stdout + r.stderr).trim();
}

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; messages: () => string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push((JSON.parse(l) as { msg: string }).msg) });
  return { logger, messages: () => lines };
}

test('the MIB passes smilint at the strictest level and snmptranslate resolves it', async (t) => {
  t.is(await smilint(MIB_FILE), '');
  // The check is real: a broken copy is reported.
  const dir = await tempDir(t, 'cineswarm-mib-');
  const broken = path.join(dir, 'CINESWARM-MIB.txt');
  await fs.writeFile(broken, (await fs.readFile(MIB_FILE, 'utf8')).replace('MAX-ACCESS  read-only', 'MAX-ACCESS  read-sometimes'));
  t.regex(await smilint(broken), /read-sometimes|error|unknown/i);

  const { stdout } = await run('snmptranslate', ['-m', 'CINESWARM-MIB', '-M', `+${MIB_DIR}:${BASE_MIB_DIR}`, '-On', 'CINESWARM-MIB::cswTorrentProgress'], { env: { ...process.env, MIBS: '' } });
  t.is(stdout.trim(), `.1.3.6.1.4.1.${readEnterpriseNumber(await fs.readFile(MIB_FILE, 'utf8'))}.1.2.1.6`);
});

test('without snmpd the subagent says so once, keeps trying quietly, and registers when snmpd appears', async (t) => {
  const dir = await tempDir(t, 'cineswarm-snmp-none-');
  const agentxPort = await freeTcpPort();
  const { logger, messages } = capturingLogger();
  const status = (): AgentStatus => ({
    id: 'site-lonely', version: '0.1.0', uptime: 1, disk: { path: dir, total: 1, free: 1 }, network: { rxBps: 0, txBps: 0 },
    torrents: [], groups: [], alarms: [], history: [], conflicts: [], lastPollAt: null,
  });
  const sub = new SnmpSubagent({ agentx: `tcp:127.0.0.1:${agentxPort}`, getStatus: status, retryMs: 150, logger });
  sub.start();
  t.teardown(() => sub.stop());
  await new Promise((r) => setTimeout(r, 1500));
  const missing = messages().filter((m) => m.startsWith('SNMP: no snmpd AgentX master at'));
  t.deepEqual(missing, [`SNMP: no snmpd AgentX master at tcp:127.0.0.1:${agentxPort}; SNMP status disabled until it appears`]);
  t.false(sub.registered);

  const registered = new Promise<void>((r) => sub.once('registered', () => r()));
  const snmpd = await startSnmpd(t, dir, { udpPort: await freeUdpPort(), agentxPort });
  await registered;
  const walk = await waitFor('subtree answers', async () => {
    const w = await snmpwalk(snmpd.udpPort, 'cineswarmMIB');
    return w.get('cswAgentId.0') === 'site-lonely' && w;
  }, 15_000, 200);
  t.is(walk.get('cswLastPollAge.0'), '-1 seconds');
  t.is(walk.get('cswTorrentCount.0'), '0');
  t.is(messages().filter((m) => m.startsWith('SNMP: no snmpd')).length, 1, 'said once, however many retries');
});

// Serial: alone in this process, so the subagent's event loop is not shared with a download.
test.serial('many managers at once: snmpd pipelines their requests and every walk comes back whole', async (t) => {
  const dir = await tempDir(t, 'cineswarm-snmp-busy-');
  // A cinema with 40 DCPs on record, so each walk is long enough for the requests of
  // concurrent managers to reach the subagent back to back in one TCP read.
  const torrents: AgentStatus['torrents'] = Array.from({ length: 40 }, (_, i) => ({
    name: `FEATURE_${i}_FTR`, group: 'g', infoHash: i.toString(16).padStart(2, '0').repeat(20), state: 'seeding', progress: 1,
    sizeBytes: (i + 1) * 1e9, downloadBps: 0, uploadBps: i * 1000, peers: i % 5, etaSeconds: null, verify: { state: 'passed', failed: [] },
  }));
  const status = (): AgentStatus => ({
    id: 'site-busy', version: '0.1.0', uptime: 9, disk: { path: dir, total: 1, free: 1 }, network: { rxBps: 0, txBps: 0 },
    torrents, groups: [], alarms: [], history: [], conflicts: [], lastPollAt: null,
  });
  const snmpd = await startSnmpd(t, dir);
  const sub = new SnmpSubagent({ agentx: `tcp:127.0.0.1:${snmpd.agentxPort}`, getStatus: status, logger: quiet });
  const registered = new Promise<void>((r) => sub.once('registered', () => r()));
  sub.start();
  t.teardown(() => sub.stop());
  await registered;
  await waitFor('rows served', async () => (await snmpwalk(snmpd.udpPort, 'cswTorrentCount')).get('cswTorrentCount.0') === '40', 10_000, 200);
  for (let round = 0; round < 2; round++) {
    // No retries, and a manager timeout (4 s) shorter than snmpd's wait for the subagent (5 s):
    // a request the subagent dropped shows as a timeout instead of being papered over.
    const walks = await Promise.all(Array.from({ length: 16 }, () => snmpwalk(snmpd.udpPort, 'cswTorrentTable', 0, 'snmpbulkwalk', 4)));
    for (const w of walks) {
      t.is(w.size, 40 * 12); // 12 readable columns (the index is not)
      t.is(w.get('cswTorrentName.40'), 'FEATURE_39_FTR');
    }
  }
});

test('snmpwalk reads the torrent table of a real agent and it matches /api/status; snmpd restarts are survived', async (t) => {
  const root = await tempDir(t, 'cineswarm-snmp-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'publisher', 'SNMP_TEST_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 31 });
  const G = { id: 'snmp-group', password: 'pw-snmp' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir });
  const agent = await startAgent(t, agentConfig({ id: 'site-snmp', server: server.url, groups: [G], root }));
  const alarms = new AlarmBook({ logger: quiet });
  // A reserve larger than the disk: the monitor raises a real LOW_DISK alarm for the alarm table.
  const monitor = new Monitor({ downloadDir: agent.config.downloadDir, ingestDir: agent.config.ingestDir, minFreeBytes: 2 ** 60, alarms, logger: quiet });
  await monitor.sample();
  const getStatus = (): AgentStatus => withMonitor(agent.getStatus(), monitor.latest(), alarms);
  const api = buildAgentApi({ getStatus, control: agent, logger: quiet });
  t.teardown(() => api.close());

  await waitFor('download complete', () => agent.getStatus().torrents[0]?.state === 'seeding', 90_000, 200);
  const snmpd = await startSnmpd(t, root);
  const { logger, messages } = capturingLogger();
  const sub = new SnmpSubagent({ agentx: `tcp:127.0.0.1:${snmpd.agentxPort}`, getStatus, refreshMs: 300, retryMs: 200, logger });
  const registered = new Promise<void>((r) => sub.once('registered', () => r()));
  sub.start();
  t.teardown(() => sub.stop());
  await registered;

  const walk = await waitFor('torrent row present', async () => {
    const w = await snmpwalk(snmpd.udpPort, 'cineswarmMIB');
    return w.get('cswTorrentState.1') === 'seeding' && w;
  }, 15_000, 200);
  const status = (await api.inject({ method: 'GET', url: '/api/status' })).json() as AgentStatus;
  const tv = status.torrents[0];
  t.is(walk.get('cswAgentId.0'), status.id);
  t.is(walk.get('cswAgentVersion.0'), status.version);
  t.is(walk.get('cswTorrentCount.0'), String(status.torrents.length));
  t.is(walk.get('cswTorrentName.1'), tv.name);
  t.is(walk.get('cswTorrentName.1'), pub.name);
  t.is(walk.get('cswTorrentGroup.1'), tv.group);
  t.is(walk.get('cswTorrentInfoHash.1'), tv.infoHash);
  t.is(walk.get('cswTorrentState.1'), tv.state);
  t.is(walk.get('cswTorrentProgress.1'), `${Math.floor(tv.progress * 1000)} per mille`);
  t.is(walk.get('cswTorrentVerifyState.1'), tv.verify.state);
  t.is(walk.get('cswTorrentSize.1'), `${Math.ceil(tv.sizeBytes / MiB)} MiB`);
  t.is(walk.get('cswTorrentKdmState.1'), 'notEncrypted', 'a DCP that needs no keys');
  t.regex(walk.get('cswTorrentDownloadRate.1') ?? '', /^\d+ bytes per second$/);
  t.regex(walk.get('cswTorrentPeers.1') ?? '', /^\d+$/);
  t.is(walk.get('cswDiskPath.0'), status.disk.path);
  const freeMiB = Number(walk.get('cswDiskFree.0')!.replace(' MiB', ''));
  t.true(Math.abs(freeMiB - status.disk.free / MiB) < 512, `free ${freeMiB} MiB vs ${status.disk.free / MiB}`);
  t.is(walk.get('cswAlarmCount.0'), String(status.alarms.length));
  t.is(walk.get('cswAlarmCode.1'), 'LOW_DISK');
  t.is(walk.get('cswAlarmSeverity.1'), status.alarms[0].severity);
  t.is(walk.get('cswAlarmSince.1'), status.alarms[0].since);
  const lastPoll = Date.parse(walk.get('cswLastPoll.0')!);
  t.true(Math.abs(lastPoll - Date.parse(status.lastPollAt!)) < 10_000, 'same last poll, give or take the polls in between');

  // snmpd goes away: the agent carries on, says so once, and registers again when snmpd is back.
  const lost = new Promise<void>((r) => sub.once('lost', () => r()));
  await snmpd.stop();
  await lost;
  t.is((await api.inject({ method: 'GET', url: '/api/status' })).statusCode, 200);
  const again = new Promise<void>((r) => sub.once('registered', () => r()));
  const snmpd2 = await startSnmpd(t, root, { udpPort: snmpd.udpPort, agentxPort: snmpd.agentxPort });
  await again;
  const walk2 = await waitFor('table served again', async () => {
    const w = await snmpwalk(snmpd2.udpPort, 'cswTorrentTable');
    return w.get('cswTorrentInfoHash.1') === pub.infoHash && w;
  }, 15_000, 200);
  t.is(walk2.get('cswTorrentState.1'), 'seeding');
  t.is(messages().filter((m) => m.startsWith('SNMP: lost the snmpd AgentX master')).length, 1);
  t.is(messages().filter((m) => m.startsWith('SNMP: cineswarm status registered')).length, 2);
});
