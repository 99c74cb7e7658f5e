// Damaged packages fail with a specific finding naming the file, and verification never changes the folder.
// Damage is done on copies of good fixtures and on generated DCPs of both flavours.
import test, { type ExecutionContext } from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { verifyDcp, type VerifyReport } from '../../src/dcp/index.js';
import { generateDcp, type GeneratedDcp } from '../helpers/dcp-generator.js';
import { DCP_FIXTURES } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshotTree } from './tree-snapshot.js';

async function copyFixture(t: ExecutionContext, name: string): Promise<string> {
  const dir = path.join(await tempDir(t), name);
  fs.cpSync(path.join(DCP_FIXTURES, name), dir, { recursive: true });
  const writable = (p: string): void => {
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644); // fixtures are read-only
    if (fs.statSync(p).isDirectory()) for (const n of fs.readdirSync(p)) writable(path.join(p, n));
  };
  writable(dir);
  fs.rmSync(path.join(dir, 'SOURCE.txt'));
  return dir;
}

async function generated(t: ExecutionContext, flavour: 'smpte' | 'interop'): Promise<GeneratedDcp> {
  return generateDcp(path.join(await tempDir(t), `DCP_${flavour}`), { flavour, assetSizes: [600_000, 200_000, 300_000] });
}

/** Verifies, checks nothing on disk moved, and that the run failed with `code` on `file`. */
async function failsWith(t: ExecutionContext, dir: string, code: string, file: string): Promise<VerifyReport> {
  const before = snapshotTree(dir);
  const r = await verifyDcp(dir);
  t.deepEqual(snapshotTree(dir), before, 'nothing modified on disk');
  t.false(r.ok, 'verification fails');
  const f = r.failures.find((x) => x.code === code);
  t.truthy(f, `expected a ${code} failure, got ${JSON.stringify(r.failures)}`);
  t.is(f?.path, file);
  t.true(f!.reason.includes(path.basename(file)), `the message names ${file}: ${f?.reason}`);
  t.true(r.summary.includes(f!.reason));
  return r;
}

