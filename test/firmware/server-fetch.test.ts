// Firmware through the central server: `cineswarm firmware publish` uploads with the admin
// token, the agent-side fetcher downloads and checks a newer bundle and leaves a request, and
// `cineswarm update --pending` (what cineswarm-update.service runs) installs it.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { buildServer } from '../../src/server/app.js';
import { fetchFirmware, FirmwareFetchError } from '../../src/agent/firmware/firmware-fetch.js';
import { installBundle } from '../../src/firmware/install.js';
import { ServerClient } from '../../src/protocol/index.js';
import { buildTestBundle, makeKeys, readlinkCurrent, writeSiteConfig } from './fixture.js';

const execFileP = promisify(execFile);
const quiet = pino({ level: 'silent' });

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileP('node', ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], { cwd: REPO_ROOT }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

test('published firmware reaches an agent root through the server, the fetcher and the pending request', async (t) => {
  const work = await tempDir(t, 'cineswarm-fwsrv-');
  const dataDir = path.join(work, 'server');
  const app = await buildServer({ dataDir, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const server = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const tokenFile = path.join(dataDir, 'admin-token');
  t.regex((await fs.stat(tokenFile)).mode.toString(8), /600$/, 'the admin token is readable by the server account only');

  const none = await fetch(`${server}/api/firmware/latest`);
  t.is(none.status, 404);
  t.is(((await none.json()) as { error: string }).error, 'NO_FIRMWARE');

  const keys = await makeKeys(path.join(work, 'keys'));
  const root = path.join(work, 'root');
  await writeSiteConfig(root, 18683);
  await installBundle({ bundle: (await buildTestBundle({ workDir: work, version: '1.0.0', keys })).archive, root, publicKey: keys.publicKeyFile, logger: quiet });

  const v11 = await buildTestBundle({ workDir: work, version: '1.1.0', keys });
  const wrong = await cli(['firmware', 'publish', v11.archive, '--server', server, '--token', 'not-the-token']);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /refused the bundle \(401 BAD_CREDENTIALS\): uploading firmware needs the admin token/);
  const ok = await cli(['firmware', 'publish', v11.archive, '--server', server, '--token-file', tokenFile]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /published firmware 1\.1\.0/);
  const again = await cli(['firmware', 'publish', v11.archive, '--server', server, '--token-file', tokenFile]);
  t.is(again.code, 1);
  t.regex(again.stderr, /409 FIRMWARE_EXISTS.*already published/);

  const latest = await fetch(`${server}/api/firmware/latest`);
  const info = (await latest.json()) as { version: string; size: number };
  t.is(info.version, '1.1.0');
  t.is(info.size, (await fs.stat(v11.archive)).size);

  const staging = path.join(root, 'var/lib/cineswarm/firmware');
  const fetchOpts = {
    client: new ServerClient(server), stagingDir: staging, logger: quiet,
    publicKeyFile: path.join(root, 'etc/cineswarm/firmware-key.pem'),
    updateStateFile: path.join(root, 'opt/cineswarm/state.json'),
  };
  const staged = await fetchFirmware({ ...fetchOpts, currentVersion: '1.0.0' });
  t.is(staged.state, 'staged');
  t.true((await fs.readFile(path.join(staging, 'cineswarm-1.1.0.tar.gz'))).equals(await fs.readFile(v11.archive)), 'downloaded byte for byte');
  t.is((await fetchFirmware({ ...fetchOpts, currentVersion: '1.0.0' })).state, 'pending', 'a staged request is not fetched twice');

  const upd = await cli(['update', '--pending', path.join(staging, 'pending.json'), '--root', root, '--no-restart']);
  t.is(upd.code, 0, upd.stderr);
  t.is(await readlinkCurrent(root), 'releases/1.1.0');
  t.deepEqual((await fs.readdir(staging)).sort(), ['last-update.json'], 'request and bundle are consumed');
  const report = JSON.parse(await fs.readFile(path.join(staging, 'last-update.json'), 'utf8')) as { outcome: string; version: string };
  t.like(report, { outcome: 'installed', version: '1.1.0' });

  const current = await fetchFirmware({ ...fetchOpts, currentVersion: '1.1.0' });
  t.is(current.state, 'up-to-date');
  const etag = current.state === 'up-to-date' ? current.etag : undefined;
  t.is((await fetchFirmware({ ...fetchOpts, currentVersion: '1.1.0', etag })).state, 'unchanged', 'conditional GET answers 304');

  // A bundle the server holds but the appliance's key did not sign is dropped by the fetcher.
  const other = await makeKeys(path.join(work, 'other-keys'));
  const forged = await buildTestBundle({ workDir: work, version: '1.2.0', keys: other });
  t.is((await cli(['firmware', 'publish', forged.archive, '--server', server, '--token-file', tokenFile])).code, 0);
  const err = await t.throwsAsync(fetchFirmware({ ...fetchOpts, currentVersion: '1.1.0' }), { instanceOf: FirmwareFetchError });
  t.is(err?.code, 'BAD_BUNDLE');
  t.regex(err?.message ?? '', /firmware 1\.2\.0 from the server was refused: .*not signed by the trusted key/);
  t.deepEqual((await fs.readdir(staging)).sort(), ['last-update.json'], 'nothing staged for the updater');
});

test('an update request naming a file outside its directory is refused and consumed', async (t) => {
  const work = await tempDir(t, 'cineswarm-fwsrv-');
  const staging = path.join(work, 'firmware');
  await fs.mkdir(staging);
  const victim = path.join(work, 'precious.txt');
  await fs.writeFile(victim, 'keep me');
  await fs.writeFile(path.join(staging, 'pending.json'), JSON.stringify({ bundle: '../precious.txt', signature: '../precious.txt' }));
  const r = await cli(['update', '--pending', path.join(staging, 'pending.json'), '--root', path.join(work, 'root'), '--no-restart']);
  t.is(r.code, 1);
  t.regex(r.stderr, /names a file outside/);
  t.is(await fs.readFile(victim, 'utf8'), 'keep me', 'the updater (root) never deletes what the agent points it at');
  await t.throwsAsync(fs.access(path.join(staging, 'pending.json')));
});

test('the server refuses firmware uploads that are not signed bundles, and unknown versions', async (t) => {
  const work = await tempDir(t, 'cineswarm-fwsrv-');
  const dataDir = path.join(work, 'server');
  const app = await buildServer({ dataDir, logger: false });
  t.teardown(() => app.close());
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const keys = await makeKeys(path.join(work, 'keys'));
  const b = await buildTestBundle({ workDir: work, version: '1.0.0', keys });
  const body = await fs.readFile(b.archive);
  const signature = (await fs.readFile(b.signature, 'utf8')).trim();
  const post = (payload: Buffer, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/api/firmware', payload, headers: { 'content-type': 'application/gzip', ...headers } });

  const unsigned = await post(body, { authorization: `Bearer ${token}` });
  t.is(unsigned.statusCode, 400);
  t.is(unsigned.json().error, 'SIGNATURE_MISSING');
  const notBundle = await post(Buffer.from('not a tar archive at all'), { authorization: `Bearer ${token}`, 'x-cineswarm-signature': signature });
  t.is(notBundle.statusCode, 400);
  t.is(notBundle.json().error, 'BAD_BUNDLE');
  const noToken = await post(body, { 'x-cineswarm-signature': signature });
  t.is(noToken.statusCode, 401);
  t.deepEqual(await fs.readdir(path.join(dataDir, 'firmware')).catch(() => []), [], 'nothing stored by a refused upload');

  t.is((await post(body, { authorization: `Bearer ${token}`, 'x-cineswarm-signature': signature })).statusCode, 201);
  const bundle = await app.inject({ url: '/api/firmware/1.0.0/bundle' });
  t.is(bundle.statusCode, 200);
  t.true(bundle.rawPayload.equals(body));
  t.is((await app.inject({ url: '/api/firmware/1.0.0/signature' })).payload.trim(), signature);
  const unknown = await app.inject({ url: '/api/firmware/9.9.9/bundle' });
  t.is(unknown.statusCode, 404);
  t.is(unknown.json().error, 'FIRMWARE_NOT_FOUND');
  t.is((await app.inject({ url: '/api/firmware/..%2F..%2Fserver-secret/bundle' })).statusCode, 404);
});
