// The real firmware image: `make image` output (compiled JS, native addon, production
// node_modules, rootfs) installs under a temp root, runs from its slot and updates itself; and a
// DCP download running under firmware N continues under N+1 after the update's restart, the N+1
// agent resuming from the resume data N saved in the same dataDir.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { generateDcp } from '../helpers/dcp-generator.js';
import { DCP_FIXTURES, REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { waitHealthy } from '../../src/firmware/health.js';
import { installBundle } from '../../src/firmware/install.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, startServer, waitFor } from '../e2e/rig.js';
import { freePort, readlinkCurrent, SlotAgent, snapshotTree, writeSiteConfig } from './fixture.js';
import { buildImages, PUBLIC_KEY, removeImages, VERSION_N, VERSION_N1, VERSION_OLD } from './real-image.js';

const execFileP = promisify(execFile);
const MiB = 1024 * 1024;
const quiet = pino({ level: 'silent' });

test.after.always(removeImages);

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileP(file, args, { maxBuffer: 16 * MiB }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

test('make image output installs under a root, runs from its slot, and updates itself to N+1', async (t) => {
  const { n, n1 } = await buildImages();
  const root = await tempDir(t, 'cineswarm-image-');
  const repoCli = path.join(REPO_ROOT, 'src/cli/main.ts');
  const first = await run('node', ['--import=tsx', repoCli, 'update', n, '--root', root, '--public-key', PUBLIC_KEY, '--no-restart']);
  t.is(first.code, 0, first.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N}`);

  const release = path.join(root, 'opt/cineswarm/current');
  const addons = await fs.readdir(path.join(release, 'build/Release'));
  t.true(addons.some((f) => f.endsWith('.node')), 'the native addon is in the release');
  await fs.access(path.join(release, 'node_modules/fastify/package.json'));
  for (const dev of ['ava', 'typescript', 'tsx']) {
    await t.throwsAsync(fs.access(path.join(release, 'node_modules', dev)), undefined, `${dev} is a devDependency and stays out`);
  }
  t.is(JSON.parse(await fs.readFile(path.join(release, 'package.json'), 'utf8')).version, VERSION_N);
  // Assets beside the sources (the status page) travel with the compiled modules.
  const { stdout: assets } = await execFileP('find', ['.', '-type', 'f', '!', '-name', '*.ts', '-printf', '%P\\n'], { cwd: path.join(REPO_ROOT, 'src') });
  for (const asset of assets.trim().split('\n').filter(Boolean)) await fs.access(path.join(release, 'dist', asset));

  // The installed command verifies a real DCP with only its own production dependencies.
  const bin = path.join(release, 'bin/cineswarm');
  const verify = await run(bin, ['verify', path.join(DCP_FIXTURES, 'libdcp_dcp_test1'), '--json']);
  t.is(verify.code, 0, verify.stderr);

  // The installed release's own updater takes it to N+1.
  const before = await snapshotTree(root);
  const refused = await run(bin, ['update', n, '--root', root, '--no-restart']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /is not newer than the installed/);
  t.deepEqual(await snapshotTree(root), before);
  const second = await run(bin, ['update', n1, '--root', root, '--no-restart']);
  t.is(second.code, 0, second.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N1}`);
  const out = await run(path.join(root, 'opt/cineswarm/current/bin/cineswarm'), ['--help']);
  t.regex(out.stdout, /usage: cineswarm <command>/);
});

test('install-image.sh lays the image onto an empty root with its account, directories and enabled units', async (t) => {
  const { n } = await buildImages();
  const script = path.join(REPO_ROOT, 'dist', 'image', 'install-image.sh');
  const work = await tempDir(t, 'cineswarm-image-');

  const otherKey = path.join(work, 'other.pub.pem');
  await execFileP('sh', ['-c', `openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out '${otherKey}'`]);
  const forged = await run('sh', [script, n, otherKey, path.join(work, 'refused')]);
  t.is(forged.code, 1);
  t.regex(forged.stderr, /is not signed by .*other\.pub\.pem, or it is damaged: nothing installed/);
  await t.throwsAsync(fs.access(path.join(work, 'refused')), undefined, 'nothing was created');

  const root = path.join(work, 'root');
  const r = await run('sh', [script, n, PUBLIC_KEY, root]);
  t.is(r.code, 0, r.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N}`);
  t.regex(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), /^cineswarm:x:\d+:\d+:.*:\/var\/lib\/cineswarm:\/usr\/sbin\/nologin$/m);
  for (const dir of ['var/lib/cineswarm/firmware', 'srv/cineswarm/incoming', 'srv/cineswarm/ingest']) {
    t.true((await fs.stat(path.join(root, dir))).isDirectory(), dir);
  }
  const config = await fs.stat(path.join(root, 'etc/cineswarm/agent.json'));
  t.is(config.mode & 0o777, 0o640, 'the site config with group passwords is not world-readable');
  const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants');
  t.deepEqual((await fs.readdir(wants)).sort(), ['cineswarm-agent.service', 'cineswarm-update-check.service', 'cineswarm-update.path']);
  t.is(await fs.readlink(path.join(wants, 'cineswarm-agent.service')), '/lib/systemd/system/cineswarm-agent.service');
});

test('an appliance on an image without its own runtime updates to one that runs the agent on the Node.js it ships', async (t) => {
  const { n, old } = await buildImages();
  const root = await tempDir(t, 'cineswarm-image-runtime-');
  const port = await freePort();
  // A site with no group yet and no server reachable: the agent still starts and answers.
  const site = agentConfig({ id: 'site-runtime', server: 'http://127.0.0.1:9', groups: [], root });
  const config = await writeSiteConfig(root, port, { ...site, web: { host: '127.0.0.1', port } });
  const agent = new SlotAgent(root, config);
  t.teardown(() => agent.stop());
  const healthy = (version: string) => waitHealthy({ url: `http://127.0.0.1:${port}/api/status`, version }, 60_000);
  const install = (bundle: string) => installBundle({ bundle, root, publicKey: PUBLIC_KEY, restart: () => agent.restart(), healthy, logger: quiet });
  const exe = async (): Promise<string> => fs.readlink(`/proc/${agent.child!.pid}/exe`);

  const first = await install(old);
  t.is(first.outcome, 'installed', first.message);
  const oldRelease = path.join(root, 'opt/cineswarm/releases', VERSION_OLD);
  await t.throwsAsync(fs.access(path.join(oldRelease, 'runtime')), undefined, 'the old image has no runtime of its own');
  t.false((await exe()).startsWith(root), `the old image's agent runs the system's node (${await exe()})`);

  const second = await install(n);
  t.is(second.outcome, 'installed', second.message);
  const release = path.join(root, 'opt/cineswarm/releases', VERSION_N);
  const shipped = path.join(release, 'runtime/bin/node');
  // systemd starts the release's launcher through `current`; the launcher runs the shipped node.
  const unit = await fs.readFile(path.join(root, 'lib/systemd/system/cineswarm-agent.service'), 'utf8');
  const execStart = /^ExecStart=(\S+) agent /m.exec(unit)?.[1];
  t.is(execStart, '/opt/cineswarm/current/bin/cineswarm');
  t.regex(await fs.readFile(path.join(root, execStart!), 'utf8'), /exec "\$here\/\.\.\/runtime\/bin\/node"/);
  t.is(await exe(), shipped, 'the running agent process is the release\'s own node');
  const { stdout } = await execFileP(shipped, ['--version']);
  t.is(stdout.trim(), process.version, 'the image ships the runtime the suite runs on');
  t.regex(stdout, /^v(2[2-9]|[3-9]\d)\./, 'a supported LTS line (22 or newer)');
  t.is((await fs.readFile(path.join(release, 'runtime/VERSION'), 'utf8')).trim(), stdout.trim());
});

interface PeerRow { peer: string; state: string; progress: number }

/** The agent's own view of one torrent's progress, from its status API. */
async function agentProgress(port: number, infoHash: string): Promise<number | undefined> {
  try {
    const s = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { torrents: { infoHash: string; progress: number }[] };
    return s.torrents.find((x) => x.infoHash === infoHash)?.progress;
  } catch {
    return undefined;
  }
}

test('a download running under version N continues under N+1 without fetching finished pieces again', async (t) => {
  const { n, n1 } = await buildImages();
  const work = await tempDir(t, 'cineswarm-image-resume-');
  const root = path.join(work, 'root');
  const server = await startServer(t, path.join(work, 'server'));
  const dcp = await generateDcp(path.join(work, 'publisher', 'FIRMWARE_SWITCH_FTR'), { assetSizes: [36 * MiB, 12 * MiB], seed: 11 });
  const G = { id: 'fw-group', password: 'pw' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: 3 * 1000 * 1000 });

  const port = await freePort();
  const cfg = { ...agentConfig({ id: 'site-fw', server: server.url, groups: [G], root: work }), web: { host: '127.0.0.1', port } };
  const cfgFile = path.join(root, 'etc/cineswarm/agent.json');
  await fs.mkdir(path.dirname(cfgFile), { recursive: true });
  await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2));
  const agent = new SlotAgent(root, cfgFile, ['agent', '--config'], { ...process.env, CINESWARM_LOG_JSON: '1', CINESWARM_LOG_LEVEL: 'info' });
  t.teardown(() => agent.stop());
  const healthy = (version: string) => waitHealthy({ url: `http://127.0.0.1:${port}/api/status`, version }, 60_000);
  const install = (bundle: string) => installBundle({ bundle, root, publicKey: PUBLIC_KEY, restart: () => agent.restart(), healthy, logger: quiet });

  // On a failure, the agents' own words are the first thing to read.
  t.teardown(() => {
    if (!t.passed) t.log(agent.runs.map((r, i) => `--- start ${i + 1}\n${r.slice(-3000)}`).join('\n'));
  });
  const a = await install(n);
  t.is(a.outcome, 'installed', a.message);
  const row = async (): Promise<PeerRow | undefined> => {
    const s = (await groupStatus(server.url, G.id, G.password)) as { torrents: { infoHash: string; peers: PeerRow[] }[] };
    return s.torrents.find((x) => x.infoHash === pub.infoHash)?.peers.find((p) => p.peer === 'site-fw');
  };
  await waitFor('about half downloaded under N', async () => {
    const r = await row();
    return r && r.state === 'downloading' && r.progress >= 0.3 && r.progress < 0.8 && r;
  }, 120_000, 100);
  // The seeder holds still during the update, so on a slow machine the download cannot finish
  // under N while N+1 is being unpacked and checked: the switch lands mid-download for sure.
  pub.seeder.torrent.pause();
  const progressAtSwitch = await waitFor('N to settle', async () => {
    const a1 = await agentProgress(port, pub.infoHash);
    await new Promise((r) => setTimeout(r, 1000));
    const a2 = await agentProgress(port, pub.infoHash);
    return a1 !== undefined && a1 === a2 && a2 < 1 && a2;
  }, 60_000, 0);

  // The update's restart stops the N agent (SIGTERM, as systemd does) and starts N+1's.
  const b = await install(n1);
  t.is(b.outcome, 'installed', b.message);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N1}`);
  t.is(agent.starts, 2);
  pub.seeder.torrent.resume();

  const done = await waitFor('complete under N+1', () => agent.lines(1).find((l) => typeof l.downloadedThisRun === 'number'), 180_000);
  const reDownloaded = done.downloadedThisRun as number;
  const missing = pub.size * (1 - progressAtSwitch);
  t.log(`switched N→N+1 at ${(progressAtSwitch * 100).toFixed(1)}% of ${pub.size} bytes; N+1 downloaded ${reDownloaded} bytes, ${Math.round(missing)} were missing`);
  t.true(reDownloaded < missing + pub.size * 0.05, `N+1 downloaded ${reDownloaded} bytes for ${Math.round(missing)} missing`);
  t.true(reDownloaded > 0, 'the switch did land mid-download');
  const resumed = agent.lines(1).find((l) => typeof l.msg === 'string' && l.msg.includes('resumed from the previous run'));
  t.is(resumed?.withResumeData, true, 'N+1 picked up the resume data N saved');
  t.false(agent.lines(1).some((l) => l.msg === 'checking files on disk against the torrent'), 'no full recheck');

  await waitFor('seeding under N+1', async () => (await row())?.state === 'seeding', 60_000);
  t.deepEqual(await ingestListing(cfg.ingestDir), [pub.name]);
  for (const asset of dcp.assets) {
    const want = await fs.readFile(path.join(dcp.dir, path.basename(asset.path)));
    const got = await fs.readFile(path.join(cfg.ingestDir, pub.name, path.basename(asset.path)));
    t.true(want.equals(got), `${path.basename(asset.path)} is byte-identical`);
  }
  const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { version: string };
  t.is(status.version, VERSION_N1);
});
