// A corrected re-release under a name a cinema already has: the distributor withdraws the first
// version and publishes the second under the same name. The agent (a real `cineswarm agent`
// process) shows both versions and downloads nothing until a person runs `cineswarm accept NAME`;
// then the new version downloads into its own folder, is verified, and takes the name in ingest
// in one step (a watcher never sees the name missing or a mix of versions); the old version is
// retired, and the server's group status shows the decision on both versions.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ServerClient } from '../../src/protocol/index.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { runCli } from '../helpers/cli.js';
import { launchChromium } from '../helpers/browser.js';
import { agentConfig, groupStatus, ownerOf, publishAndSeed, publishedSwarm, spawnAgentWithWeb, waitFor } from './rig.js';

const MiB = 1024 * 1024;
const NAME = 'RERELEASE_FTR';

const cli = (args: string[]) => runCli(args, { CINESWARM_LOG_LEVEL: 'silent' });

/** The sorted file list of a folder tree, relative paths. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

interface PeerRow { peer: string; state: string; decision?: string }

test('accepting a re-release swaps ingest to it whole, retires the old one, and the server sees the decision', async (t) => {
  const { root, server, G, dcp: v1, pub: first } = await publishedSwarm(t, { prefix: 'cineswarm-rerelease-', name: NAME, assetSizes: [2 * MiB, 1 * MiB], seed: 401, group: { id: 'rerelease-g', password: 'pw-rr' } });
  const cfg = agentConfig({ id: 'site-rr', server: server.url, groups: [G], root });
  const { file, config, web } = await spawnAgentWithWeb(t, root, cfg);
  const find = (s: AgentStatus, ih: string) => s.torrents.find((x) => x.infoHash === ih);
  await waitFor('first version seeding', async () => find(await web.status(), first.infoHash)?.state === 'seeding', 60_000);
  const ingest = path.join(cfg.ingestDir, NAME);
  const v1Files = await tree(ingest);

  // The distributor withdraws it and publishes the corrected DCP under the same name.
  await new ServerClient(server.url).withdrawTorrent({ id: G.id, password: ownerOf(G.password) }, NAME);
  const v2 = await generateDcp(path.join(root, 'pub-v2', NAME), { assetSizes: [1 * MiB, 2 * MiB], seed: 402 });
  const second = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: v2.dir, create: false });
  t.not(second.infoHash, first.infoHash);
  const v2Files = await tree(v2.dir);
  t.notDeepEqual(v2Files, v1Files, 'the versions differ in their files');

  // Both versions shown; nothing of the new one downloaded until a person decides.
  const waiting = await waitFor('offered version listed', async () => (await web.status()).conflicts.find((c) => c.offeredInfoHash === second.infoHash && c.offered), 30_000);
  t.is(waiting.knownInfoHash, first.infoHash);
  t.deepEqual(waiting.known, { state: 'retired', sizeBytes: first.size, inIngest: true });
  t.is(waiting.offered?.sizeBytes, second.size);
  t.falsy(find(await web.status(), second.infoHash));
  const shown = await cli(['status', '--agent', `http://127.0.0.1:${config.web.port}`]);
  t.regex(shown.stdout, new RegExp(`${NAME} in group ${G.id}: have ${first.infoHash} \\(retired, in ingest, [^)]+\\); offered ${second.infoHash}`));
  t.regex(shown.stdout, new RegExp(`accept with: cineswarm accept ${NAME}`));
  t.deepEqual(await tree(ingest), v1Files, 'the old version stays in ingest');

  // The page shows both versions under "Needs a decision"; its Accept button only after login.
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${config.web.port}/`);
  const panel = page.locator('#conflicts-panel');
  await panel.locator('li.conflict').waitFor({ timeout: 15_000 });
  const text = (await panel.textContent()) ?? '';
  t.true(text.includes(`Here: ${first.infoHash}`) && text.includes('in the ingest folder'), text);
  t.true(text.includes(`Offered: ${second.infoHash}`), text);
  t.true(await panel.locator('button.accept').isHidden(), 'no Accept button before login');
  await page.fill('#password', 'projectionist');
  await page.click('#login-button');
  await panel.locator('button.accept').waitFor({ state: 'visible', timeout: 10_000 });
  t.deepEqual(pageErrors, []);
  await browser.close();

  const unknown = await cli(['accept', 'NO_SUCH_FTR', '--config', file]);
  t.is(unknown.code, 1);
  t.is(unknown.stderr, 'cineswarm accept: Nothing to accept for NO_SUCH_FTR: no DCP of that name is here.\n');

  // Watch the ingest name from here on: every look finds one whole version.
  const seen = new Set<string>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const files = await tree(ingest).catch((e: NodeJS.ErrnoException) => [`missing: ${e.code}`]);
      const key = JSON.stringify(files);
      seen.add(key === JSON.stringify(v1Files) ? 'v1' : key === JSON.stringify(v2Files) ? 'v2' : key);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  t.teardown(() => void (watching = false));

  const accepted = await cli(['accept', NAME, '--config', file]);
  t.is(accepted.code, 0, accepted.stderr);
  t.regex(accepted.stdout, new RegExp(`^Accepted the re-release of ${NAME} \\(${second.infoHash.slice(0, 12)}\\) from group ${G.id}`));
  const done = await waitFor('new version seeding', async () => {
    const s = await web.status();
    return find(s, second.infoHash)?.state === 'seeding' && find(s, first.infoHash)?.replacedBy ? s : undefined;
  }, 60_000);
  watching = false;
  await watcher;
  t.deepEqual([...seen].sort(), ['v1', 'v2'], 'the name held the old version, then the new one, nothing else');

  const now = find(done, second.infoHash)!;
  t.is(now.replaces, first.infoHash);
  t.regex(now.decision ?? '', /^re-release accepted on /);
  const old = find(done, first.infoHash)!;
  t.is(old.state, 'retired');
  t.is(old.replacedBy, second.infoHash);
  t.deepEqual(done.conflicts, [], 'decided: no longer waiting');
  // Ingest holds the new version as hard links of its own download folder; the old download stays
  // (retention removes it later), in its own folder.
  t.deepEqual(await fs.readdir(cfg.ingestDir), [NAME]);
  const asset = path.basename(v2.assets[0].path);
  const [a, b] = await Promise.all([fs.stat(path.join(ingest, asset)), fs.stat(path.join(cfg.downloadDir, second.infoHash, NAME, asset))]);
  t.is(a.ino, b.ino);
  t.deepEqual(await fs.readFile(path.join(ingest, asset)), await fs.readFile(v2.assets[0].path));
  t.deepEqual(await tree(path.join(cfg.downloadDir, first.infoHash, NAME)), await tree(v1.dir));

  // The distributor's group status: the decision on the new version, and on the one it replaced.
  const rows = await waitFor('decisions reported', async () => {
    const st = (await groupStatus(server.url, G.id, G.password)) as { torrents: { infoHash: string; peers: PeerRow[] }[] };
    const row = (ih: string) => st.torrents.find((x) => x.infoHash === ih)?.peers.find((p) => p.peer === cfg.id);
    const n = row(second.infoHash);
    const o = row(first.infoHash);
    return n?.state === 'seeding' && n.decision && o?.decision ? { n, o } : undefined;
  }, 30_000);
  t.regex(rows.n.decision!, new RegExp(`^re-release accepted on .* replacing ${first.infoHash.slice(0, 12)}$`));
  t.is(rows.o.decision, `replaced by the accepted re-release ${second.infoHash.slice(0, 12)}`);
  t.is(rows.o.state, 'retired');

  const again = await cli(['accept', NAME, '--config', file]);
  t.is(again.code, 1);
  t.regex(again.stderr, /^cineswarm accept: Nothing to accept for RERELEASE_FTR: no other version of it is offered\.\n$/);
});
