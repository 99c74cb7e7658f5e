// The store contract, run against both backends (directory and S3 on a real radosgw): what the
// API promises about groups, torrents, reports and passkeys must not depend on where they live.
import test, { type ExecutionContext } from 'ava';
import bencode from 'bencode';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { GroupExistsError, GroupNotFoundError, KdmExistsError, TorrentExistsError } from '../../src/server/errors.js';
import type { KdmRecord } from '../../src/server/group-store.js';
import { cephForFile } from '../helpers/ceph.js';
import { basic, createGroup, makeTorrent, sha1Info, uploadTorrent } from './helpers.js';
import { createTestBucket, openTestStore, STORE_KINDS, type StoreKind } from './stores.js';
import { buildTestBundle, makeKeys } from '../firmware/fixture.js';

const ceph = cephForFile(test, createTestBucket);

const PW = 'pw';
const auth = { authorization: basic('dist', PW) };

async function server(t: ExecutionContext, kind: StoreKind, prefix?: string) {
  const s = await openTestStore(t, kind, ceph, prefix);
  const app = await buildServer({ dataDir: s.dataDir, store: s.store, logger: false, openGroups: true });
  t.teardown(() => app.close());
  return { ...s, app };
}

for (const kind of STORE_KINDS) {
  test(`${kind}: a group is created once; a taken id is refused by the store and over HTTP`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const rec = await store.getGroup('dist');
    t.is(rec?.id, 'dist');
    t.regex(rec!.passwordHash, /^scrypt\$/);
    t.deepEqual(await store.listGroups(), ['dist']);
    const again = await app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'dist', password: 'other', ownerPassword: 'other' } });
    t.is(again.statusCode, 409);
    t.is(again.json<{ error: string }>().error, 'GROUP_EXISTS');
    await t.throwsAsync(store.createGroup({ id: 'dist', passwordHash: 'x', createdAt: new Date().toISOString() }), { instanceOf: GroupExistsError });
    t.is((await store.getGroup('dist'))?.passwordHash, rec!.passwordHash);
    t.is(await store.getGroup('nobody'), undefined);
  });

  test(`${kind}: concurrent createGroup calls of one id, past any pre-check: exactly one wins`, async (t) => {
    const { store } = await server(t, kind);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.createGroup({ id: 'same', passwordHash: `h${i}`, createdAt: new Date().toISOString() })),
    );
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof GroupExistsError);
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    t.is((await store.getGroup('same'))?.passwordHash, `h${winner}`);
  });

  test(`${kind}: torrents: 201 once per name, bytes kept, concurrent uploads give one 201, unknown group 401`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const first = makeTorrent({ name: 'Trailer', content: Buffer.alloc(5000, 1) });
    t.is((await uploadTorrent(app, 'dist', PW, first)).statusCode, 201);
    const dup = await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Trailer', content: Buffer.alloc(5000, 2) }));
    t.is(dup.statusCode, 409);
    t.is(dup.json<{ error: string }>().error, 'TORRENT_EXISTS');
    t.true((await store.readTorrent('dist', 'Trailer'))!.equals(first));
    const race = await Promise.all(
      Array.from({ length: 6 }, (_, i) => uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Same', content: Buffer.alloc(3000, i) }))),
    );
    t.deepEqual(race.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409]);
    t.deepEqual((await store.listTorrents('dist')).map((x) => x.name), ['Same', 'Trailer']);
    await t.throwsAsync(store.addTorrent('dist', 'Same', first), { instanceOf: TorrentExistsError });
    await t.throwsAsync(store.addTorrent('ghost', 'X', first), { instanceOf: GroupNotFoundError });
    await t.throwsAsync(store.listTorrents('ghost'), { instanceOf: GroupNotFoundError });
    await t.throwsAsync(store.writeReport('ghost', { peer: 'p', torrents: {} }), { instanceOf: GroupNotFoundError });
    t.is(await store.readTorrent('dist', 'Nothing'), undefined);
    const ghost = await app.inject({ url: '/api/groups/ghost/torrents', headers: { authorization: basic('ghost', PW) } });
    // an unknown group answers as a wrong password does, so ids cannot be listed
    t.is(ghost.statusCode, 401);
  });

  test(`${kind}: the list with ETag and 304, changed by an upload and a removal`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const tor = makeTorrent({ name: 'A_Feature', content: Buffer.alloc(40000, 3) });
    await uploadTorrent(app, 'dist', PW, tor);
    const full = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
    t.like(full.json<Array<object>>()[0], { name: 'A_Feature', infoHash: sha1Info(tor), size: 40000 });
    const etag = full.headers.etag as string;
    t.is((await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } })).statusCode, 304);
    await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'B_Trailer', content: Buffer.alloc(100) }));
    const changed = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } });
    t.is(changed.statusCode, 200);
    t.deepEqual(changed.json<Array<{ name: string }>>().map((e) => e.name), ['A_Feature', 'B_Trailer']);
    t.true(await store.removeTorrent('dist', 'A_Feature'));
    t.false(await store.removeTorrent('dist', 'A_Feature'));
    t.deepEqual((await store.listTorrents('dist')).map((x) => x.name), ['B_Trailer']);
  });

  test(`${kind}: a given creation time is kept, and cleanup removes by it`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const old = new Date(Date.now() - 40 * 86_400_000);
    await store.addTorrent('dist', 'Old_One', makeTorrent({ name: 'Old_One', content: Buffer.alloc(100, 1) }), old);
    await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'New_One', content: Buffer.alloc(100, 2) }));
    const listed = await store.listTorrents('dist');
    t.is(listed.find((x) => x.name === 'Old_One')?.createdAt.getTime(), old.getTime());
    t.true(Date.now() - listed.find((x) => x.name === 'New_One')!.createdAt.getTime() < 86_400_000);
    const result = await app.cineswarm.runCleanup();
    t.deepEqual(result.removed.map((r) => r.name), ['Old_One']);
    t.deepEqual((await store.listTorrents('dist')).map((x) => x.name), ['New_One']);
    // the name is free again, with a fresh time
    await store.addTorrent('dist', 'Old_One', makeTorrent({ name: 'Old_One', content: Buffer.alloc(100, 3) }));
    t.true(Date.now() - (await store.listTorrents('dist')).find((x) => x.name === 'Old_One')!.createdAt.getTime() < 86_400_000);
  });

  test(`${kind}: reports per peer read back in the status`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const up = await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Feature', content: Buffer.alloc(2000, 1) }));
    const infoHash = up.json<{ infoHash: string }>().infoHash;
    for (const [peer, state] of [['site-1', 'seeding'], ['site-2', 'downloading']]) {
      const res = await app.inject({ method: 'POST', url: '/api/groups/dist/reports', headers: auth, payload: { peer, infoHash, state, progress: 0.5 } });
      t.is(res.statusCode, 204);
    }
    t.deepEqual((await store.listReports('dist')).map((r) => r.peer), ['site-1', 'site-2']);
    t.is((await store.readReport('dist', 'site-1'))?.torrents[infoHash]?.state, 'seeding');
    const status = (await app.inject({ url: '/api/groups/dist/status', headers: auth })).json<{ torrents: Array<{ peers: Array<{ peer: string }> }> }>();
    t.deepEqual(status.torrents[0]!.peers.map((p) => p.peer), ['site-1', 'site-2']);
  });
}

