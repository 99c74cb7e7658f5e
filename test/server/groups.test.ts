// POST /api/groups and the group store: creation, refusals that leave DATA untouched, and
// concurrent creates of one id.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DirGroupStore } from '../../src/server/dir-store.js';
import { verifyPassword } from '../../src/server/passwords.js';
import { basic, snapshot, startServer } from './helpers.js';

test('creating a group writes group.json with a scrypt hash, never the password', async (t) => {
  const { app, dataDir } = await startServer(t);
  const res = await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'dist-A', password: 's3cret pass', ownerPassword: 'owner pass' } });
  t.is(res.statusCode, 201);
  const body = res.json<{ id: string; createdAt: string }>();
  t.is(body.id, 'dist-A');
  const file = await fs.readFile(path.join(dataDir, 'groups', 'dist-A', 'group.json'), 'utf8');
  t.false(file.includes('s3cret'));
  t.false(file.includes('owner pass'));
  const rec = JSON.parse(file) as { id: string; passwordHash: string; ownerPasswordHash: string; createdAt: string };
  t.is(rec.id, 'dist-A');
  t.is(rec.createdAt, body.createdAt);
  t.regex(rec.passwordHash, /^scrypt\$/);
  t.true(await verifyPassword('s3cret pass', rec.passwordHash));
  t.false(await verifyPassword('s3cret pasS', rec.passwordHash));
  t.true(await verifyPassword('owner pass', rec.ownerPasswordHash));
  t.deepEqual((await fs.readdir(path.join(dataDir, 'groups', 'dist-A'))).sort(), ['group.json', 'reports', 'torrents']);
});

test('a duplicate id answers 409 telling the initiator the id is taken, and changes nothing', async (t) => {
  const { app, dataDir } = await startServer(t);
  t.is((await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'g', password: 'first', ownerPassword: 'o1' } })).statusCode, 201);
  const before = await snapshot(dataDir);
  const res = await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'g', password: 'second', ownerPassword: 'o2' } });
  t.is(res.statusCode, 409);
  const body = res.json<{ error: string; message: string }>();
  t.is(body.error, 'GROUP_EXISTS');
  t.regex(body.message, /'g' is already taken/);
  t.deepEqual(await snapshot(dataDir), before);
  // the first password still opens the group, the second does not
  t.is((await app.inject({ url: '/api/groups/g/torrents', headers: { authorization: basic('g', 'first') } })).statusCode, 200);
  t.is((await app.inject({ url: '/api/groups/g/torrents', headers: { authorization: basic('g', 'second') } })).statusCode, 401);
});

const badBodies: Array<[string, unknown, string]> = [
  ['path traversal id', { id: '../evil', password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['id with a slash', { id: 'a/b', password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['hidden id', { id: '.hidden', password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['empty id', { id: '', password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['65-character id', { id: 'a'.repeat(65), password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['id with a NUL', { id: 'a\u0000b', password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['empty password', { id: 'ok', password: '', ownerPassword: 'o' }, 'BAD_PASSWORD'],
  ['missing password', { id: 'ok' }, 'BAD_PASSWORD'],
  ['missing owner password', { id: 'ok', password: 'x' }, 'BAD_PASSWORD'],
  ['empty owner password', { id: 'ok', password: 'x', ownerPassword: '' }, 'BAD_PASSWORD'],
  ['missing id', { password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
  ['numeric id', { id: 12, password: 'x', ownerPassword: 'o' }, 'BAD_GROUP_ID'],
];

for (const [what, payload, code] of badBodies) {
  test(`400 on ${what}, nothing written`, async (t) => {
    const { app, dataDir } = await startServer(t);
    const before = await snapshot(dataDir);
    const res = await app.inject({ method: 'POST', url: '/api/groups', payload: payload as object });
    t.is(res.statusCode, 400);
    const body = res.json<{ error: string; message: string }>();
    t.is(body.error, code);
    t.true(body.message.length > 10);
    t.deepEqual(await snapshot(dataDir), before);
  });
}

test('400 on a body that is not JSON', async (t) => {
  const { app, dataDir } = await startServer(t);
  const before = await snapshot(dataDir);
  const res = await app.inject({ method: 'POST', url: '/api/groups', headers: { 'content-type': 'application/json' }, payload: '{"id":' });
  t.is(res.statusCode, 400);
  t.deepEqual(res.json(), { error: 'BAD_REQUEST', message: 'the request body is not valid JSON' });
  t.deepEqual(await snapshot(dataDir), before);
});

test('concurrent creates of one id: exactly one 201, the rest 409, one consistent group', async (t) => {
  const { app, dataDir } = await startServer(t);
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'race', password: `pw${i}`, ownerPassword: `own${i}` } })),
  );
  const codes = results.map((r) => r.statusCode).sort();
  t.deepEqual(codes, [201, ...Array(11).fill(409)]);
  const winner = results.findIndex((r) => r.statusCode === 201);
  t.is((await app.inject({ url: '/api/groups/race/torrents', headers: { authorization: basic('race', `pw${winner}`) } })).statusCode, 200);
  // no staging leftovers: only the group itself
  t.deepEqual(await fs.readdir(path.join(dataDir, 'groups')), ['race']);
});

test('the store: concurrent createGroup calls bypassing the HTTP pre-check still yield one group', async (t) => {
  const { dataDir } = await startServer(t);
  const store = new DirGroupStore(dataDir);
  await store.init();
  const outcomes = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => store.createGroup({ id: 'same', passwordHash: `h${i}`, createdAt: new Date().toISOString() })),
  );
  t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  t.is(rejected.length, 9);
  t.true(rejected.every((o) => (o.reason as { code: string }).code === 'GROUP_EXISTS'));
  const rec = await store.getGroup('same');
  t.regex(rec!.passwordHash, /^h\d$/);
  t.deepEqual(await store.listGroups(), ['same']);
});

test('a half-created group (crash while staging) is never seen and is swept at start', async (t) => {
  const { dataDir } = await startServer(t);
  const staging = path.join(dataDir, 'groups', '.staging-deadbeef');
  await fs.mkdir(path.join(staging, 'torrents'), { recursive: true });
  await fs.writeFile(path.join(staging, 'group.json'), '{"id":"half"');
  const store = new DirGroupStore(dataDir);
  t.deepEqual(await store.listGroups(), []);
  t.is(await store.getGroup('half'), undefined);
  await store.init();
  t.deepEqual(await fs.readdir(path.join(dataDir, 'groups')), []);
});

test('GET /healthz answers 200; an unknown endpoint 404 with a JSON body', async (t) => {
  const { app } = await startServer(t);
  const ok = await app.inject({ url: '/healthz' });
  t.is(ok.statusCode, 200);
  t.deepEqual(ok.json(), { status: 'ok' });
  const nf = await app.inject({ url: '/api/nothing' });
  t.is(nf.statusCode, 404);
  t.deepEqual(nf.json(), { error: 'NOT_FOUND', message: 'no such endpoint: GET /api/nothing' });
});
