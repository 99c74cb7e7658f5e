// Ingest placement: a DCP appears in ingestDir whole (hard links, one rename) or not at all,
// an existing folder is never overwritten, and crash leftovers are swept.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { placeInIngest, alreadyPlaced, cleanPartials, IngestError } from '../../../src/agent/pipeline/ingest.js';
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