function edit(file: string, from: string | RegExp, to: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file} changed nothing`);
  fs.writeFileSync(file, next);
}

const rel = (g: GeneratedDcp, file: string): string => path.relative(g.dir, file);

/** Keeps the ASSETMAP Length of `file` in step after a test rewrote it (may already be right). */
function setLength(g: GeneratedDcp, file: string): void {
  const text = fs.readFileSync(g.assetMapPath, 'utf8');
  const entry = new RegExp(`(${path.basename(file)}</Path>[\\s\\S]*?<Length>)\\d+`);
  if (!entry.test(text)) throw new Error(`no ASSETMAP entry for ${file}`);
  fs.writeFileSync(g.assetMapPath, text.replace(entry, `$1${fs.statSync(file).size}`));
}

for (const flavour of ['smpte', 'interop'] as const) {
  test(`${flavour}: a generated package passes, progress reaches the total`, async (t) => {
    const g = await generated(t, flavour);
    const seen: [number, number][] = [];
    const r = await verifyDcp(g.dir, { onProgress: (d, n) => seen.push([d, n]) });
    t.true(r.ok, r.summary);
    t.is(r.flavour, flavour);
    t.is(r.title, 'CINESWARM_TEST_FTR');
    t.is(r.assets.length, 4);
    t.deepEqual(r.warnings, []);
    const total = g.totalBytes - ['assetMapPath', 'volIndexPath', 'pklPath'].reduce((s, k) => s + fs.statSync(g[k as 'pklPath']).size, 0);
    t.is(r.bytesHashed, total);
    t.deepEqual(seen.at(-1), [total, total]);
  });

  test(`${flavour}: one flipped byte in an MXF is a checksum failure on that file only`, async (t) => {
    const g = await generated(t, flavour);
    const victim = g.assets[1]!.path;
    const fd = fs.openSync(victim, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 12345);
    b[0] = b[0]! ^ 0x01;
    fs.writeSync(fd, b, 0, 1, 12345);
    fs.closeSync(fd);
    const r = await failsWith(t, g.dir, 'HASH_MISMATCH', rel(g, victim));
    t.is(r.failures.length, 1);
    t.is(r.assets.filter((a) => a.verdict === 'ok').length, 3);
    t.regex(r.failures[0]!.reason, /is damaged: its contents do not match the packing list \(checksum differs\); re-download needed/);
  });

  test(`${flavour}: a truncated file fails on size and is not hashed`, async (t) => {
    const g = await generated(t, flavour);
    const victim = g.assets[0]!.path;
    fs.truncateSync(victim, 500_000);
    const r = await failsWith(t, g.dir, 'SIZE_MISMATCH', rel(g, victim));
    const a = r.assets.find((x) => x.path === rel(g, victim))!;
    t.deepEqual([a.verdict, a.actualSize, a.expectedSize, a.actualHash], ['size-mismatch', 500_000, 600_000, null]);
    t.regex(a.message, /500000 bytes on disk, the packing list says 600000; the file is incomplete/);
    t.is(r.bytesHashed, g.assets[1]!.size + g.assets[2]!.size + fs.statSync(g.cplPath).size);
  });

  test(`${flavour}: a missing asset is named`, async (t) => {
    const g = await generated(t, flavour);
    fs.rmSync(g.assets[2]!.path);
    const r = await failsWith(t, g.dir, 'ASSET_MISSING', rel(g, g.assets[2]!.path));
    t.is(r.failures.length, 1);
    t.is(r.externalAssets, 0, 'a missing file listed in the PKL is missing, not external');
  });

  test(`${flavour}: an extra packing list the ASSETMAP does not list fails`, async (t) => {
    const g = await generated(t, flavour);
    const extra = path.join(g.dir, 'PKL_extra.xml');
    fs.copyFileSync(g.pklPath, extra);
    await failsWith(t, g.dir, 'PKL_NOT_IN_ASSETMAP', 'PKL_extra.xml');
  });

  test(`${flavour}: paths escaping the folder (../, absolute, file://) are refused and never opened`, async (t) => {
    for (const make of [(n: string) => `../${n}`, (n: string, abs: string) => abs, (n: string, abs: string) => `file://${abs}`]) {
      const g = await generated(t, flavour);
      const victim = g.assets[0]!.path;
      const name = path.basename(victim);
      const outside = path.join(path.dirname(g.dir), name);
      fs.renameSync(victim, outside); // the right bytes, but outside the package: must still fail
      edit(g.assetMapPath, `<Path>${name}</Path>`, `<Path>${make(name, outside)}</Path>`);
      const code = make(name, outside).startsWith('..') ? 'PATH_ESCAPES' : 'PATH_ABSOLUTE';
      const r = await failsWith(t, g.dir, code, make(name, outside));
      t.is(r.assets.find((a) => a.id === g.assets[0]!.id)?.verdict, 'escapes');
      t.is(r.assets.find((a) => a.id === g.assets[0]!.id)?.actualHash, null);
    }
  });

  test(`${flavour}: a symlink leading out of the folder is refused; one staying inside is followed`, async (t) => {
    const g = await generated(t, flavour);
    const victim = g.assets[1]!.path;
    const outside = path.join(path.dirname(g.dir), 'elsewhere.mxf');
    fs.renameSync(victim, outside);
    fs.symlinkSync(outside, victim);
    await failsWith(t, g.dir, 'PATH_ESCAPES', rel(g, victim));
    fs.rmSync(victim);
    fs.mkdirSync(path.join(g.dir, 'store'));
    fs.renameSync(outside, path.join(g.dir, 'store', 'payload.bin'));
    fs.symlinkSync('store/payload.bin', victim);
    const r = await verifyDcp(g.dir);
    t.true(r.ok, r.summary);
    t.deepEqual(r.warnings.map((w) => [w.code, w.path]), [['FOREIGN_FILE', 'store/payload.bin']]);
  });

  test(`${flavour}: malformed XML in the ASSETMAP, the PKL or the CPL is named`, async (t) => {
    let g = await generated(t, flavour);
    edit(g.assetMapPath, '</AssetList>', '</AssetLis>');
    await failsWith(t, g.dir, 'XML_MALFORMED', rel(g, g.assetMapPath));
    g = await generated(t, flavour);
    edit(g.pklPath, '<Size>', '<Size');
    await failsWith(t, g.dir, 'XML_MALFORMED', rel(g, g.pklPath));
    g = await generated(t, flavour);
    edit(g.cplPath, '</ReelList>', '');
    const r = await failsWith(t, g.dir, 'XML_MALFORMED', rel(g, g.cplPath));
    t.true(r.failures.some((f) => f.code === 'SIZE_MISMATCH' && f.path === rel(g, g.cplPath)));
  });

  test(`${flavour}: a wrong namespace in the ASSETMAP or the PKL is named`, async (t) => {
    let g = await generated(t, flavour);
    edit(g.assetMapPath, /xmlns="[^"]+"/, 'xmlns="http://www.smpte-ra.org/schemas/429-9/2700/AM"');
    await failsWith(t, g.dir, 'ASSETMAP_NAMESPACE', rel(g, g.assetMapPath));
    g = await generated(t, flavour);
    edit(g.pklPath, /xmlns="[^"]+"/, 'xmlns="http://example.com/not-a-pkl"');
    await failsWith(t, g.dir, 'PKL_NAMESPACE', rel(g, g.pklPath));
    g = await generated(t, flavour);
    const other = flavour === 'smpte' ? 'http://www.digicine.com/PROTO-ASDCP-PKL-20040311#' : 'http://www.smpte-ra.org/schemas/429-8/2007/PKL';
    edit(g.pklPath, /xmlns="[^"]+"/, `xmlns="${other}"`);
    await failsWith(t, g.dir, 'MIXED_FLAVOUR', rel(g, g.pklPath));
  });
}

