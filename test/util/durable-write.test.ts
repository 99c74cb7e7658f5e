// The one durable write: the file appears whole with the asked mode, exclusive writes never
// replace, and no temp name is left behind either way.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../src/util/durable-write.js';
import { formatBytes } from '../../src/util/bytes.js';
import { diskUsage } from '../../src/util/disk-usage.js';
import { tempDir } from '../helpers/tmp.js';

test('replaces a file whole, with the mode asked, and leaves no temp file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'state.json');
  await fs.writeFile(file, 'old');
  await writeFileAtomic(file, 'new contents', { mode: 0o640 });
  t.is(await fs.readFile(file, 'utf8'), 'new contents');
  t.is((await fs.stat(file)).mode & 0o777, 0o640);
  await writeFileAtomic(file, Buffer.from('bytes'));
  t.is((await fs.stat(file)).mode & 0o777, 0o600, 'private by default');
  t.deepEqual(await fs.readdir(dir), ['state.json']);
});

test('an exclusive write refuses an existing file and keeps it; mtime is applied', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'F.torrent');
  const when = new Date('2026-01-02T03:04:05Z');
  await writeFileAtomic(file, 'first', { exclusive: true, mtime: when });
  t.is((await fs.stat(file)).mtime.getTime(), when.getTime());
  const err = await t.throwsAsync(writeFileAtomic(file, 'second', { exclusive: true }));
  t.is((err as NodeJS.ErrnoException).code, 'EEXIST');
  t.is(await fs.readFile(file, 'utf8'), 'first');
  t.deepEqual(await fs.readdir(dir), ['F.torrent']);
});

test('a missing directory fails with ENOENT and creates nothing', async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(writeFileAtomic(path.join(dir, 'gone', 'x.json'), '{}'));
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
  t.deepEqual(await fs.readdir(dir), []);
});

test('formatBytes: decimal units, one decimal place', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(999), '999 B');
  t.is(formatBytes(1000), '1.0 kB');
  t.is(formatBytes(4_000_000), '4.0 MB');
  t.is(formatBytes(5e12), '5.0 TB');
  t.is(formatBytes(2.5e15), '2.5 PB');
});

test('diskUsage reads the filesystem of a directory', async (t) => {
  const dir = await tempDir(t);
  const u = await diskUsage(dir);
  const st = await fs.statfs(dir);
  t.is(u.path, dir);
  t.is(u.total, st.blocks * st.bsize);
  t.true(u.free > 0 && u.free <= u.total);
});
