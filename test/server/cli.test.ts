// `cineswarm server` as a command: help, one-line errors with the right exit status, a clean
// stop on SIGTERM.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { CLI, startCliServer } from './cli-process.js';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import=tsx', CLI, 'server', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help prints the usage and exits 0', (t) => {
  const r = cli(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^usage: cineswarm server \[--config FILE\] \[--host H\] \[--port 8600\] \[--data DIR\]/);
});

test('an unknown option: one line on stderr, exit 2', (t) => {
  const r = cli(['--bogus']);
  t.is(r.code, 2);
  t.is(r.stderr.trim().split('\n').length, 1);
  t.regex(r.stderr, /^cineswarm server: Unknown option '--bogus'/);
});

test('a bad config field is named, exit 2', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'server.json');
  await fs.writeFile(file, JSON.stringify({ retentionDays: -1 }));
  const r = cli(['--config', file]);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), `cineswarm server: ${file}: field 'retentionDays' must be a positive number of days, not -1`);
  const bad = cli(['--port', 'eighty']);
  t.is(bad.code, 2);
  t.is(bad.stderr.trim(), `cineswarm server: command line: field 'port' must be a port number from 0 to 65535, not "eighty"`);
  const missing = cli(['--config', path.join(dir, 'none.json')]);
  t.is(missing.code, 2);
  t.is(missing.stderr.trim(), `cineswarm server: cannot read the config file ${path.join(dir, 'none.json')} (ENOENT)`);
});

test('config file settings apply, the port in use is refused, SIGTERM stops with 0', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'server.json');
  await fs.writeFile(file, JSON.stringify({ dataDir: path.join(dir, 'data'), publicUrl: 'http://seed.example:8600', announceIntervalSeconds: 120 }));
  const running = await startCliServer(t, ['--config', file]);
  t.is((await fetch(`${running.url}/healthz`)).status, 200);
  // DATA came from the config file
  const made = await fs.readdir(path.join(dir, 'data'));
  t.true(made.includes('groups') && made.includes('server-secret'), made.join(','));
  t.is((await fs.stat(path.join(dir, 'data', 'server-secret'))).mode & 0o777, 0o600);
  const port = new URL(running.url).port;
  const busy = cli(['--host', '127.0.0.1', '--port', port, '--data', path.join(dir, 'other')]);
  t.is(busy.code, 1);
  t.is(busy.stderr.trim(), `cineswarm server: port ${port} on 127.0.0.1 is already in use`);
  running.child.kill('SIGTERM');
  t.is(await running.exited, 0);
});
