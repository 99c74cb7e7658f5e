// A real agent process (`cineswarm agent`) with its status page on and an snmpd that is not
// there: its memory while it downloads at full loopback speed (from /proc/<pid>/status, for the
// closing note), its /api/status answering meanwhile, and one line saying SNMP is off.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { agentConfig, publishAndSeed, spawnAgent, startServer, waitFor } from '../e2e/rig.js';
import { freeTcpPort } from './snmpd.js';

const MiB = 1024 * 1024;

/** VmRSS, and RssAnon: libtorrent 2 maps the DCP files, so their cached pages count in VmRSS too. */
async function rssOf(pid: number): Promise<{ rss: number; anon: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

test('agent process memory while downloading at full speed', async (t) => {
  const root = await tempDir(t, 'cineswarm-rss-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'publisher', 'RSS_TEST_FTR'), { assetSizes: [192 * MiB, 32 * MiB], seed: 41 });
  const G = { id: 'rss-group', password: 'pw-rss' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir });
  const webPort = await freeTcpPort();
  const agentxPort = await freeTcpPort(); // nothing listens there
  const cfg = {
    ...agentConfig({ id: 'site-rss', server: server.url, groups: [G], root }),
    web: { host: '127.0.0.1', port: webPort, password: 'pw' },
    snmp: { agentx: `tcp:127.0.0.1:${agentxPort}` },
  };
  const cfgFile = path.join(root, 'agent.json');
  await fs.writeFile(cfgFile, JSON.stringify(cfg));

  const agent = spawnAgent(t, cfgFile);
  const pid = agent.child.pid!;
  const lineTime = (l: Record<string, unknown>) => l.time as number;
  const samples: { at: number; rss: number; anon: number }[] = [];
  let idle = 0;
  let apiSeen: AgentStatus | undefined;
  const done = await waitFor('complete and ingested', async () => {
    const m = await rssOf(pid);
    samples.push({ at: Date.now(), ...m });
    if (!apiSeen) {
      const s = (await fetch(`http://127.0.0.1:${webPort}/api/status`).then((r) => r.json(), () => undefined)) as AgentStatus | undefined;
      if (s?.torrents[0]?.state === 'downloading') apiSeen = s;
    }
    if (!agent.lines.some((l) => String(l.msg).startsWith('new DCP offered'))) idle = m.rss;
    return agent.lines.find((l) => typeof l.downloadedThisRun === 'number');
  }, 120_000, 25);
  const offered = agent.lines.find((l) => String(l.msg).startsWith('new DCP offered'))!;
  const seconds = (lineTime(done) - lineTime(offered)) / 1000;
  const during = samples.filter((s) => s.at >= lineTime(offered) && s.at <= lineTime(done));
  t.true(during.length > 0, 'memory was sampled while the download ran');
  const peak = Math.max(...during.map((s) => s.rss));
  const peakAnon = Math.max(...during.map((s) => s.anon));
  t.true(peak > 0);
  t.is(done.downloadedThisRun as number >= pub.size, true);
  if (apiSeen) t.log(`/api/status during the download: ${(apiSeen.torrents[0].progress * 100).toFixed(0)} %, agent says RSS ${(apiSeen.system!.process.rssBytes / MiB).toFixed(0)} MiB`);
  const after = (await (await fetch(`http://127.0.0.1:${webPort}/api/status`)).json()) as AgentStatus;
  t.is(after.id, 'site-rss');
  t.is(after.torrents[0].infoHash, pub.infoHash);
  t.true(after.system!.process.rssBytes > 0);
  const page = await fetch(`http://127.0.0.1:${webPort}/`);
  t.is(page.status, 200);
  const snmpLines = agent.lines.map((l) => String(l.msg)).filter((m) => m.startsWith('SNMP:'));
  t.deepEqual(snmpLines, [`SNMP: no snmpd AgentX master at tcp:127.0.0.1:${agentxPort}; SNMP status disabled until it appears`]);
  t.log(
    `agent RSS: ${(idle / MiB).toFixed(0)} MiB idle, peak ${(peak / MiB).toFixed(0)} MiB (of which anonymous ${(peakAnon / MiB).toFixed(0)} MiB, ` +
      `the rest mapped DCP file pages) while receiving ` +
      `${(pub.size / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s (offer to verified ingest, ${(pub.size / 1e6 / seconds).toFixed(0)} MB/s)`,
  );
});
