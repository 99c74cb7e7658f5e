// The agent's KDM keeper against a real server on 127.0.0.1, with a clock the test sets: KDM_EXPIRING
// within warnDays, expiry turning into KDM_MISSING, a KDM for another media block refused with a receipt.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KdmKeeper } from '../../src/agent/kdm/kdm-keeper.js';
import { AlarmBook } from '../../src/agent/monitoring/alarms.js';
import { readCompositions } from '../../src/dcp/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { dcpSigner, makeTestKdm, makeTestPki } from '../helpers/test-kdm.js';
import { tempDir } from '../helpers/tmp.js';
import { quiet, startServer } from '../e2e/rig.js';

const G = { id: 'kdm-unit', password: 'pw' };
const OWNER = 'pw-owner';
const auth = { authorization: 'Basic ' + Buffer.from(`${G.id}:${OWNER}`).toString('base64') };

test('KDM_EXPIRING before the end, expired and KDM_MISSING after it, and a KDM for another server refused', async (t) => {
  const root = await tempDir(t, 'cineswarm-kdm-keeper-');
  for (const d of ['pki', 'other']) await fs.mkdir(path.join(root, d));
  const pki = makeTestPki(path.join(root, 'pki'));
  const other = makeTestPki(path.join(root, 'other'));
  const server = await startServer(t, path.join(root, 'server'));
  t.is((await fetch(`${server.url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...G, ownerPassword: OWNER }) })).status, 201);
  const dcp = await generateDcp(path.join(root, 'dcps', 'ENC_FTR'), { encrypted: true, signXml: dcpSigner(pki), assetSizes: [10_000, 5_000] });
  const [cpl] = await readCompositions(dcp.dir);

  let now = new Date('2026-06-01T00:00:00Z');
  const alarms = new AlarmBook({ logger: quiet });
  const kdmDir = path.join(root, 'kdm');
  const client = new ServerClient(server.url);
  client.setPeer('site-1', 'peer-key-of-site-1-for-this-test');
  const keeper = new KdmKeeper({
    agentId: 'site-1', server: server.url, client, groups: () => [G], alarms, logger: quiet, clock: () => now,
    config: { dir: kdmDir, certificates: [pki.recipient.cert], warnDays: 2 },
    dcps: () => [{ infoHash: 'a'.repeat(40), name: 'ENC_FTR', dir: dcp.dir }],
  });
  await keeper.start();
  await keeper.sync();
  t.is(keeper.view('a'.repeat(40))?.state, 'missing');
  t.true(alarms.has('KDM_MISSING'));

  const send = async (xml: string, peer?: string) => {
    const res = await fetch(`${server.url}/api/groups/${G.id}/kdms${peer ? `?peer=${peer}` : ''}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: xml });
    t.is(res.status, 201, await res.clone().text());
  };
  // Addressed to another media block, but pushed to this peer by name: judged and refused.
  const foreign = makeTestKdm(other, { cplId: dcp.cplId, title: 'ENC_FTR', keyIds: cpl!.keyIds, notValidBefore: '2026-05-01T00:00:00+00:00', notValidAfter: '2026-07-01T00:00:00+00:00' });
  await send(foreign.xml, 'site-1');
  const mine = makeTestKdm(pki, { cplId: dcp.cplId, title: 'ENC_FTR', keyIds: cpl!.keyIds, notValidBefore: '2026-05-01T00:00:00+00:00', notValidAfter: '2026-06-02T12:00:00+00:00' });
  await send(mine.xml);
  await keeper.sync();
  const v = keeper.view('a'.repeat(40));
  t.is(v?.state, 'valid', v?.message);
  t.is(v?.messageId, mine.messageId);
  t.false(alarms.has('KDM_MISSING'));
  t.true(alarms.has('KDM_EXPIRING'), 'ends within warnDays');
  t.deepEqual(await fs.readdir(kdmDir), [`${mine.messageId}.xml`], 'only the accepted KDM is written');

  const list = (await (await fetch(`${server.url}/api/groups/${G.id}/kdms?peer=site-1`, { headers: auth })).json()) as Array<{ messageId: string; deliveries: Array<{ state: string; message?: string }> }>;
  const receipt = (id: string) => list.find((k) => k.messageId === id)!.deliveries[0]!;
  t.is(receipt(mine.messageId).state, 'valid');
  t.is(receipt(foreign.messageId).state, 'not-for-this-server');
  t.regex(receipt(foreign.messageId).message ?? '', /addressed to .*MEDIA-BLOCK/);

  now = new Date('2026-06-03T00:00:00Z');
  await keeper.sync();
  t.is(keeper.view('a'.repeat(40))?.state, 'expired');
  t.true(alarms.has('KDM_MISSING'));
  t.false(alarms.has('KDM_EXPIRING'));

  // A restart judges what kdm.dir holds again, without the server.
  const again = new KdmKeeper({
    agentId: 'site-1', server: 'http://127.0.0.1:9', groups: () => [], alarms: new AlarmBook({ logger: quiet }), logger: quiet,
    clock: () => new Date('2026-06-01T00:00:00Z'), config: { dir: kdmDir, certificates: [pki.recipient.cert], warnDays: 0 },
    dcps: () => [{ infoHash: 'a'.repeat(40), name: 'ENC_FTR', dir: dcp.dir }],
  });
  await again.start();
  await again.sync();
  t.is(again.view('a'.repeat(40))?.state, 'valid');

  // Withdrawn by the distributor: it leaves kdm.dir and the DCP has no KDM again.
  now = new Date('2026-06-01T00:00:00Z');
  await keeper.sync();
  t.is(keeper.view('a'.repeat(40))?.state, 'valid');
  t.is((await fetch(`${server.url}/api/groups/${G.id}/kdms/${mine.messageId}`, { method: 'DELETE', headers: auth })).status, 204);
  await keeper.sync();
  t.is(keeper.view('a'.repeat(40))?.state, 'not-for-this-server', 'only the foreign KDM is left');
  t.deepEqual(await fs.readdir(kdmDir), []);
  t.true(alarms.has('KDM_MISSING'));
});
