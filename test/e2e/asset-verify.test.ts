// Per-asset checks during the download: each asset is hashed against its packing list when its
// last piece is on disk, the results survive kill -9, and the final verification reads none of
// the assets that passed (counted by its bytesHashed), while a damaged asset is still caught.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { logSink } from '../helpers/log-sink.js';
import { tempDir } from '../helpers/tmp.js';
import { Agent } from '../../src/agent/agent.js';
import type { AgentConfig } from '../../src/agent/config/config.js';
import { agentConfig, ingestListing, publishAndSeed, publishedSwarm, seededDamagedDcp, spawnAgent, startServer, waitFor } from './rig.js';

const MiB = 1024 * 1024;

interface Result { ok: boolean; size: number; at: string }
async function results(cfg: AgentConfig, infoHash: string): Promise<Record<string, Result>> {
  try {
    return (JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'asset-checks', `${infoHash}.json`), 'utf8')) as { files: Record<string, Result> }).files;
  } catch {
    return {};
  }
}

async function startLogged(t: import('ava').ExecutionContext, cfg: AgentConfig) {
  const sink = logSink(process.env.DBG ? 'debug' : 'info');
  if (process.env.DBG) t.teardown(() => t.log(sink.lines.filter((l) => l.level >= 20 && !String(l.msg).startsWith('step: report')).map((l) => `${l.msg} ${l.err ? JSON.stringify(l.err).slice(0, 300) : ''}`).join('\n')));
  const agent = new Agent(cfg, { logger: sink.logger });
  await agent.start();
  t.teardown(() => agent.stop());
  return { agent, lines: sink.lines };
}