test('no ASSETMAP at all fails at once', async (t) => {
  const dir = await copyFixture(t, 'libdcp_dcp_test8');
  fs.renameSync(path.join(dir, 'ASSETMAP'), path.join(dir, 'assetmap.old'));
  const r = await failsWith(t, dir, 'ASSETMAP_MISSING', 'ASSETMAP');
  t.is(r.flavour, null);
});

test('fixture copy: flipped byte, truncation and a missing file are each named', async (t) => {
  let dir = await copyFixture(t, 'libdcp_dcp_test8');
  const pcm = 'pcm_a2a87f5d-b749-4a7e-8d0c-9d48a4abf626.mxf';
  const buf = fs.readFileSync(path.join(dir, pcm));
  buf[400_000] = buf[400_000]! ^ 0xff;
  fs.writeFileSync(path.join(dir, pcm), buf);
  await failsWith(t, dir, 'HASH_MISMATCH', pcm);
  dir = await copyFixture(t, 'ECL08-SINGLE-CPL_TST_S_EN-EN_UK-U_51_2K_DI_20180125_ECL_SMPTE_VF');
  fs.truncateSync(path.join(dir, '70c921db-4257-4858-aab1-8dbdd0fa039a.mxf'), 1000);
  await failsWith(t, dir, 'SIZE_MISMATCH', '70c921db-4257-4858-aab1-8dbdd0fa039a.mxf');
  dir = await copyFixture(t, 'libdcp_dcp_test3');
  fs.rmSync(path.join(dir, 'j2c_c6035f97-b07d-4e1c-944d-603fc2ddc242.mxf'));
  await failsWith(t, dir, 'ASSET_MISSING', 'j2c_c6035f97-b07d-4e1c-944d-603fc2ddc242.mxf');
});

test('fixture copy: an asset the ASSETMAP forgets is reported as unlisted', async (t) => {
  const dir = await copyFixture(t, 'libdcp_dcp_test1');
  edit(path.join(dir, 'ASSETMAP.xml'), /<Asset>\s*<Id>urn:uuid:97f0f352[\s\S]*?<\/Asset>/, '');
  const r = await failsWith(t, dir, 'NOT_IN_ASSETMAP', 'audio.mxf');
  t.is(r.assets.find((a) => a.id === '97f0f352-5b77-48ee-a558-9df37717f4fa')?.verdict, 'unlisted');
});

