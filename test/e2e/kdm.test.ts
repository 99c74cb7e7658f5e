// End to end with test material made here (a throwaway CA, signer and media-block recipient; an
// encrypted, signed generated DCP; a KDM for it): delivered without its KDM the DCP raises KDM_MISSING
// on the page, in /api/status and over SNMP; after `cineswarm kdm send` the alarm clears, the KDM sits
// in kdm.dir and the server shows the agent's receipt.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { SnmpSubagent } from '../../src/agent/monitoring/snmp.js';
import { buildAgentApi } from '../../src/agent/web/api.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { readCompositions } from '../../src/dcp/index.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { dcpSigner, makeTestKdm, makeTestPki } from '../helpers/test-kdm.js';
import { tempDir } from '../helpers/tmp.js';
import { snmpwalk, startSnmpd } from '../agent-web/snmpd.js';
import { agentConfig, ownerOf, publishAndSeed, quiet, startAgent, startServer, waitFor } from './rig.js';
import { runCli } from '../helpers/cli.js';

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + '+00:00';

const cli = (args: string[], env: Record<string, string>) => runCli(args, env);

test('an encrypted DCP shows KDM_MISSING until its KDM is sent; then the key is in kdm.dir and the server has the receipt', async (t) => {
  const root = await tempDir(t, 'cineswarm-kdm-e2e-');
  const pkiDir = path.join(root, 'pki');
  await fs.mkdir(pkiDir);
  const pki = makeTestPki(pkiDir);
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'pub', 'KDM_TEST_FTR'), { encrypted: true, signXml: dcpSigner(pki), assetSizes: [300_000, 100_000], seed: 71 });
  const G = { id: 'kdm-group', password: 'pw-kdm' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir });
  const kdmDir = path.join(root, 'site-kdm', 'kdm');
  const cfg = { ...agentConfig({ id: 'site-kdm', server: server.url, groups: [G], root }), kdm: { dir: kdmDir, certificates: [pki.recipient.cert], warnDays: 2 } };
  const agent = await startAgent(t, cfg);
  const getStatus = (): AgentStatus => agent.getStatus();
  const api = buildAgentApi({ getStatus, control: agent, logger: quiet, pollIntervalMs: 300 });
  await api.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => api.close());
  const addr = api.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const status = async (): Promise<AgentStatus> => (await fetch(`${base}/api/status`)).json() as Promise<AgentStatus>;

  // --- delivered without its KDM
  const missing = await waitFor('the DCP is in and known to be encrypted', async () => {
    const s = await status();
    const tv = s.torrents.find((x) => x.infoHash === pub.infoHash);
    return tv?.state === 'seeding' && tv.kdm?.state === 'missing' && s;
  }, 90_000, 300);
  const alarm = missing.alarms.find((a) => a.code === 'KDM_MISSING');
  t.truthy(alarm, 'KDM_MISSING raised');
  t.regex(alarm!.message, /KDM_TEST_FTR \(missing\)/);
  t.deepEqual(await fs.readdir(kdmDir), []);

  const snmpd = await startSnmpd(t, root);
  const sub = new SnmpSubagent({ agentx: `tcp:127.0.0.1:${snmpd.agentxPort}`, getStatus, refreshMs: 300, retryMs: 200, logger: quiet });
  const registered = new Promise<void>((r) => sub.once('registered', () => r()));
  sub.start();
  t.teardown(() => sub.stop());
  await registered;
  const codes = (w: Map<string, string>) => [...w].filter(([k]) => k.startsWith('cswAlarmCode.')).map(([, v]) => v);
  const before = await waitFor('KDM_MISSING over SNMP', async () => {
    const w = await snmpwalk(snmpd.udpPort, 'cineswarmMIB');
    return codes(w).includes('KDM_MISSING') && w;
  }, 15_000, 300);
  t.is(before.get('cswTorrentKdmState.1'), 'missing');

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(base + '/');
  await page.locator('article.torrent .kdm', { hasText: 'Encrypted: NO KDM' }).waitFor({ timeout: 15_000 });
  await page.locator('#alarms', { hasText: 'Encrypted DCP without a valid KDM' }).waitFor({ timeout: 15_000 });

  // --- the distributor sends the KDM, once the agent has registered its certificate
  await waitFor('certificate registered', () => fs.access(path.join(server.dataDir, 'groups', G.id, 'peers', 'site-kdm.json')).then(() => true, () => false), 30_000, 200);
  const [composition] = await readCompositions(dcp.dir);
  const now = Date.now();
  const { xml, messageId } = makeTestKdm(pki, {
    cplId: dcp.cplId, title: 'KDM_TEST_FTR', keyIds: composition!.keyIds,
    notValidBefore: iso(now - 86_400_000), notValidAfter: iso(now + 30 * 86_400_000),
  });
  const kdmFile = path.join(root, 'KDM_TEST_FTR.kdm.xml');
  await fs.writeFile(kdmFile, xml);
  const sent = await cli(['kdm', 'send', kdmFile, '--server', server.url, '--group', G.id], { CINESWARM_OWNER_PASSWORD: ownerOf(G.password) });
  t.is(sent.code, 0, sent.stderr);
  t.regex(sent.stdout, new RegExp(`KDM ${messageId} \\(KDM_TEST_FTR\\) routed to site-kdm`));

  await agent.pollNow();
  const after = await waitFor('KDM accepted', async () => {
    const s = await status();
    return s.torrents[0]?.kdm?.state === 'valid' && !s.alarms.some((a) => a.code === 'KDM_MISSING') && s;
  }, 30_000, 300);
  t.is(after.torrents[0]!.kdm!.messageId, messageId);
  t.is(after.torrents[0]!.kdm!.notValidAfter, iso(now + 30 * 86_400_000));
  t.deepEqual(await fs.readdir(kdmDir), [`${messageId}.xml`]);
  t.is(await fs.readFile(path.join(kdmDir, `${messageId}.xml`), 'utf8'), xml);

  const receipt = await waitFor('receipt on the server', async () => {
    const res = await fetch(`${server.url}/api/groups/${G.id}/kdms`, { headers: { authorization: 'Basic ' + Buffer.from(`${G.id}:${ownerOf(G.password)}`).toString('base64') } });
    const list = (await res.json()) as Array<{ messageId: string; deliveries: Array<{ peer: string; state: string }> }>;
    const d = list.find((k) => k.messageId === messageId)?.deliveries.find((x) => x.peer === 'site-kdm');
    return d?.state === 'valid' && d;
  }, 30_000, 300);
  t.is(receipt.state, 'valid');
  const reported = await waitFor('key state in the group status', async () => {
    const res = await fetch(`${server.url}/api/groups/${G.id}/status`, { headers: { authorization: 'Basic ' + Buffer.from(`${G.id}:${ownerOf(G.password)}`).toString('base64') } });
    const st = (await res.json()) as { torrents: Array<{ infoHash: string; peers: Array<{ peer: string; kdm?: { state: string; notValidAfter?: string } }> }> };
    const p = st.torrents.find((x) => x.infoHash === pub.infoHash)?.peers.find((x) => x.peer === 'site-kdm');
    return p?.kdm?.state === 'valid' && p.kdm;
  }, 30_000, 300);
  t.is(reported.notValidAfter, iso(now + 30 * 86_400_000));

  const cleared = await waitFor('alarm gone over SNMP', async () => {
    const w = await snmpwalk(snmpd.udpPort, 'cineswarmMIB');
    return !codes(w).includes('KDM_MISSING') && w;
  }, 15_000, 300);
  t.is(cleared.get('cswTorrentKdmState.1'), 'valid');
  await page.locator('article.torrent .kdm', { hasText: 'Keys (KDM) valid' }).waitFor({ timeout: 15_000 });
});
