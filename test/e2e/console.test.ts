// The distributor console at the server's GET /, in headless Chromium, against a real server, a
// publisher seeding three DCPs and two cinema agents: a wrong password is refused in words, each
// cinema's state shows (ready, verification failed with the file named, a rostered cinema that
// never started), and a DCP withdrawn on the server makes both agents stop seeding it and report
// it retired, which the console shows. Screenshots at desk and phone width go to test-output/.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createTorrent, Session } from '../../src/engine/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import { launchChromium } from '../helpers/browser.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { spawn } from 'node:child_process';
import { CLI_MAIN, runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, ownerOf, publishAndSeed, startAgent, startServer, waitFor } from './rig.js';

const MiB = 1024 * 1024;
const OUT = path.join(REPO_ROOT, 'test-output');

const row = (page: Page, dcp: string, peer: string) => page.locator(`article.dcp[data-name="${dcp}"] tr.peer[data-peer="${peer}"]`);
const badge = (page: Page, dcp: string, peer: string) => row(page, dcp, peer).locator('.badge').textContent();

test('console: refusal in words, every cinema × DCP, a failed verification named, not started, withdraw → retired on both agents', async (t) => {
  const started = Date.now();
  const phase = (what: string) => t.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  const root = await tempDir(t, 'cineswarm-console-');
  const server = await startServer(t, path.join(root, 'server'), 0, { consolePollMs: 500 });
  const G = { id: 'console-group', password: 'cinemas-pw' };
  const owner = { id: G.id, password: ownerOf(G.password) };
  const client = new ServerClient(server.url);

  const feature = await generateDcp(path.join(root, 'pub', 'CONSOLE_FTR'), { assetSizes: [5 * MiB, MiB], seed: 301 });
  const trailer = await generateDcp(path.join(root, 'pub', 'CONSOLE_TLR'), { assetSizes: [2 * MiB, MiB], seed: 302 });
  await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: feature.dir, peerId: 'distributor' });
  const tlr = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: trailer.dir, create: false, peerId: 'distributor' });
  // A DCP damaged after its packing list was written, uploaded as a careless tool might: it never verifies.
  const damaged = await generateDcp(path.join(root, 'pub', 'CONSOLE_BAD'), { assetSizes: [2 * MiB, MiB], seed: 303 });
  const fh = await fs.open(damaged.assets[1]!.path, 'r+');
  await fh.write(Buffer.from('damaged'), 0, 7, 4096);
  await fh.close();
  const bad = await client.uploadTorrent(owner, await createTorrent(damaged.dir, { private: true, trackers: [`${server.url}/announce`] }));
  const careless = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true });
  t.teardown(() => careless.close());
  careless.addTorrent({ torrent: await client.fetchTorrent(owner, bad.name, 'careless-tool'), savePath: path.dirname(damaged.dir), seedMode: true });

  await client.setRoster(owner, [
    { peer: 'site-alpha', name: 'Odeon Alpha', site: 'Leeds' },
    { peer: 'site-beta', name: 'Rex Beta', site: 'Berlin' },
    { peer: 'site-gamma', name: 'Gamma Cinema', site: 'Lyon' },
  ]);
  const agents = await Promise.all(['site-alpha', 'site-beta'].map((id) => startAgent(t, agentConfig({ id, server: server.url, groups: [G], root }))));

  phase('published, agents started');
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.url);
  await page.locator('#login-panel').waitFor();

  // Wrong password: a refusal a person understands, no session.
  await page.fill('#login-group', G.id);
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-button');
  await page.locator('#login-error').waitFor();
  t.regex((await page.textContent('#login-error')) ?? '', /Wrong group id or owner password/);
  t.false(await page.locator('#logout-button').isVisible());
  // The member password the cinemas use is not the owner's.
  await page.fill('#login-password', G.password);
  await page.click('#login-button');
  await waitFor('member password refused', async () => /member password the cinemas use/.test((await page.textContent('#login-error')) ?? ''), 10_000);
  const cookies = await page.context().cookies();
  t.false(cookies.some((c) => c.name === 'cineswarm_console'), 'no session after a refusal');

  await page.fill('#login-password', owner.password);
  await page.click('#login-button');
  await page.locator('#logout-button').waitFor();
  const session = (await page.context().cookies()).find((c) => c.name === 'cineswarm_console');
  t.truthy(session);
  t.true(session!.httpOnly);
  t.is(session!.sameSite, 'Strict');

  // Everything delivered to both agents (the damaged one failed on both), seen live without reload.
  for (const peer of ['site-alpha', 'site-beta']) {
    for (const dcp of ['CONSOLE_FTR', 'CONSOLE_TLR']) await waitFor(`${peer} ${dcp} ready on the page`, async () => (await badge(page, dcp, peer).catch(() => null)) === 'Ready, sharing', 90_000, 250);
    phase(`${peer} ready`);
    await waitFor(`${peer} CONSOLE_BAD failed on the page`, async () => (await badge(page, 'CONSOLE_BAD', peer).catch(() => null)) === 'Failed', 90_000, 250);
    phase(`${peer} failed`);
  }
  phase('all delivered or failed');
  t.is(await badge(page, 'CONSOLE_FTR', 'site-gamma'), 'Not started');
  const failedFiles = await row(page, 'CONSOLE_BAD', 'site-alpha').locator('.failed li').allTextContents();
  t.true(failedFiles.some((f) => f.includes(path.basename(damaged.assets[1]!.path))), failedFiles.join(' | '));
  t.regex((await page.locator('article.dcp[data-name="CONSOLE_FTR"] .totals').textContent()) ?? '', /2 of 3 cinemas ready, 1 not started/);
  const attention = (await page.locator('#attention').textContent()) ?? '';
  t.regex(attention, /Gamma Cinema \(site-gamma\) has not started CONSOLE_FTR: it never reported on it/);
  t.regex(attention, /Odeon Alpha \(site-alpha\) failed CONSOLE_BAD: 1 file did not verify/);
  t.regex((await page.locator('article.dcp[data-name="CONSOLE_FTR"] .seeders').textContent()) ?? '', /distributor ready, sharing, ↑/);
  t.regex((await row(page, 'CONSOLE_FTR', 'site-alpha').locator('.verify').textContent()) ?? '', /passed/);
  t.regex((await row(page, 'CONSOLE_FTR', 'site-alpha').locator('.seen').textContent()) ?? '', /ago|just now/);

  phase('page checked');
  // Withdraw the trailer: both agents stop seeding it and report it retired; the console shows it.
  await client.withdrawTorrent(owner, tlr.name);
  for (const a of agents) {
    await waitFor(`${a.config.id} retired the trailer`, () => a.getStatus().torrents.find((x) => x.infoHash === tlr.infoHash)?.state === 'retired', 60_000);
    t.is(a.engine.find(tlr.infoHash), undefined, `${a.config.id} no longer seeds it`);
    t.regex(a.getStatus().torrents.find((x) => x.infoHash === tlr.infoHash)?.message ?? '', /withdrawn/);
  }
  const retiredPanel = page.locator('article.dcp.retired[data-name="CONSOLE_TLR"]');
  for (const peer of ['site-alpha', 'site-beta']) {
    await waitFor(`${peer} shown retired`, async () => (await badge(page, 'CONSOLE_TLR', peer).catch(() => null)) === 'Retired, stopped sharing', 30_000, 250);
  }
  t.regex((await retiredPanel.locator('.withdrawn').textContent()) ?? '', /Withdrawn by the distributor/);
  t.regex((await retiredPanel.locator('.totals').textContent()) ?? '', /withdrawn: 2 of 2 cinemas stopped sharing it/);

  phase('retired shown');
  await fs.mkdir(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'console-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // At phone width nothing runs off the side: the page is no wider than the screen.
  t.true(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling at 390 px');
  t.is(await badge(page, 'CONSOLE_FTR', 'site-gamma'), 'Not started');
  await page.screenshot({ path: path.join(OUT, 'console-390.png'), fullPage: true });
  t.log(`screenshots: ${path.join(OUT, 'console-1280.png')} ${path.join(OUT, 'console-390.png')}`);

  // Logging out ends the session on the server too.
  await page.click('#logout-button');
  await page.locator('#login-panel').waitFor();
  const after = await fetch(`${server.url}/api/console/status`, { headers: { cookie: `cineswarm_console=${session!.value}` } });
  t.is(after.status, 401);
  // `cineswarm deliveries` on the same swarm: the table with totals, --json merged with the roster.
  const args = ['deliveries', '--server', server.url, '--group', G.id];
  const shown = await runCli(args, { CINESWARM_OWNER_PASSWORD: owner.password });
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /CONSOLE_FTR .* 2 of 3 cinemas ready, 1 not started/);
  t.regex(shown.stdout, /Odeon Alpha \(site-alpha\)\s+Ready, sharing\s+100\.0%/);
  t.regex(shown.stdout, /Gamma Cinema \(site-gamma\)\s+Not started\s+0\.0%.*never\s+not-started/);
  t.regex(shown.stdout, /CONSOLE_TLR .*withdrawn: 2 of 2 cinemas stopped sharing it/);
  t.regex(shown.stdout, /seeders: distributor seeding up /);
  t.regex(shown.stdout, /needs attention:\n(.|\n)*Rex Beta \(site-beta\) failed CONSOLE_BAD: 1 file did not verify/);
  const json = await runCli([...args, '--json', '--owner-password', owner.password]);
  t.is(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { group: string; roster: Array<{ peer: string }>; torrents: Array<{ name: string; retired?: object; peers: Array<{ peer: string; flag: string; state: string }> }> };
  t.is(doc.group, G.id);
  t.deepEqual(doc.roster.map((r) => r.peer), ['site-alpha', 'site-beta', 'site-gamma']);
  const ftr = doc.torrents.find((x) => x.name === 'CONSOLE_FTR')!;
  t.deepEqual(Object.fromEntries(ftr.peers.map((p) => [p.peer, p.flag])), { distributor: 'ok', 'site-alpha': 'ok', 'site-beta': 'ok', 'site-gamma': 'not-started' });
  t.truthy(doc.torrents.find((x) => x.name === 'CONSOLE_TLR')!.retired);
  const refused = await runCli([...args, '--owner-password', G.password]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^cineswarm deliveries: the server refused the credentials.*owner password/m);
  t.is(refused.stdout, '');
  // --watch: piped, picture after picture; on a terminal (script(1) gives it a pty) each is drawn
  // over the last. SIGTERM ends it with 0.
  const watch = spawnCli([...args, '--watch'], { CINESWARM_OWNER_PASSWORD: owner.password });
  const tty = spawn('script', ['-qc', `${process.execPath} --import=tsx ${CLI_MAIN} ${args.join(' ')} --watch`, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, CINESWARM_OWNER_PASSWORD: owner.password },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  tty.stdout.on('data', (c: Buffer) => (screen += c.toString()));
  const ttyClosed = new Promise((resolve) => tty.on('close', resolve));
  t.teardown(() => {
    if (tty.exitCode === null) tty.kill('SIGKILL');
    if (watch.child.exitCode === null) watch.child.kill('SIGKILL');
  });
  const drawn = () => screen.split('\x1b[H\x1b[2J').filter((x) => x.includes('CONSOLE_FTR')).length;
  await waitFor('two pictures on the terminal', () => drawn() >= 2, 60_000);
  tty.kill('SIGTERM');
  await ttyClosed;
  t.true(watch.stdout().split('group console-group:').length - 1 >= 2, 'piped: one picture after another');
  t.false(watch.stdout().includes('\x1b['), 'no terminal codes when piped');
  watch.child.kill('SIGTERM');
  t.is((await watch.exited).code, 0);
  phase('deliveries checked');

});
