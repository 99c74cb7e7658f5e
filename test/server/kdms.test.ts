// KDM routes with the real fixture KDMs: upload, routing by registered certificate or ?peer=, the
// peer's own list and fetch, receipts, withdrawal; refusals say why and leave DATA unchanged.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KDM_FIXTURES } from '../helpers/paths.js';
import { basic, createGroup, snapshot, startServer } from './helpers.js';

const auth = { authorization: basic('grp', 'pw') };
const OTHER_KDM_ID = '30b00f08-6fcf-414a-8924-831fd4daf05d';
const fixture = (n: string) => fs.readFile(path.join(KDM_FIXTURES, n));

async function setup(t: Parameters<typeof startServer>[0]) {
  const s = await startServer(t);
  await createGroup(s.app, 'grp', 'pw');
  const putCert = async (peer: string, pem: Buffer | string) =>
    s.app.inject({ method: 'PUT', url: `/api/groups/grp/peers/${peer}/certificates`, headers: { ...auth, 'content-type': 'application/x-pem-file' }, payload: pem });
  const postKdm = async (xml: Buffer, query = '') =>
    s.app.inject({ method: 'POST', url: `/api/groups/grp/kdms${query}`, headers: { ...auth, 'content-type': 'application/xml' }, payload: xml });
  return { ...s, putCert, postKdm };
}

test('other_kdm goes to the peer whose certificate it names, never to another peer of the group', async (t) => {
  const { app, dataDir, putCert, postKdm } = await setup(t);
  t.is((await putCert('cinema-a', await fixture('libdcp_other_kdm_smpte.target.pem'))).statusCode, 204);
  t.is((await putCert('cinema-b', await fixture('libdcp_easydcp_paulbowles_smpte.target.pem'))).statusCode, 204);
  const res = await postKdm(await fixture('libdcp_other_kdm_smpte.xml'));
  t.is(res.statusCode, 201, res.body);
  t.deepEqual(res.json(), {
    messageId: OTHER_KDM_ID,
    cplId: '67334526-342c-475d-bb64-d8fd8318f954',
    title: 'Test_FTR-1_F-133_EN-XX_MOS_2K_20251217_SMPTE_OV',
    notValidBefore: '2018-04-17T17:46:18+00:00',
    notValidAfter: '2028-04-10T17:46:18+00:00',
    recipient: {
      subject: 'dnQualifier=MekIXGBkYdh28siMnnF/Zs2JeK8=,CN=CS.smpte-430-2.LEAF.NOT_FOR_PRODUCTION,OU=example.org,O=example.org',
      issuer: 'dnQualifier=enjbKYhZ9JszBVjy71Lg9QrYmV4=,CN=.smpte-430-2.INTERMEDIATE.NOT_FOR_PRODUCTION,OU=example.org,O=example.org',
      serial: '7',
      dnQualifier: 'MekIXGBkYdh28siMnnF/Zs2JeK8=',
    },
    peers: ['cinema-a'],
  });
  const kdmDir = path.join(dataDir, 'groups', 'grp', 'kdms');
  t.deepEqual((await fs.readdir(kdmDir)).sort(), [`${OTHER_KDM_ID}.json`, `${OTHER_KDM_ID}.xml`]);
  t.deepEqual(await fs.readFile(path.join(kdmDir, `${OTHER_KDM_ID}.xml`)), await fixture('libdcp_other_kdm_smpte.xml'));

  const mine = (await app.inject({ url: '/api/groups/grp/kdms?peer=cinema-a', headers: auth })).json<Array<{ messageId: string; deliveries: unknown[] }>>();
  t.is(mine.length, 1);
  t.like(mine[0]!.deliveries[0], { peer: 'cinema-a', state: 'routed' });
  t.deepEqual((await app.inject({ url: '/api/groups/grp/kdms?peer=cinema-b', headers: auth })).json(), []);
  const got = await app.inject({ url: `/api/groups/grp/kdms/${OTHER_KDM_ID}?peer=cinema-a`, headers: auth });
  t.is(got.statusCode, 200);
  t.deepEqual(got.rawPayload, await fixture('libdcp_other_kdm_smpte.xml'));
  const refused = await app.inject({ url: `/api/groups/grp/kdms/${OTHER_KDM_ID}?peer=cinema-b`, headers: auth });
  t.is(refused.statusCode, 403);
  t.is(refused.json<{ error: string }>().error, 'NOT_A_RECIPIENT');

  const receipt = await app.inject({
    method: 'POST', url: `/api/groups/grp/kdms/${OTHER_KDM_ID}/receipts`, headers: auth,
    payload: { peer: 'cinema-a', state: 'waiting-for-dcp', message: 'its composition is in no DCP here yet' },
  });
  t.is(receipt.statusCode, 204);
  const all = (await app.inject({ url: '/api/groups/grp/kdms', headers: auth })).json<Array<{ deliveries: Array<Record<string, string>> }>>();
  t.like(all[0]!.deliveries[0], { peer: 'cinema-a', state: 'waiting-for-dcp', message: 'its composition is in no DCP here yet' });
  const stranger = await app.inject({ method: 'POST', url: `/api/groups/grp/kdms/${OTHER_KDM_ID}/receipts`, headers: auth, payload: { peer: 'cinema-b', state: 'valid' } });
  t.is(stranger.statusCode, 403);

  t.is((await app.inject({ method: 'DELETE', url: `/api/groups/grp/kdms/${OTHER_KDM_ID}`, headers: auth })).statusCode, 204);
  t.deepEqual(await fs.readdir(kdmDir), []);
  t.is((await app.inject({ method: 'DELETE', url: `/api/groups/grp/kdms/${OTHER_KDM_ID}`, headers: auth })).statusCode, 404);
});