test('encrypted track files need a CPL hash, and encrypted packages a signature', async (t) => {
  const base = await tempDir(t);
  // The generator cannot sign: its encrypted packages fail on the missing signatures alone.
  const unsigned = await generateDcp(path.join(base, 'enc'), { encrypted: true, assetSizes: [10_000, 5_000] });
  const u = await failsWith(t, unsigned.dir, 'ENCRYPTED_UNSIGNED', path.basename(unsigned.cplPath));
  t.deepEqual(u.failures.map((f) => [f.code, f.path]), [
    ['ENCRYPTED_UNSIGNED', path.basename(unsigned.cplPath)], ['ENCRYPTED_UNSIGNED', path.basename(unsigned.pklPath)]]);
  t.true(u.cpls[0]!.encrypted);
  t.true(u.assets.every((a) => a.verdict === 'ok'));
  const bad = await generateDcp(path.join(base, 'enc-nohash'), { encrypted: true, cplHashes: false, assetSizes: [10_000, 5_000] });
  const r = await failsWith(t, bad.dir, 'ENCRYPTED_WITHOUT_HASH', path.basename(bad.cplPath));
  t.is(r.failures.filter((f) => f.code === 'ENCRYPTED_WITHOUT_HASH').length, 2);
  // Unencrypted files may omit the CPL hash.
  const plain = await generateDcp(path.join(base, 'plain-nohash'), { cplHashes: false, assetSizes: [10_000] });
  t.true((await verifyDcp(plain.dir)).ok);
});

test('a CPL hash that disagrees with the PKL is named', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000] });
  const wrong = crypto.createHash('sha1').update('not the file').digest('base64');
  edit(g.cplPath, `<Hash>${g.assets[1]!.hash}</Hash>`, `<Hash>${wrong}</Hash>`);
  // Re-seal the CPL in the PKL and ASSETMAP so only the CPL/PKL disagreement remains.
  const cpl = fs.readFileSync(g.cplPath);
  const pkl = fs.readFileSync(g.pklPath, 'utf8');
  const cplEntry = new RegExp(`(<Id>urn:uuid:${g.cplId}</Id>\\s*<Hash>)[^<]+(</Hash>\\s*<Size>)\\d+`);
  fs.writeFileSync(g.pklPath, pkl.replace(cplEntry, `$1${crypto.createHash('sha1').update(cpl).digest('base64')}$2${cpl.length}`));
  setLength(g, g.cplPath);
  setLength(g, g.pklPath);
  const r = await failsWith(t, g.dir, 'CPL_HASH_MISMATCH', path.basename(g.assets[1]!.path));
  t.is(r.failures.length, 1);
  t.true(r.assets.every((a) => a.verdict === 'ok'));
});

test('a CPL that no packing list covers fails; hidden files only warn', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000] });
  fs.writeFileSync(path.join(g.dir, '.DS_Store'), 'x');
  const warned = await verifyDcp(g.dir);
  t.true(warned.ok);
  t.deepEqual(warned.warnings.map((w) => [w.code, w.path]), [['HIDDEN_FILE', '.DS_Store']]);
  edit(g.pklPath, new RegExp(`<Asset>\\s*<Id>urn:uuid:${g.cplId}</Id>[\\s\\S]*?</Asset>\\s*`), '');
  setLength(g, g.pklPath);
  await failsWith(t, g.dir, 'CPL_NOT_IN_PKL', path.basename(g.cplPath));
});

test('duplicate ids in the ASSETMAP fail', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000] });
  edit(g.assetMapPath, `<Id>urn:uuid:${g.assets[1]!.id}</Id>`, `<Id>urn:uuid:${g.assets[0]!.id}</Id>`);
  await failsWith(t, g.dir, 'ASSETMAP_DUPLICATE_ID', path.basename(g.assets[1]!.path));
});