test('assets checked during the download are not read again by the final verification', async (t) => {
  const { root, server, dcp, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-early-', name: 'EARLY_FTR', assetSizes: [6 * MiB, 2 * MiB], seed: 161, group: { id: 'early', password: 'pw' } });
  const cfg = agentConfig({ id: 'early-site', server: server.url, groups: [G], root });
  const { agent, lines } = await startLogged(t, cfg);
  await waitFor('seeding', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);
  const r = await results(cfg, pub.infoHash);
  // the two MXFs and the CPL: every PKL asset with a checksum
  t.deepEqual(Object.keys(r).sort(), [path.basename(dcp.cplPath), ...dcp.assets.map((a) => path.basename(a.path))].sort());
  t.true(Object.values(r).every((x) => x.ok));
  const v = lines.find((l) => typeof l.bytesHashed === 'number');
  t.is(v?.bytesHashed, 0, 'the final verification hashed nothing');
  t.is(v?.checkedDuringDownload, 3);
  t.deepEqual(await ingestListing(cfg.ingestDir), [pub.name]);

  // A restart of an agent that seeds verified DCPs reads none of them again, even without stored
  // results (as after an upgrade from a version that kept none).
  await agent.stop();
  await fs.rm(path.join(cfg.dataDir, 'asset-checks'), { recursive: true, force: true });
  const again = await startLogged(t, cfg);
  await waitFor('seeding again', () => again.agent.getStatus().torrents[0]?.state === 'seeding', 30_000);
  await new Promise((r) => setTimeout(r, 1500)); // the checker's scan of complete files would have run
  t.false(again.lines.some((l) => l.msg.startsWith('asset checked during download') || typeof l.bytesHashed === 'number'), 'nothing hashed after the restart');
});

test('a damaged asset found during the download is still caught by the verification', async (t) => {
  const root = await tempDir(t, 'cineswarm-early-bad-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'early-bad', password: 'pw' };
  const { bad, infoHash } = await seededDamagedDcp(t, { root, server: server.url, name: 'EARLY_BROKEN_FTR', seed: 162, group: G });
  const cfg = agentConfig({ id: 'early-strict', server: server.url, groups: [G], root });
  const { agent, lines } = await startLogged(t, cfg);
  await waitFor('a failed verification', () => agent.getStatus().torrents[0]?.verify.state === 'failed', 60_000);
  const name = path.basename(bad.path);
  // The failure starts a recheck, which clears the stored results: by now the entry may be gone,
  // but while it is there it must say the file did not match; the log line says it was found early.
  const recorded = (await results(cfg, infoHash))[name];
  t.true(recorded === undefined || recorded.ok === false, 'never recorded as matching');
  t.true(lines.some((l) => l.msg.includes(`${name} does not match its packing list (found during download)`)));
  t.true(agent.getStatus().torrents[0]!.verify.failed.some((f) => f.path.includes(name)));
  // the damaged file was read again by the verification, the good one was not
  const v = lines.find((l) => typeof l.bytesHashed === 'number');
  t.is(v?.bytesHashed, bad.size);
  t.deepEqual(await ingestListing(cfg.ingestDir), []);
});

test('a damaged large asset hashed as it downloads is caught and read again whole', async (t) => {
  const root = await tempDir(t, 'cineswarm-early-bad-big-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'early-bad-big', password: 'pw' };
  // 20 MiB damaged: past the size from which assets are hashed as their pieces land; a capped
  // seed makes the download last several writeback rounds
  const { bad } = await seededDamagedDcp(t, { root, server: server.url, name: 'EARLY_BROKEN_BIG_FTR', seed: 164, group: G, assetSizes: [MiB, 20 * MiB], uploadLimit: 5_000_000 });
  const cfg = agentConfig({ id: 'early-strict-big', server: server.url, groups: [G], root });
  const { agent, lines } = await startLogged(t, cfg);
  await waitFor('a failed verification', () => agent.getStatus().torrents[0]?.verify.state === 'failed', 90_000);
  const name = path.basename(bad.path);
  t.true(lines.some((l) => l.msg === `${name}: its running hash does not match; reading it whole`), 'the running hash saw the damage');
  // (the recheck after the failure forgets the stored results, so the log says what was recorded)
  t.true(lines.some((l) => l.msg === `${name} does not match its packing list (found during download)`), 'recorded as not matching during the download');
  t.true(agent.getStatus().torrents[0]!.verify.failed.some((f) => f.path.includes(name)));
  t.deepEqual(await ingestListing(cfg.ingestDir), []);
});

test('after kill -9 mid-download the per-asset results carry over and nothing is hashed twice', async (t) => {
  const root = await tempDir(t, 'cineswarm-early-kill-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'publisher', 'EARLY_KILL_FTR'), { assetSizes: [24 * MiB, 2 * MiB, 2 * MiB, 2 * MiB], seed: 163 });
  const G = { id: 'early-kill', password: 'pw' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: 3_000_000 });
  const cfg = agentConfig({ id: 'early-kill-site', server: server.url, groups: [G], root });
  const cfgFile = path.join(root, 'agent.json');
  await fs.writeFile(cfgFile, JSON.stringify(cfg));

  const first = spawnAgent(t, cfgFile);
  // The CPL has top priority, so it is checked long before the end. A result counts once resume
  // data saved after it says its pieces are there (else libtorrent fetches and rewrites them).
  const resumeFile = path.join(cfg.dataDir, 'resume', `${pub.infoHash}.resume`);
  const before = await waitFor('an asset checked, the download not done', async () => {
    const r = await results(cfg, pub.infoHash);
    const saved = (await fs.stat(resumeFile).catch(() => null))?.mtimeMs ?? 0;
    // five assets with a checksum: the CPL and four MXFs
    return Object.values(r).some((x) => x.ok && Date.parse(x.at) < saved) && Object.keys(r).length < 5 && r;
  }, 120_000, 100);
  first.child.kill('SIGKILL');
  await first.exited;
  t.false(first.lines.some((l) => typeof l.bytesHashed === 'number'), 'killed before the final verification');
  const savedAt = (await fs.stat(resumeFile)).mtimeMs;
  const carried = Object.keys(before).filter((k) => before[k]!.ok && Date.parse(before[k]!.at) < savedAt);
  t.log(`checked before the kill: ${carried.join(', ')}`);

  const second = spawnAgent(t, cfgFile);
  const v = await waitFor('verified', () => second.lines.find((l) => typeof l.bytesHashed === 'number'), 120_000);
  const hashedAgain = second.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('asset checked during download')).map((l) => l.file as string);
  t.log(`checked after the restart: ${hashedAgain.join(', ')}`);
  // the 24 MiB asset is hashed as it lands, from the file's start again after the restart: when it
  // completed after the restart, its check read only a tail (checked against the PKL all the same)
  const big = path.basename(dcp.assets[0]!.path);
  const bigLine = second.lines.find((l) => l.msg === `asset checked during download: ${big}`);
  if (bigLine) t.true(typeof bigLine.tail === 'number' && (bigLine.tail as number) < dcp.assets[0]!.size, 'only a tail left at its end');
  for (const f of carried) t.false(hashedAgain.includes(f), `${f} was not hashed again`);
  t.is(v.bytesHashed, 0, 'the final verification read no asset');
  await waitFor('ingested', async () => (await ingestListing(cfg.ingestDir)).includes(pub.name), 30_000);
  second.child.kill('SIGTERM');
  t.is(await second.exited, 0);
});