test('a KDM sent before its cinema registered reaches it when the certificate arrives; ?peer= routes by name', async (t) => {
  const { app, putCert, postKdm } = await setup(t);
  const early = await postKdm(await fixture('libdcp_other_kdm_smpte.xml'));
  t.deepEqual(early.json<{ peers: string[] }>().peers, []);
  t.is((await putCert('cinema-a', await fixture('libdcp_other_kdm_smpte.target-chain.pem'))).statusCode, 204);
  const listed = (await app.inject({ url: '/api/groups/grp/kdms?peer=cinema-a', headers: auth })).json<Array<{ messageId: string }>>();
  t.deepEqual(listed.map((k) => k.messageId), [OTHER_KDM_ID]);
  const named = await postKdm(await fixture('clairmeta_ECL29.xml'), '?peer=cinema-z');
  t.is(named.statusCode, 201);
  t.deepEqual(named.json<{ peers: string[] }>().peers, ['cinema-z']);
});

test('malformed, non-KDM, incomplete and duplicate uploads are refused and change nothing', async (t) => {
  const { dataDir, postKdm, putCert } = await setup(t);
  t.is((await postKdm(await fixture('libdcp_other_kdm_smpte.xml'))).statusCode, 201);
  const before = await snapshot(dataDir);
  const cases: Array<[Buffer, number, string, RegExp]> = [
    [await fixture('broken_truncated_other_kdm.xml'), 400, 'BAD_KDM', /not valid XML/],
    [Buffer.from('<CompositionPlaylist xmlns="http://www.smpte-ra.org/schemas/429-7/2006/CPL"/>'), 400, 'BAD_KDM', /not a KDM/],
    [Buffer.from((await fixture('libdcp_other_kdm_smpte.xml')).toString().replace(/<CompositionPlaylistId>[^<]*<\/CompositionPlaylistId>/, '')), 400, 'BAD_KDM', /CompositionPlaylistId/],
    [await fixture('libdcp_other_kdm_smpte.xml'), 409, 'KDM_EXISTS', /already holds the KDM/],
  ];
  for (const [body, status, error, message] of cases) {
    const res = await postKdm(body);
    t.is(res.statusCode, status, res.body);
    t.is(res.json<{ error: string }>().error, error);
    t.regex(res.json<{ message: string }>().message, message);
  }
  const key = await putCert('cinema-a', Buffer.concat([await fixture('libdcp_other_kdm_smpte.target.pem'), await fixture('libdcp_other_kdm_smpte.key')]));
  t.is(key.statusCode, 400);
  t.regex(key.json<{ message: string }>().message, /private key/);
  t.is((await putCert('cinema-a', 'hello')).statusCode, 400);
  t.deepEqual(await snapshot(dataDir), before);
  const { app } = await setup(t);
  const anonymous = await app.inject({ method: 'POST', url: '/api/groups/grp/kdms', headers: { 'content-type': 'application/xml' }, payload: await fixture('clairmeta_ECL29.xml') });
  t.is(anonymous.statusCode, 401);
});