for (const kind of STORE_KINDS) {
  test(`${kind}: group update, peers, roster and tombstones read back; a missing group is refused`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const rec = (await store.getGroup('dist'))!;
    await store.updateGroup({ ...rec, ownerPasswordHash: 'scrypt$x' });
    t.is((await store.getGroup('dist'))?.ownerPasswordHash, 'scrypt$x');
    t.is(await store.readPeer('dist', 'site-1'), undefined);
    await store.kdms.writePeerCertificates('dist', 'site-1', ['PEM']);
    const peer = (await store.readPeer('dist', 'site-1'))!;
    await store.writePeer('dist', { ...peer, keyHash: 'ab'.repeat(32), keyBoundAt: '2026-01-01T00:00:00.000Z' });
    t.like(await store.readPeer('dist', 'site-1'), { peer: 'site-1', keyHash: 'ab'.repeat(32), certificates: ['PEM'] });
    t.deepEqual(await store.kdms.readPeerCertificates('dist', 'site-1'), ['PEM'], 'a key binding keeps the certificates');
    t.deepEqual(await store.readRoster('dist'), []);
    await store.writeRoster('dist', [{ peer: 'site-1', name: 'Odeon', site: 'Leeds' }, { peer: 'site-2' }]);
    t.deepEqual(await store.readRoster('dist'), [{ peer: 'site-1', name: 'Odeon', site: 'Leeds' }, { peer: 'site-2' }]);
    t.deepEqual(await store.listTombstones('dist'), []);
    const tomb = { name: 'Old', infoHash: 'c'.repeat(40), size: 10, createdAt: '2026-01-01T00:00:00.000Z', retiredAt: '2026-01-02T00:00:00.000Z', reason: 'withdrawn' as const };
    await store.writeTombstone('dist', tomb);
    t.deepEqual(await store.listTombstones('dist'), [tomb]);
    await t.throwsAsync(store.updateGroup({ ...rec, id: 'ghost' }), { instanceOf: GroupNotFoundError });
    await t.throwsAsync(store.writeRoster('ghost', []), { instanceOf: GroupNotFoundError });
    await t.throwsAsync(store.writeTombstone('ghost', tomb), { instanceOf: GroupNotFoundError });
    await t.throwsAsync(store.writePeer('ghost', { peer: 'p' }), { instanceOf: GroupNotFoundError });
  });
}

