// Parsers against ClairMeta's single-document fixtures: well-formed ones parse (both flavours, prefixed
// namespaces), broken ones are refused with a stable code and a message naming the file.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { parseAssetMap } from '../../src/dcp/assetmap.js';
import { parseCpl } from '../../src/dcp/cpl.js';
import { DcpError } from '../../src/dcp/errors.js';
import { parsePkl } from '../../src/dcp/pkl.js';
import { parseVolIndex } from '../../src/dcp/volindex.js';
import { XML_FIXTURES } from '../helpers/paths.js';

const read = (name: string): Buffer => fs.readFileSync(path.join(XML_FIXTURES, name));

function refused(t: import('ava').ExecutionContext, fn: () => unknown, code: string, name: string): void {
  const err = t.throws(fn, { instanceOf: DcpError });
  t.is(err?.code, code);
  t.true(err!.message.includes(name), `message names the file: ${err?.message}`);
}

test('asset maps of both flavours parse, flavour from the namespace not the file name', (t) => {
  const iop = parseAssetMap(read('ASSETMAP_IOP'), 'ASSETMAP_IOP');
  t.is(iop.flavour, 'interop');
  t.is(iop.assets.length, 14);
  t.is(iop.assets.filter((a) => a.packingList).length, 1);
  for (const name of ['ASSETMAP_SMPTE', 'ASSETMAP_SMPTE.xml']) {
    const m = parseAssetMap(read(name), name);
    t.is(m.flavour, 'smpte');
    t.is(m.assets.length, 11);
    t.is(m.assets.filter((a) => a.packingList).length, 1);
    t.true(m.assets.every((a) => /^[0-9a-f-]{36}$/.test(a.id) && a.chunkCount === 1 && !!a.path));
  }
});

test('namespace-prefixed asset map (am:AssetMap) reads like the default-namespace one', (t) => {
  const m = parseAssetMap(read('ASSETMAP_SMPTE_NSPREFIX.xml'), 'ASSETMAP_SMPTE_NSPREFIX.xml');
  t.is(m.flavour, 'smpte');
  t.deepEqual(m.assets.map((a) => a.path), ['pcm.mxf', 'j2c.mxf', 'cpl.xml', 'pkl.xml']);
  t.deepEqual(m.assets.map((a) => a.packingList), [false, false, false, true]);
  t.is(m.assets[1]!.length, 330812592476); // beyond 32 bits: sizes stay exact
  t.is(m.id, '9f5c4181-01ff-4cfa-ac16-9233fb9a367d');
});

test('asset map with a wrong namespace is refused as such', (t) => {
  refused(t, () => parseAssetMap(read('ASSETMAP_BAD_SCHEMA'), 'ASSETMAP_BAD_SCHEMA'), 'ASSETMAP_NAMESPACE', 'ASSETMAP_BAD_SCHEMA');
});

