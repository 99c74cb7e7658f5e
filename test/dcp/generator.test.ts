// The test-data generator writes packages our readers accept, with PKL hashes that an independent
// tool (openssl) agrees with, in both flavours, reproducibly when seeded.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAssetMap } from '../../src/dcp/assetmap.js';
import { parseCpl } from '../../src/dcp/cpl.js';
import { parsePkl } from '../../src/dcp/pkl.js';
import { parseVolIndex } from '../../src/dcp/volindex.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';

const opensslSha1 = (file: string): string =>
  execFileSync('openssl', ['dgst', '-sha1', '-binary', file]).toString('base64');

for (const flavour of ['smpte', 'interop'] as const) {
  test(`${flavour}: files, names and hashes form a consistent package`, async (t) => {
    const dir = path.join(await tempDir(t), 'DCP');
    const g = await generateDcp(dir, { flavour, assetSizes: [300_000, 123_457, 1], title: 'A & B <test>' });
    t.is(path.basename(g.assetMapPath), flavour === 'smpte' ? 'ASSETMAP.xml' : 'ASSETMAP');
    t.is(path.basename(g.volIndexPath), flavour === 'smpte' ? 'VOLINDEX.xml' : 'VOLINDEX');
    t.is(g.totalBytes, g.files.reduce((s, f) => s + fs.statSync(f).size, 0));
    const am = parseAssetMap(fs.readFileSync(g.assetMapPath), 'ASSETMAP');
    t.is(am.flavour, flavour);
    t.is(parseVolIndex(fs.readFileSync(g.volIndexPath), 'VOLINDEX').flavour, flavour);
    const pkl = parsePkl(fs.readFileSync(g.pklPath), 'PKL');
    t.is(pkl.id, g.pklId);
    t.is(pkl.assets.length, 4);
    for (const a of pkl.assets) {
      const entry = am.assets.find((e) => e.id === a.id)!;
      const file = path.join(dir, entry.path!);
      t.is(a.size, fs.statSync(file).size);
      t.is(entry.length, a.size);
      t.is(a.hash, opensslSha1(file), `openssl agrees on ${entry.path}`);
    }
    const cpl = parseCpl(fs.readFileSync(g.cplPath), 'CPL');
    t.is(cpl.title, 'A & B <test>');
    t.deepEqual(cpl.reels.map((r) => r.trackFiles.map((f) => f.kind)), [['MainPicture', 'MainSound'], ['MainPicture']]);
    t.deepEqual(g.assets.map((a) => a.size), [300_000, 123_457, 1]);
  });
}

test('a seed gives the same package byte for byte; no seed gives a different one', async (t) => {
  const base = await tempDir(t);
  const a = await generateDcp(path.join(base, 'a'), { seed: 7, assetSizes: [50_000, 10_000] });
  const b = await generateDcp(path.join(base, 'b'), { seed: 7, assetSizes: [50_000, 10_000] });
  const c = await generateDcp(path.join(base, 'c'), { assetSizes: [50_000, 10_000] });
  t.deepEqual(a.assets.map((x) => x.hash), b.assets.map((x) => x.hash));
  t.is(a.cplId, b.cplId);
  t.notDeepEqual(a.assets.map((x) => x.hash), c.assets.map((x) => x.hash));
});
