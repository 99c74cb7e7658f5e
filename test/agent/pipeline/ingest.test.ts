// Ingest placement: a DCP appears in ingestDir whole (hard links, one rename) or not at all,
// an existing folder is never overwritten, and crash leftovers are swept.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { placeInIngest, alreadyPlaced, cleanPartials, swapInIngest, IngestError } from '../../../src/agent/pipeline/ingest.js';
import { tempDir } from '../../helpers/tmp.js';

async function makeTree(root: string): Promise<void> {
  await fs.mkdir(path.join(root, 'FTR', 'sub'), { recursive: true });
  await fs.writeFile(path.join(root, 'FTR', 'ASSETMAP.xml'), 'assetmap');
  await fs.writeFile(path.join(root, 'FTR', 'sub', 'pic.mxf'), Buffer.alloc(4096, 7));
}

test('places hard links of every file and leaves no hidden partial folder', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const ing = path.join(dir, 'ingest');
  await makeTree(dl);
  t.false(await alreadyPlaced(dl, ing, 'FTR'));
  const final = await placeInIngest(dl, ing, 'FTR');
  t.is(final, path.join(ing, 'FTR'));
  const a = await fs.stat(path.join(dl, 'FTR', 'sub', 'pic.mxf'));
  const b = await fs.stat(path.join(ing, 'FTR', 'sub', 'pic.mxf'));
  t.is(a.ino, b.ino);
  t.is(await fs.readFile(path.join(ing, 'FTR', 'ASSETMAP.xml'), 'utf8'), 'assetmap');
  t.deepEqual(await fs.readdir(ing), ['FTR']);
  t.true(await alreadyPlaced(dl, ing, 'FTR'));
});

test('a re-release swaps the name in one exchange: the new links in, the old ones gone, their bytes kept', async (t) => {
  const dir = await tempDir(t);
  const v1 = path.join(dir, 'dl', 'a'.repeat(40));
  const v2 = path.join(dir, 'dl', 'b'.repeat(40));
  const ing = path.join(dir, 'ingest');
  await makeTree(v1);
  await fs.mkdir(path.join(v2, 'FTR'), { recursive: true });
  await fs.writeFile(path.join(v2, 'FTR', 'ASSETMAP.xml'), 'assetmap v2');
  await placeInIngest(v1, ing, 'FTR');
  await swapInIngest(v2, ing, 'FTR');
  t.deepEqual(await fs.readdir(ing), ['FTR'], 'no hidden folder left');
  t.deepEqual(await fs.readdir(path.join(ing, 'FTR')), ['ASSETMAP.xml'], 'only the new version');
  t.is(await fs.readFile(path.join(ing, 'FTR', 'ASSETMAP.xml'), 'utf8'), 'assetmap v2');
  t.true(await alreadyPlaced(v2, ing, 'FTR'));
  t.is(await fs.readFile(path.join(v1, 'FTR', 'ASSETMAP.xml'), 'utf8'), 'assetmap', 'the old download is untouched');
  // Nothing under the name to swap with: refused, nothing placed.
  const err = await t.throwsAsync(swapInIngest(v2, path.join(dir, 'empty-ingest'), 'FTR'), { instanceOf: IngestError });
  t.regex(err!.message, /could not swap FTR/);
});

test('an existing folder of that name is left untouched', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const ing = path.join(dir, 'ingest');
  await makeTree(dl);
  await fs.mkdir(path.join(ing, 'FTR'), { recursive: true });
  await fs.writeFile(path.join(ing, 'FTR', 'mine.txt'), 'keep');
  const err = await t.throwsAsync(placeInIngest(dl, ing, 'FTR'), { instanceOf: IngestError });
  t.is(err?.code, 'INGEST_EXISTS');
  t.deepEqual(await fs.readdir(path.join(ing, 'FTR')), ['mine.txt']);
  t.false(await alreadyPlaced(dl, ing, 'FTR'));
});

test('a failed placement leaves nothing behind; bad names are refused', async (t) => {
  const dir = await tempDir(t);
  const ing = path.join(dir, 'ingest');
  const err = await t.throwsAsync(placeInIngest(path.join(dir, 'missing'), ing, 'FTR'), { instanceOf: IngestError });
  t.is(err?.code, 'INGEST_FAILED');
  t.deepEqual(await fs.readdir(ing), []);
  for (const bad of ['..', '.hidden', 'a/b', '']) {
    t.is((await t.throwsAsync(placeInIngest(dir, ing, bad), { instanceOf: IngestError }))?.code, 'BAD_NAME');
  }
});

test('cleanPartials removes only interrupted placements', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, '.FTR.partial-abcd'), { recursive: true });
  await fs.mkdir(path.join(dir, 'OTHER_FTR'));
  t.deepEqual(await cleanPartials(dir), ['.FTR.partial-abcd']);
  t.deepEqual(await fs.readdir(dir), ['OTHER_FTR']);
});