test('malformed XML, an empty file and plain text are refused with a parse error', (t) => {
  const bad = t.throws(() => parseAssetMap(read('ASSETMAP_BAD_XML.xml'), 'ASSETMAP_BAD_XML.xml'), { instanceOf: DcpError });
  t.is(bad?.code, 'XML_MALFORMED');
  t.regex(bad!.message, /ASSETMAP_BAD_XML\.xml is not valid XML \(line 19/);
  refused(t, () => parseAssetMap(read('ASSETVOID'), 'ASSETVOID'), 'XML_EMPTY', 'ASSETVOID');
  refused(t, () => parseAssetMap(read('PLAINTEXT'), 'PLAINTEXT'), 'XML_MALFORMED', 'PLAINTEXT');
  refused(t, () => parsePkl(read('PLAINTEXT'), 'PLAINTEXT'), 'XML_MALFORMED', 'PLAINTEXT');
});

test('volume indexes parse, including the Interop one written with the asset-map namespace', (t) => {
  t.is(parseVolIndex(read('VOLINDEX_IOP'), 'VOLINDEX_IOP').flavour, 'interop');
  t.is(parseVolIndex(read('VOLINDEX_IOP'), 'VOLINDEX_IOP').index, 1);
  t.is(parseVolIndex(read('VOLINDEX_SMPTE.xml'), 'VOLINDEX_SMPTE.xml').flavour, 'smpte');
  const prefixed = parseVolIndex(read('VOLINDEX_SMPTE_NSPREFIX.xml'), 'VOLINDEX_SMPTE_NSPREFIX.xml');
  t.deepEqual([prefixed.flavour, prefixed.index], ['smpte', 1]);
  refused(t, () => parseVolIndex(read('ASSETMAP_IOP'), 'ASSETMAP_IOP'), 'VOLINDEX_INVALID', 'ASSETMAP_IOP');
});

test('packing lists parse with sizes, base64 SHA-1 hashes and types', (t) => {
  const iop = parsePkl(read('PKL_IOP.xml'), 'PKL_IOP.xml');
  t.is(iop.flavour, 'interop');
  t.is(iop.assets.length, 25);
  t.true(iop.assets.every((a) => a.hash !== null && /^[A-Za-z0-9+/]{27}=$/.test(a.hash) && (a.size ?? 0) > 0));
  t.true(iop.signed);
  const smpte = parsePkl(read('PKL_SMPTE.xml'), 'PKL_SMPTE.xml');
  t.is(smpte.flavour, 'smpte');
  t.is(smpte.assets.length, 7);
  t.is(parsePkl(read('PKL_IOP_ONE_ASSET.xml'), 'PKL_IOP_ONE_ASSET.xml').assets.length, 1);
  const empty = parsePkl(read('PKL_IOP_EMPTY_TAG.xml'), 'PKL_IOP_EMPTY_TAG.xml');
  t.is(empty.assets.length, 2);
  t.false(empty.signed); // <Signer/><Signature/> are empty, not a signature
  t.deepEqual(empty.assets.map((a) => a.size), [1745174, 11279]);
  t.is(empty.assets[0]!.hash, 'PzcdIeaAVghJ500sFOj3G3roFI0=');
  refused(t, () => parsePkl(read('CPL_IOP.xml'), 'CPL_IOP.xml'), 'PKL_INVALID', 'CPL_IOP.xml');
});

test('compositions parse: reels, track files, encryption; markers and metadata are not track files', (t) => {
  const iop = parseCpl(read('CPL_IOP.xml'), 'CPL_IOP.xml');
  t.is(iop.flavour, 'interop');
  t.true(iop.reels.length > 0);
  t.truthy(iop.title);
  const smpte = parseCpl(read('CPL_SMPTE.xml'), 'CPL_SMPTE.xml');
  t.is(smpte.flavour, 'smpte');
  const kinds = new Set(smpte.reels.flatMap((r) => r.trackFiles.map((f) => f.kind)));
  t.false(kinds.has('MainMarkers'));
  t.false(kinds.has('CompositionMetadataAsset'));
  const noSound = parseCpl(read('CPL_IOP_NO_MAINSOUND.xml'), 'CPL_IOP_NO_MAINSOUND.xml');
  t.false(noSound.reels.some((r) => r.trackFiles.some((f) => f.kind === 'MainSound')));
  const noPicture = parseCpl(read('CPL_SMPTE_NO_MAINPICTURE.xml'), 'CPL_SMPTE_NO_MAINPICTURE.xml');
  t.false(noPicture.reels.some((r) => r.trackFiles.some((f) => f.kind === 'MainPicture')));
  const emptyReel = parseCpl(read('CPL_IOP_REEL_LIST_EMPTY.xml'), 'CPL_IOP_REEL_LIST_EMPTY.xml');
  t.deepEqual(emptyReel.reels.map((r) => r.trackFiles.length), [0]); // its one reel's assets are commented out
  const missing = parseCpl(read('CPL_SMPTE_MISSING_FIELDS.xml'), 'CPL_SMPTE_MISSING_FIELDS.xml');
  t.deepEqual(missing.reels[0]!.trackFiles.map((f) => f.kind), ['MainSound', 'AuxData', 'MainStereoscopicPicture']);
  const stereo = parseCpl(read('CPL_SMPTE_MAINSTEREOSCOPIC.xml'), 'CPL_SMPTE_MAINSTEREOSCOPIC.xml');
  t.deepEqual(stereo.reels[0]!.trackFiles.map((f) => [f.kind, f.id]), [
    ['MainStereoscopicPicture', '44812c3f-9069-4bed-b87a-a0a118efe566'],
    ['MainSound', 'df0ab588-a0dd-4d1f-a2a2-39d1d9f73010'],
  ]);
  for (const name of ['CPL_SMPTE_FRAMERATE_RATIONAL.xml', 'CPL_IOP_QUBEMASTER.xml']) {
    t.notThrows(() => parseCpl(read(name), name));
  }
  refused(t, () => parseCpl(read('KDM.xml'), 'KDM.xml'), 'CPL_WRONG_ROOT', 'KDM.xml');
});

test('UTF-16 documents (with a byte order mark) read like UTF-8 ones', (t) => {
  const utf8 = read('VOLINDEX_SMPTE.xml').toString('utf8');
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf8, 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(utf8, 'utf16le').swap16()]);
  t.is(parseVolIndex(le, 'LE').flavour, 'smpte');
  t.is(parseVolIndex(be, 'BE').index, 1);
});
