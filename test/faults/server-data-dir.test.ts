// The server's data dir under hostile conditions, against real `cineswarm server` processes: a
// second server on the same DATA, leftovers of a kill -9, and a group.json damaged by hand.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startCliServer } from '../server/cli-process.js';
import { basic, makeTorrent } from '../server/helpers.js';

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

async function createGroup(url: string, id: string, password = 'pw'): Promise<Response> {
  return fetch(`${url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, password, ownerPassword: `${password}-owner` }) });
}

test("a second server on the same data dir refuses before touching it; the live one's staging survives and it keeps answering", async (t) => {
  const data = path.join(await tempDir(t, 'cineswarm-2nd-'), 'data');
  const live = await startCliServer(t, ['--data', data, '--open-groups']);
  t.is((await createGroup(live.url, 'g')).status, 201);
  // What a creation and an upload in progress look like on disk at this instant.
  const staging = path.join(data, 'groups', '.staging-0123456789abcdef');
  await fs.mkdir(path.join(staging, 'torrents'), { recursive: true });
  const tmp = path.join(data, 'groups', 'g', 'torrents', '.tmp-Feature.torrent-abcdef');
  await fs.writeFile(tmp, 'half an upload');

  const port = new URL(live.url).port;
  for (const args of [['--port', port], ['--port', '0']]) {
    const second = await runCli(['server', '--host', '127.0.0.1', ...args, '--data', data, '--open-groups']);
    t.is(second.code, 1);
    t.is(second.stderr.trim(), `cineswarm server: another cineswarm server (pid ${live.child.pid}) is using the data dir ${data}; stop it first, or give this one another --data`);
  }
  t.true(await exists(staging), 'the staging folder of the live server is still there');
  t.true(await exists(tmp), 'so is its temp file');
  t.is((await fetch(`${live.url}/healthz`)).status, 200);
  t.is((await createGroup(live.url, 'h')).status, 201, 'the live server still creates groups');
  t.is((await fetch(`${live.url}/api/groups/g/torrents`, { headers: { authorization: basic('g', 'pw') } })).status, 200);
});

test('after a kill -9, the next start takes over the stale lock and sweeps the temp files and staging folders left behind', async (t) => {
  const data = path.join(await tempDir(t, 'cineswarm-swp-'), 'data');
  const first = await startCliServer(t, ['--data', data, '--open-groups']);
  t.is((await createGroup(first.url, 'g')).status, 201);
  const torrent = makeTorrent({ name: 'Feature', content: Buffer.alloc(40000, 3) });
  const up = await fetch(`${first.url}/api/groups/g/torrents`, { method: 'POST', headers: { authorization: basic('g', 'pw-owner'), 'content-type': 'application/x-bittorrent' }, body: new Uint8Array(torrent) });
  t.is(up.status, 201);
  first.child.kill('SIGKILL');
  await first.exited;
  t.true(await exists(path.join(data, 'server.lock')), 'the killed server left its lock behind');
  const g = path.join(data, 'groups', 'g');
  const leftovers = [
    path.join(g, 'torrents', '.tmp-Other.torrent-0a1b2c'),
    path.join(g, 'reports', '.tmp-cinema-1.json-3d4e5f'),
    path.join(g, '.tmp-group.json-777777'),
    path.join(data, '.tmp-server-secret-123456'),
  ];
  for (const f of leftovers) await fs.writeFile(f, 'cut short by a crash');
  const staging = path.join(data, 'groups', '.staging-fedcba9876543210');
  await fs.mkdir(path.join(staging, 'reports'), { recursive: true });
  const upload = path.join(data, 'firmware', '.upload-Ab12Cd');
  await fs.mkdir(upload, { recursive: true });
  await fs.writeFile(path.join(upload, 'cineswarm-9.9.9.tar.gz'), Buffer.alloc(64 * 1024, 1));

  const lines: string[] = [];
  const second = await startCliServer(t, ['--data', data, '--open-groups']);
  second.child.stdout!.on('data', (c: Buffer) => lines.push(c.toString()));
  for (const f of [...leftovers, staging, upload]) t.false(await exists(f), `${path.relative(data, f)} swept`);
  t.deepEqual((await fs.readdir(path.join(g, 'torrents'))).sort(), ['Feature.torrent']);
  const list = await fetch(`${second.url}/api/groups/g/torrents`, { headers: { authorization: basic('g', 'pw') } });
  t.is(list.status, 200);
  t.deepEqual(((await list.json()) as { name: string }[]).map((x) => x.name), ['Feature']);
  second.child.kill('SIGTERM');
  t.is(await second.exited, 0);
  t.false(await exists(path.join(data, 'server.lock')), 'a clean stop leaves no lock');
});

test('a group.json damaged by hand: a clear {error, message}, and creating that id again is 409', async (t) => {
  const data = path.join(await tempDir(t, 'cineswarm-dmg-'), 'data');
  const server = await startCliServer(t, ['--data', data, '--open-groups']);
  t.is((await createGroup(server.url, 'g')).status, 201);
  t.is((await createGroup(server.url, 'h')).status, 201);
  await fs.writeFile(path.join(data, 'groups', 'g', 'group.json'), '{"id": "g", "passwordHash": ');
  await fs.writeFile(path.join(data, 'groups', 'h', 'group.json'), '{"id": "someone-else"}\n');

  const listed = await fetch(`${server.url}/api/groups/g/torrents`, { headers: { authorization: basic('g', 'pw') } });
  t.is(listed.status, 500);
  const body = (await listed.json()) as { error: string; message: string };
  t.is(body.error, 'GROUP_DAMAGED');
  t.regex(body.message, /^the server's record of group 'g' is damaged \(DATA\/groups\/g\/group\.json: not valid JSON \(.+\)\); the server operator must restore it from a backup$/);
  const wrongShape = (await (await fetch(`${server.url}/api/groups/h/torrents`, { headers: { authorization: basic('h', 'pw') } })).json()) as { error: string; message: string };
  t.is(wrongShape.error, 'GROUP_DAMAGED');
  t.true(wrongShape.message.includes('id, passwordHash or createdAt missing or wrong'));

  for (const id of ['g', 'h']) {
    const again = await createGroup(server.url, id);
    t.is(again.status, 409);
    const refusal = (await again.json()) as { error: string; message: string };
    t.is(refusal.error, 'GROUP_EXISTS');
    t.true(refusal.message.includes('its record on the server is damaged'), refusal.message);
  }
  t.is(await fs.readFile(path.join(data, 'groups', 'g', 'group.json'), 'utf8'), '{"id": "g", "passwordHash": ', 'nothing was overwritten');
  t.is((await createGroup(server.url, 'fresh')).status, 201, 'other groups are not affected');
});
