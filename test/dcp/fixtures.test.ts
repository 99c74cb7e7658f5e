// Every real DCP fixture verifies as its SOURCE.txt says, with openssl as an independent oracle for the
// hashes, and the folder is left exactly as it was.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { verifyDcp, type VerifyReport } from '../../src/dcp/index.js';
import { DCP_FIXTURES } from '../helpers/paths.js';
import { snapshotTree } from './tree-snapshot.js';

const GOOD = [
  'libdcp_dcp_test1', 'libdcp_dcp_test2', 'libdcp_dcp_test3', 'libdcp_dcp_test5', 'libdcp_dcp_test7',
  'libdcp_dcp_test8', 'libdcp_encryption_test', 'libdcp_data_DCP', 'libdcp_extra_assetmap',
  'ECL02-SINGLE-CPL_TST_S_EN-XX_UK-U_71_2K_DI_20171218_ECL_IOP_VF',
  'ECL08-SINGLE-CPL_TST_S_EN-EN_UK-U_51_2K_DI_20180125_ECL_SMPTE_VF',
];
const FLAVOUR: Record<string, 'smpte' | 'interop'> = {
  libdcp_dcp_test1: 'smpte', libdcp_dcp_test2: 'smpte', libdcp_dcp_test3: 'interop', libdcp_dcp_test5: 'smpte',
  libdcp_dcp_test7: 'interop', libdcp_dcp_test8: 'interop', libdcp_encryption_test: 'smpte', libdcp_data_DCP: 'smpte',
  libdcp_extra_assetmap: 'interop',
};
const ECL29 = 'incomplete_ECL29-SINGLE-CPL-CRYPT_TST_S_EN-EN_UK-U_51_2K_DI_20180103_ECL_IOP_OV';

const opensslSha1 = (file: string): string =>
  execFileSync('openssl', ['dgst', '-sha1', '-binary', file]).toString('base64');

async function verifyUntouched(t: import('ava').ExecutionContext, name: string): Promise<VerifyReport> {
  const dir = path.join(DCP_FIXTURES, name);
  const before = snapshotTree(dir);
  const report = await verifyDcp(dir);
  t.deepEqual(snapshotTree(dir), before, 'the folder is unchanged');
  return report;
}

/** Each asset judged ok carries the hash openssl computes for the same file. */
function assertOkAssetsMatchOpenssl(t: import('ava').ExecutionContext, dir: string, r: VerifyReport): void {
  for (const a of r.assets.filter((x) => x.verdict === 'ok' && x.expectedHash !== null)) {
    t.is(a.actualHash, opensslSha1(path.join(dir, a.path!)), `${a.path} hashed like openssl`);
    t.is(a.actualHash, a.expectedHash);
  }
}

for (const name of GOOD) {
  test(`good fixture passes: ${name}`, async (t) => {
    const r = await verifyUntouched(t, name);
    t.true(r.ok, r.summary);
    t.deepEqual(r.failures, []);
    t.true(r.summary.includes('OK: all'));
    if (FLAVOUR[name]) t.is(r.flavour, FLAVOUR[name]);
    const local = r.assets.filter((a) => a.verdict !== 'external');
    t.true(local.length >= 2);
    t.true(local.every((a) => a.verdict === 'ok'));
    t.is(r.bytesHashed, local.reduce((s, a) => s + (a.actualSize ?? 0), 0));
    assertOkAssetsMatchOpenssl(t, path.join(DCP_FIXTURES, name), r);
    t.truthy(r.title);
  });
}

