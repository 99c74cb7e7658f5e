// The running SHA-1 of an asset fed from its in-order prefix of checked pieces: the prefix stops
// at the first missing piece, a piece that is no longer checked starts the hash over, and the
// digest at the end is the whole file's.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { checkedPrefix, PrefixHash } from '../../../src/agent/pipeline/asset-prefix-hash.js';

const PIECE = 16 * 1024;

test('the checked prefix ends at the first missing piece of the file, across file boundaries', (t) => {
  // the file starts half-way into piece 1 and ends inside piece 5
  const span = { start: PIECE + PIECE / 2, size: 4 * PIECE, pieceLength: PIECE };
  const all = [false, true, true, true, true, true];
  t.is(checkedPrefix(span, all), span.size);
  t.is(checkedPrefix(span, [true, false, true, true, true, true]), 0);
  t.is(checkedPrefix(span, [false, true, true, false, true, true]), PIECE + PIECE / 2);
  t.is(checkedPrefix(span, [true, true, true, true, true, false]), 3 * PIECE + PIECE / 2);
});

test('hashing the prefix in steps gives the whole file digest, and starts over when a piece is lost', async (t) => {
  const dir = await tempDir(t, 'cineswarm-prefix-');
  const file = path.join(dir, 'reel.mxf');
  const bytes = randomBytes(10 * PIECE + 123);
  await fs.writeFile(file, bytes);
  const n = Math.ceil(bytes.length / PIECE);
  const span = { start: 0, size: bytes.length, pieceLength: PIECE };
  const have = new Array<boolean>(n).fill(false);
  const p = new PrefixHash(file, span);
  have[0] = have[1] = have[3] = true;
  t.is(await p.advance(() => have), 2 * PIECE);
  // a recheck dropped piece 1: what was read counts no more
  have[1] = false;
  t.is(await p.advance(() => have), PIECE);
  have.fill(true, 0, n - 1);
  t.is(await p.advance(() => have), (n - 1) * PIECE);
  // not all checked: no digest
  t.is(await p.finish(() => have), null);
  have[n - 1] = true;
  const again = new PrefixHash(file, span);
  have.fill(true);
  await again.advance(() => have.map((h, i) => h && i < 4));
  const done = await again.finish(() => have);
  t.deepEqual(done, { size: bytes.length, sha1Base64: createHash('sha1').update(bytes).digest('base64'), tail: bytes.length - 4 * PIECE });
  // finished: later advances read nothing
  t.is(await again.advance(() => have), bytes.length);
});

test('a changed byte in the prefix gives a different digest', async (t) => {
  const dir = await tempDir(t, 'cineswarm-prefix-bad-');
  const file = path.join(dir, 'reel.mxf');
  const bytes = randomBytes(4 * PIECE);
  await fs.writeFile(file, bytes);
  const want = createHash('sha1').update(bytes).digest('base64');
  const fh = await fs.open(file, 'r+');
  // a byte other than the one there (a fixed 'x' matched the random byte in one run of 256)
  await fh.write(Buffer.from([bytes[100]! ^ 0xff]), 0, 1, 100);
  await fh.close();
  const p = new PrefixHash(file, { start: 0, size: bytes.length, pieceLength: PIECE });
  const done = await p.finish(() => [true, true, true, true]);
  t.not(done?.sha1Base64, want);
});
