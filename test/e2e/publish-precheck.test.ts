// publish asks the server before it reads a byte of the DCP: a wrong owner password costs the
// distributor a round trip, not an hour of hashing. Measured as the bytes the process read (rchar):
// the same refusal on a 48 MiB DCP and on a 2 MiB one reads the same amount, well under 1 MB apart.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { createGroupOn, startServer } from './rig.js';

const MiB = 1024 * 1024;
const PROBE = path.join(REPO_ROOT, 'test/helpers/rchar-at-exit.mjs');

test('publish with a wrong owner password exits 1 before reading the DCP', async (t) => {
  const root = await tempDir(t, 'cineswarm-precheck-');
  const server = await startServer(t, path.join(root, 'server'));
  await createGroupOn(server.url, { id: 'pre', password: 'pw' });
  const small = await generateDcp(path.join(root, 'a', 'PRE_SMALL_FTR'), { assetSizes: [1 * MiB, 1 * MiB], seed: 181 });
  const big = await generateDcp(path.join(root, 'b', 'PRE_BIG_FTR'), { assetSizes: [40 * MiB, 8 * MiB], seed: 182 });
  const refused = async (dir: string, probe: string) => {
    const r = await runCli(['publish', dir, '--server', server.url, '--group', 'pre', '--owner-password', 'wrong', '--data', path.join(root, 'data')], { CINESWARM_LOG_LEVEL: 'silent', CINESWARM_TEST_RCHAR_FILE: probe }, { nodeArgs: [`--import=${PROBE}`] });
    return { ...r, rchar: Number(await fs.readFile(probe, 'utf8')) };
  };
  // One after the other: both find the same compiled-module cache, so their reads differ only by the DCP.
  const first = await refused(small.dir, path.join(root, 'warm.rchar'));
  const baseline = await refused(small.dir, path.join(root, 'small.rchar'));
  const wrong = await refused(big.dir, path.join(root, 'big.rchar'));
  for (const r of [first, baseline, wrong]) {
    t.is(r.code, 1);
    t.regex(r.stderr, /^cineswarm publish: the server refused the owner password for group pre, or there is no such group \(add --create to create it\)\n$/);
  }
  const grew = wrong.rchar - baseline.rchar;
  t.log(`rchar: ${baseline.rchar} bytes refusing a ${formatMiB(small.totalBytes)} DCP, ${wrong.rchar} refusing a ${formatMiB(big.totalBytes)} one (${grew} more)`);
  t.true(Number.isFinite(grew) && grew < 1_000_000, `read ${grew} bytes more for a DCP ${big.totalBytes - small.totalBytes} bytes larger`);
  await t.throwsAsync(fs.access(path.join(root, 'data', 'seeding')), undefined, 'nothing recorded in the data dir');
});

const formatMiB = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
