// Seeding that survives restarts, as a distributor runs it: publish --seed --data, the seeder killed
// with SIGKILL, `cineswarm seed --data` back from resume data (never checking_files) serving a fresh
// `cineswarm get`; publish --seed of the same DCP seeds it again, a different DCP under the name is
// refused; files changed while the seeder was stopped are re-checked before any byte is served.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { groupStatus, ownerOf, startServer, treeDigests, waitFor } from './rig.js';

const MiB = 1024 * 1024;
const ENV = { CINESWARM_LOG_LEVEL: 'info' };

function started(t: ExecutionContext, args: string[]): CliProcess {
  const p = spawnCli(args, ENV);
  t.teardown(() => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    if (!t.passed) t.log(`${args[0]}: ${p.stdout().slice(-3000)}\n${p.stderr().slice(-1000)}`);
  });
  return p;
}

/** States libtorrent reported for one DCP, in order. */
const statesOf = (p: CliProcess, name: string): string[] => p.logs().filter((l) => l.msg === 'torrent state' && l.name === name).map((l) => String(l.to));

type Status = { torrents: { name: string; peers: { peer: string; state: string; role?: string; message?: string }[] }[] };
const peerState = async (server: string, g: { id: string; password: string }, name: string, peer: string) =>
  ((await groupStatus(server, g.id, g.password)) as Status).torrents.find((x) => x.name === name)?.peers.find((p) => p.peer === peer);