test('several packing lists in one package are all read; a flagged PKL that is absent fails', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000, 7_000] });
  // Move the last asset into a second PKL of its own, flagged in the ASSETMAP.
  const pkl = fs.readFileSync(g.pklPath, 'utf8');
  const moved = new RegExp(`\\s*<Asset>\\s*<Id>urn:uuid:${g.assets[2]!.id}</Id>[\\s\\S]*?</Asset>`).exec(pkl)![0];
  fs.writeFileSync(g.pklPath, pkl.replace(moved, ''));
  const secondId = '0b0b0b0b-1111-4222-8333-444444444444';
  const second = path.join(g.dir, `PKL_${secondId}.xml`);
  fs.writeFileSync(second, pkl.replace(/<Id>urn:uuid:[^<]+<\/Id>/, `<Id>urn:uuid:${secondId}</Id>`)
    .replace(/<AssetList>[\s\S]*<\/AssetList>/, `<AssetList>${moved}\n  </AssetList>`));
  setLength(g, g.pklPath);
  edit(g.assetMapPath, '<AssetList>', `<AssetList>\n    <Asset><Id>urn:uuid:${secondId}</Id><PackingList>true</PackingList><ChunkList><Chunk>` +
    `<Path>${path.basename(second)}</Path><VolumeIndex>1</VolumeIndex><Offset>0</Offset><Length>${fs.statSync(second).size}</Length></Chunk></ChunkList></Asset>`);
  const r = await verifyDcp(g.dir);
  t.true(r.ok, r.summary);
  t.deepEqual(r.pkls.map((p) => [p.id, p.assets]).sort(), [[secondId, 1], [g.pklId, 3]].sort());
  t.is(r.assets.length, 4);
  t.is(r.assets.find((a) => a.id === g.assets[2]!.id)?.pkl, secondId);
  fs.rmSync(second);
  const gone = await failsWith(t, g.dir, 'PKL_MISSING', path.basename(second));
  t.true(gone.warnings.some((w) => w.code === 'TRACK_NOT_IN_PKL' && w.path === path.basename(g.assets[2]!.path)));
});

test('unusual file names only warn', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000] });
  const odd = path.join(g.dir, 'Reel 1 (final).mxf');
  fs.renameSync(g.assets[0]!.path, odd);
  edit(g.assetMapPath, path.basename(g.assets[0]!.path), 'Reel 1 (final).mxf');
  const r = await verifyDcp(g.dir);
  t.true(r.ok, r.summary);
  t.deepEqual(r.warnings.map((w) => [w.code, w.path]), [['PATH_UNUSUAL', 'Reel 1 (final).mxf']]);
});

test('a symlinked folder or ASSETMAP leading outside is not followed', async (t) => {
  const base = await tempDir(t);
  const g = await generateDcp(path.join(base, 'DCP'), { assetSizes: [10_000, 5_000] });
  const name = path.basename(g.assets[0]!.path);
  fs.mkdirSync(path.join(base, 'outside'));
  fs.renameSync(g.assets[0]!.path, path.join(base, 'outside', name));
  fs.symlinkSync(path.join(base, 'outside'), path.join(g.dir, 'media'));
  edit(g.assetMapPath, `<Path>${name}</Path>`, `<Path>media/${name}</Path>`);
  const r = await failsWith(t, g.dir, 'PATH_ESCAPES', `media/${name}`);
  t.is(r.assets.find((a) => a.path === `media/${name}`)?.verdict, 'escapes');

  const h = await generateDcp(path.join(base, 'DCP2'), { assetSizes: [10_000] });
  fs.renameSync(h.assetMapPath, path.join(base, 'ASSETMAP.xml'));
  fs.symlinkSync(path.join(base, 'ASSETMAP.xml'), h.assetMapPath);
  await failsWith(t, h.dir, 'PATH_ESCAPES', 'ASSETMAP.xml');
});

test('a track file the CPL plays but no PKL covers is flagged, and failed when absent', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [10_000, 5_000] });
  const sound = g.assets[1]!;
  edit(g.pklPath, new RegExp(`<Asset>\\s*<Id>urn:uuid:${sound.id}</Id>[\\s\\S]*?</Asset>\\s*`), '');
  setLength(g, g.pklPath);
  const r = await verifyDcp(g.dir);
  t.true(r.ok, r.summary);
  t.deepEqual(r.warnings.map((w) => [w.code, w.path]), [['TRACK_NOT_IN_PKL', path.basename(sound.path)]]);
  t.is(r.externalAssets, 0);
  fs.rmSync(sound.path);
  await failsWith(t, g.dir, 'ASSET_MISSING', path.basename(sound.path));
});
