// `cineswarm server` with --store and --redis: a store or Redis that cannot be reached stops
// start-up with one line naming it; a malformed --store is a usage error.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { freePort } from '../helpers/net.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { CLI } from './cli-process.js';

function server(args: string[]) {
  const r = spawnSync(process.execPath, ['--import=tsx', CLI, 'server', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    // static credentials, and no look-up of cloud instance metadata (that would leave loopback)
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true' },
  });
  // the AWS SDK warns about Node versions on stderr; that is not ours to judge
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('cineswarm server:'));
  return { code: r.status, lines };
}

test('an unreachable S3 endpoint or Redis: one line naming it, exit 1', async (t) => {
  const data = await tempDir(t);
  const closed = await freePort();
  const s3 = server(['--data', data, '--store', 's3://cineswarm-test/prod', '--s3-endpoint', `http://127.0.0.1:${closed}`]);
  t.is(s3.code, 1);
  t.is(s3.lines.length, 1);
  t.regex(s3.lines[0]!, new RegExp(`^cineswarm server: S3 store s3://cineswarm-test/prod/ at http://127\\.0\\.0\\.1:${closed} is unreachable`));
  const redis = server(['--data', data, '--redis', `redis://127.0.0.1:${closed}/0`]);
  t.is(redis.code, 1);
  t.is(redis.lines.length, 1);
  t.regex(redis.lines[0]!, new RegExp(`^cineswarm server: Redis redis://127\\.0\\.0\\.1:${closed}/0 is unreachable`));
});

test('a malformed --store or a stray --s3-endpoint is a usage error', (t) => {
  const bad = server(['--store', 'ftp://x']);
  t.is(bad.code, 2);
  t.deepEqual(bad.lines, ["cineswarm server: command line: --store must be s3://BUCKET/PREFIX (or dir), not 'ftp://x'"]);
  const stray = server(['--s3-endpoint', 'http://127.0.0.1:9']);
  t.is(stray.code, 2);
  t.deepEqual(stray.lines, ['cineswarm server: command line: --s3-endpoint and --s3-region go with --store s3://BUCKET/PREFIX']);
  const bucket = server(['--store', 's3://UPPER_case/x']);
  t.is(bucket.code, 2);
  t.regex(bucket.lines[0]!, /field 'store' must be/);
});