test('s3: two servers on one store share the passkey secret and refuse each other’s taken ids', async (t) => {
  const a = await server(t, 's3');
  const b = await server(t, 's3', a.prefix);
  await createGroup(a.app, 'dist', PW);
  t.is((await b.app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'dist', password: 'x', ownerPassword: 'x' } })).statusCode, 409);
  const both = await Promise.all([a, b].map((s) => s.app.inject({ method: 'POST', url: '/api/groups', payload: { id: 'racing', password: 'x', ownerPassword: 'x' } })));
  t.deepEqual(both.map((r) => r.statusCode).sort(), [201, 409]);
  await uploadTorrent(a.app, 'dist', PW, makeTorrent({ name: 'Feature', content: Buffer.alloc(2000, 1) }));
  const fromB = await b.app.inject({ url: '/api/groups/dist/torrents/Feature?peer=site-1', headers: auth });
  t.is(fromB.statusCode, 200);
  const announce = Buffer.from((bencode.decode(fromB.rawPayload) as { announce: Uint8Array }).announce).toString();
  const passkey = announce.split('/announce/')[1]!;
  t.is(a.app.cineswarm.secret, b.app.cineswarm.secret);
  const fromA = await a.app.inject({ url: '/api/groups/dist/torrents/Feature?peer=site-1', headers: auth });
  t.true(Buffer.from((bencode.decode(fromA.rawPayload) as { announce: Uint8Array }).announce).toString().endsWith(passkey));
});

for (const kind of STORE_KINDS) {
  test(`${kind}: KDMs are held once per MessageId with their record; peer certificates keep the rest of the peer file`, async (t) => {
    const { app, store } = await server(t, kind);
    await createGroup(app, 'dist', PW);
    const id = '30b00f08-6fcf-414a-8924-831fd4daf05d';
    const rec: KdmRecord = {
      messageId: id, cplId: '67334526-342c-475d-bb64-d8fd8318f954', title: 'T', notValidBefore: '2018-04-17T17:46:18+00:00',
      notValidAfter: '2028-04-10T17:46:18+00:00', recipient: { subject: 's', issuer: 'i', serial: '7', dnQualifier: null },
      keyCount: 2, createdAt: new Date().toISOString(), peer: null, peers: ['a'], receipts: {},
    };
    const xml = Buffer.from('<DCinemaSecurityMessage/>');
    await store.kdms.addKdm('dist', rec, xml);
    await t.throwsAsync(store.kdms.addKdm('dist', { ...rec, peers: [] }, Buffer.from('other')), { instanceOf: KdmExistsError });
    t.deepEqual(await store.kdms.readKdm('dist', id), xml);
    t.deepEqual(await store.kdms.listKdms('dist'), [rec]);
    await store.kdms.writeKdmRecord('dist', { ...rec, receipts: { a: { state: 'valid', updatedAt: rec.createdAt } } });
    t.is((await store.kdms.readKdmRecord('dist', id))?.receipts.a?.state, 'valid');
    await store.kdms.writePeerCertificates('dist', 'a', ['PEM1']);
    await store.kdms.writePeerCertificates('dist', 'a', ['PEM2']);
    t.deepEqual(await store.kdms.readPeerCertificates('dist', 'a'), ['PEM2']);
    t.deepEqual(await store.kdms.listPeerCertificates('dist'), [{ peer: 'a', certificates: ['PEM2'] }]);
    t.true(await store.kdms.removeKdm('dist', id));
    t.false(await store.kdms.removeKdm('dist', id));
    t.deepEqual(await store.kdms.listKdms('dist'), []);
    await t.throwsAsync(store.kdms.addKdm('nobody', rec, xml), { instanceOf: GroupNotFoundError });
  });
}