test('supplemental packages report their OV assets as external, not missing', async (t) => {
  const ecl02 = await verifyUntouched(t, GOOD[9]!);
  t.is(ecl02.externalAssets, 11);
  t.is(ecl02.assets.filter((a) => a.verdict === 'ok').length, 2);
  t.true(ecl02.warnings.some((w) => w.code === 'EXTERNAL_ASSETS' && w.reason.includes('11 track files')));
  t.true(ecl02.summary.includes('Supplemental package (VF): 11 track files'));
  const ecl08 = await verifyUntouched(t, GOOD[10]!);
  t.is(ecl08.flavour, 'smpte');
  t.is(ecl08.assets.filter((a) => a.verdict === 'ok').length, 4);
  t.true(ecl08.assets.filter((a) => a.verdict === 'ok' && a.type === 'subtitle').length === 3);
  t.true(ecl08.externalAssets > 0);
  // libdcp's test package names an Atmos asset it does not carry.
  const data = await verifyUntouched(t, 'libdcp_data_DCP');
  t.deepEqual(data.assets.filter((a) => a.verdict === 'external').map((a) => [a.id, a.type]),
    [['b68febcc-5ddf-489a-84a7-924f29fa2afd', 'aux-data']]);
});

test('markers and composition metadata are never treated as files', async (t) => {
  const r = await verifyUntouched(t, 'libdcp_dcp_test1');
  t.is(r.externalAssets, 0);
  t.false(r.assets.some((a) => ['3b198cbc-c1d2-4410-805c-397b6fea0297', 'dd015243-ab77-435c-a13d-690566885121'].includes(a.id)));
});

test('extra_assetmap passes with a warning naming the stray ASSETMAP entry', async (t) => {
  const r = await verifyUntouched(t, 'libdcp_extra_assetmap');
  t.true(r.ok);
  const w = r.warnings.find((x) => x.code === 'NOT_IN_PKL');
  t.is(w?.path, '1cab4236-9ad1-5b2f-bbac-1234567890ab.mxf');
  t.regex(w!.reason, /1cab4236-9ad1-5b2f-bbac-1234567890ab\.mxf.*no packing list.*0 bytes.*845154/);
  t.true(r.summary.includes('1cab4236-9ad1-5b2f-bbac-1234567890ab.mxf'));
});

test('broken fixture fails on video.mxf only, for its checksum', async (t) => {
  const name = 'broken_hash_libdcp_dcp_test1';
  const r = await verifyUntouched(t, name);
  t.false(r.ok);
  t.deepEqual(r.failures.map((f) => [f.code, f.path]), [['HASH_MISMATCH', 'video.mxf']]);
  t.is(r.failures[0]!.reason, 'video.mxf is damaged: its contents do not match the packing list (checksum differs); re-download needed');
  const video = r.assets.find((a) => a.path === 'video.mxf')!;
  t.is(video.verdict, 'hash-mismatch');
  t.is(video.actualSize, video.expectedSize);
  t.is(video.actualHash, opensslSha1(path.join(DCP_FIXTURES, name, 'video.mxf')));
  t.not(video.actualHash, video.expectedHash);
  t.deepEqual(r.assets.filter((a) => a.path !== 'video.mxf').map((a) => a.verdict), ['ok', 'ok']);
  t.true(r.summary.includes('FAILED') && r.summary.includes('video.mxf is damaged'));
});

test('incomplete ECL29 names the six missing picture MXFs; every present asset passes', async (t) => {
  const r = await verifyUntouched(t, ECL29);
  t.false(r.ok);
  t.is(r.flavour, 'interop');
  const missing = r.assets.filter((a) => a.verdict === 'missing').map((a) => a.path).sort();
  t.deepEqual(missing, [1, 2, 3, 4, 5, 6].map((n) => `ECL29-SINGLE-CPL-CRYPT_TST_S_EN-EN_UK-U_51_2K_DI_20180103_ECL_IOP_OV_0${n}.mxf`));
  t.deepEqual(r.failures.map((f) => f.path).sort(), missing);
  t.true(r.failures.every((f) => f.code === 'ASSET_MISSING' && f.reason.includes('is missing')));
  const present = r.assets.filter((a) => a.verdict !== 'missing');
  t.is(present.length, 19);
  t.true(present.every((a) => a.verdict === 'ok'));
  t.true(present.some((a) => a.path === 'b9b10266-e4a4-11e7-80c1-9a214cf093ae/Reel01.xml' && a.type === 'subtitle'));
  assertOkAssetsMatchOpenssl(t, path.join(DCP_FIXTURES, ECL29), r);
  t.true(r.cpls[0]!.encrypted);
});