test('seed: back from resume data after kill -9, no re-hash; same DCP re-seeds, a different one is refused; changed files are caught', async (t) => {
  const root = await tempDir(t, 'cineswarm-seed-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'seeds', password: 'pw' };
  const data = path.join(root, 'publisher');
  const a = await generateDcp(path.join(root, 'pub', 'SEED_A_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 171 });
  const b = await generateDcp(path.join(root, 'pub', 'SEED_B_FTR'), { assetSizes: [3 * MiB, 1 * MiB], seed: 172 });
  const auth = ['--server', server.url, '--group', G.id, '--owner-password', ownerOf(G.password)];

  const usage = runCli(['seed'], { CINESWARM_LOG_LEVEL: 'silent' });

  // 1. publish --seed --data, then the publisher dies without a chance to save anything more.
  const pub = started(t, ['publish', a.dir, ...auth, '--create', '--password', G.password, '--seed', '--data', data, '--listen', '127.0.0.1:0', '--peer-id', 'distributor']);
  await waitFor('publisher seeding', () => /seeding on port \d+/.test(pub.stdout()), 60_000);
  const seedingDir = path.join(data, 'seeding');
  const resumeOf = async (name: string) => (await fs.readdir(seedingDir)).some((f) => f.endsWith('.resume')) && name;
  await waitFor('resume data of A written', () => resumeOf('A'), 30_000);
  pub.child.kill('SIGKILL');
  await pub.exited;
  // B is published from the same data dir without seeding: cineswarm seed picks it up too.
  const pubB = await runCli(['publish', b.dir, ...auth, '--data', data, '--peer-id', 'distributor'], { CINESWARM_LOG_LEVEL: 'silent' });
  t.is(pubB.code, 0, pubB.stderr);
  const record = JSON.parse(await fs.readFile(path.join(seedingDir, (await fs.readdir(seedingDir)).find((f) => f.endsWith('.json'))!), 'utf8')) as { contentDir: string; files: unknown[] };
  t.true(record.files.length >= 6, 'every file of the DCP is recorded with its size and mtime');
  t.is((await fs.stat(seedingDir)).mode & 0o777, 0o700, 'the records hold the owner password: the dir is private');

  // 2. cineswarm seed after the kill: seeding within seconds, from resume data, no checking_files.
  const begun = Date.now();
  const seed = started(t, ['seed', '--data', data, '--listen', '127.0.0.1:0']);
  await waitFor('seeder up', () => /^seeding 2 DCPs from .* on port \d+/m.test(seed.stdout()), 60_000);
  t.log(`seed restarted after kill -9: seeding 2 DCPs ${((Date.now() - begun) / 1000).toFixed(2)} s after the spawn`);
  t.regex(seed.stdout(), /^seeding SEED_A_FTR to group seeds from its resume data$/m);
  t.regex(seed.stdout(), /^seeding SEED_B_FTR to group seeds as published/m);
  t.deepEqual(statesOf(seed, 'SEED_A_FTR'), ['finished', 'seeding'], 'from checking_resume_data straight to seeding: never checking_files');
  t.false(statesOf(seed, 'SEED_B_FTR').includes('checking_files'));
  const shown = await waitFor('the seeder shows in the group status', async () => {
    const p = await peerState(server.url, G, 'SEED_B_FTR', 'distributor');
    return p?.state === 'seeding' && p;
  }, 30_000);
  t.is(shown.role, 'seeder', 'it reports as the seeder, not as a cinema');

  // A fresh download from it alone: the seeder is the group's only peer.
  const res = await fetch(`${server.url}/api/groups/${G.id}/torrents/SEED_A_FTR?peer=tech-1`, { headers: { authorization: 'Basic ' + Buffer.from(`${G.id}:${ownerOf(G.password)}`).toString('base64') } });
  const torrentFile = path.join(root, 'a.torrent');
  await fs.writeFile(torrentFile, Buffer.from(await res.arrayBuffer()));
  const out = path.join(root, 'out');
  const got = await runCli(['get', torrentFile, '--out', out, '--host', '127.0.0.1', '--port', '0'], { CINESWARM_LOG_LEVEL: 'silent' });
  t.is(got.code, 0, got.stdout + got.stderr);
  t.regex(got.stdout, /^DONE \d+\.\d{3}\n/);
  t.deepEqual(await treeDigests(path.join(out, 'SEED_A_FTR')), await treeDigests(a.dir), 'every byte arrived');
  seed.child.kill('SIGTERM');
  t.is((await seed.exited).code, 0, seed.stderr());

  // 3. publish --seed of the very DCP published before: seeded again at once, not refused.
  const again = started(t, ['publish', a.dir, ...auth, '--seed', '--data', data, '--listen', '127.0.0.1:0', '--peer-id', 'distributor']);
  await waitFor('re-publish seeding', () => /seeding on port \d+/.test(again.stdout()) || again.child.exitCode !== null, 60_000);
  t.regex(again.stdout(), /^SEED_A_FTR is already published to group seeds with the same info hash [0-9a-f]{40}; seeding it again$/m, again.stderr());
  t.false(statesOf(again, 'SEED_A_FTR').includes('checking_files'));
  again.child.kill('SIGTERM');
  t.is((await again.exited).code, 0);
  // Without a record to go by, the folder is hashed: the same bytes seed again, others are refused
  // with what to run instead.
  const other = await generateDcp(path.join(root, 'other', 'SEED_A_FTR'), { assetSizes: [1 * MiB, 1 * MiB], seed: 173 });
  const hashed = started(t, ['publish', a.dir, ...auth, '--seed', '--listen', '127.0.0.1:0', '--peer-id', 'distributor-2']);
  const refused = await runCli(['publish', other.dir, ...auth, '--seed', '--data', data], { CINESWARM_LOG_LEVEL: 'silent' });
  t.is(refused.code, 1);
  t.regex(refused.stderr.replace(/^(verifying|hashing): .*\n/gm, ''), /^cineswarm publish: a different DCP named SEED_A_FTR is already published in group seeds \(info hash [0-9a-f]{40}; .*other\/SEED_A_FTR hashes to [0-9a-f]{40}\); it was not replaced \(to seed the published DCP again, use cineswarm seed --data DIR \(its data dir\), or publish --seed with its own files\)\n$/);
  await waitFor('re-publish without a data dir seeding', () => /seeding on port \d+/.test(hashed.stdout()) || hashed.child.exitCode !== null, 60_000);
  t.regex(hashed.stdout(), /^SEED_A_FTR is already published to group seeds with the same info hash/m, hashed.stderr());
  hashed.child.kill('SIGTERM');
  t.is((await hashed.exited).code, 0);

  t.like(await usage, { code: 2, stderr: 'cineswarm seed: --data DIR is required\n' });

  // 4. While stopped: A's picture changes (same size), B's sound is only touched. A is re-checked
  // and refused before any of it is served; B's re-check finds every piece intact and it seeds.
  const fh = await fs.open(a.assets[0]!.path, 'r+');
  await fh.write(Buffer.alloc(4096, 0x33), 0, 4096, 100_000);
  await fh.close();
  const later = new Date(Date.now() + 5000);
  await fs.utimes(b.assets[1]!.path, later, later);
  const seed2 = started(t, ['seed', '--data', data, '--listen', '127.0.0.1:0']);
  await waitFor('seeder up again', () => /^seeding 1 DCP from /m.test(seed2.stdout()), 60_000);
  t.regex(seed2.stdout(), /^re-checking SEED_A_FTR before serving it: SEED_A_FTR\/.*\.mxf modified since it was published/m);
  t.regex(seed2.stderr(), /^cineswarm seed: not seeding SEED_A_FTR: 1 of \d+ pieces no longer match what was published \(.*\); restore the files \(they are checked again once they change\), or publish the changed DCP under a new name$/m);
  t.regex(seed2.stdout(), /^seeding SEED_B_FTR to group seeds after a re-check found every piece intact$/m);
  t.false(seed2.logs().some((l) => l.msg === 'seeding' && l.name === 'SEED_A_FTR'), 'A never seeded');
  t.deepEqual(statesOf(seed2, 'SEED_A_FTR').filter((s) => s === 'seeding'), [], 'libtorrent never had A complete');
  await waitFor('the refusal shows in the group status', async () => (await peerState(server.url, G, 'SEED_A_FTR', 'distributor'))?.state === 'failed', 30_000);
  seed2.child.kill('SIGTERM');
  t.is((await seed2.exited).code, 0);
});