for (const kind of STORE_KINDS) {
  test(`${kind}: firmware: a version is published once, whole; racing uploads of one version give one winner`, async (t) => {
    const { store } = await server(t, kind);
    const fw = store.firmware;
    const info = (version: string, bytes: Buffer) => ({
      version, createdAt: '2026-01-01T00:00:00.000Z', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'),
      bundleUrl: `/api/firmware/${version}/bundle`, signatureUrl: `/api/firmware/${version}/signature`,
    });
    t.deepEqual(await fw.versions(), []);
    const one = Buffer.alloc(3000, 1);
    t.true(await fw.add(info('1.0.0', one), one, 'sig-1'));
    t.false(await fw.add(info('1.0.0', Buffer.alloc(10, 9)), Buffer.alloc(10, 9), 'other'));
    const racers = [2, 3, 4].map((n) => Buffer.alloc(2000 + n, n));
    const won = await Promise.all(racers.map((b, i) => fw.add(info('1.10.0', b), b, `sig-${i}`)));
    t.is(won.filter(Boolean).length, 1);
    const w = won.indexOf(true);
    t.deepEqual(await fw.versions(), ['1.10.0', '1.0.0']);
    t.is((await fw.info('1.10.0'))?.sha256, info('1.10.0', racers[w]!).sha256);
    t.is(await fw.signature('1.10.0'), `sig-${w}`);
    const chunks: Buffer[] = [];
    for await (const c of (await fw.openBundle('1.10.0'))!) chunks.push(c as Buffer);
    t.true(Buffer.concat(chunks).equals(racers[w]!));
    t.is(await fw.info('9.9.9'), undefined);
    t.is(await fw.openBundle('../x'), undefined);
    t.is(await fw.signature('9.9.9'), undefined);
  });
}

test('s3: replicas share the admin token and the firmware bundles through the store, none in the data dir', async (t) => {
  const a = await server(t, 's3');
  const b = await server(t, 's3', a.prefix);
  const token = a.app.cineswarm.adminToken;
  t.true(token.length >= 32);
  t.is(b.app.cineswarm.adminToken, token);
  // open groups aside, creation on B needs the token A made
  const c = await buildServer({ dataDir: b.dataDir, store: b.store, logger: false });
  t.teardown(() => c.close());
  const create = (authorization?: string) =>
    c.inject({ method: 'POST', url: '/api/groups', headers: authorization ? { authorization } : {}, payload: { id: 'closed', password: 'x', ownerPassword: 'ox' } });
  t.is((await create()).statusCode, 401);
  t.is((await create(`Bearer ${token}`)).statusCode, 201);

  const keys = await makeKeys(path.join(a.dataDir, 'keys'));
  const built = await buildTestBundle({ workDir: a.dataDir, version: '2.0.0', keys });
  const body = await fs.readFile(built.archive);
  const signature = (await fs.readFile(built.signature, 'utf8')).trim();
  const post = (app: typeof a.app) =>
    app.inject({ method: 'POST', url: '/api/firmware', payload: body, headers: { 'content-type': 'application/gzip', authorization: `Bearer ${token}`, 'x-cineswarm-signature': signature } });
  t.is((await post(a.app)).statusCode, 201);
  t.is((await post(b.app)).json<{ error: string }>().error, 'FIRMWARE_EXISTS');
  const latest = await b.app.inject({ url: '/api/firmware/latest' });
  t.is(latest.json<{ version: string }>().version, '2.0.0');
  const bundle = await b.app.inject({ url: '/api/firmware/2.0.0/bundle' });
  t.true(bundle.rawPayload.equals(body));
  t.is((await b.app.inject({ url: '/api/firmware/2.0.0/signature' })).payload.trim(), signature);
  for (const dir of [a.dataDir, b.dataDir]) {
    const names = await fs.readdir(dir);
    t.false(names.includes('admin-token'), `no token file in ${dir}`);
    t.false(names.includes('firmware'), `no firmware in ${dir}`);
  }
});
