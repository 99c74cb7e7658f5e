// History and resume stores: every write is whole on disk (temp + fsync + rename), concurrent
// updates do not lose each other, and a reopen sees exactly what was written.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { HistoryStore, type HistoryEntry } from '../../../src/agent/pipeline/history-store.js';
import { ResumeStore } from '../../../src/agent/pipeline/resume-store.js';
import { tempDir } from '../../helpers/tmp.js';

const entry = (i: number): HistoryEntry => ({
  name: `FEATURE_${i}_FTR`,
  infoHash: i.toString(16).padStart(40, '0'),
  group: 'g1',
  sizeBytes: 1000 + i,
  addedAt: new Date(0).toISOString(),
  state: 'queued',
  verify: { state: 'pending', failed: [] },
});

test('concurrent writes: the file is valid JSON at every moment and a reopen holds every entry', async (t) => {
  const dir = await tempDir(t);
  const h = await HistoryStore.open(dir);
  let reading = true;
  let reads = 0;
  const reader = (async () => {
    while (reading) {
      const text = await fs.readFile(h.file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
      if (text !== null) {
        JSON.parse(text); // throws on a torn write
        reads++;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(Array.from({ length: 40 }, (_, i) => h.put(entry(i))));
  await h.update('FEATURE_3_FTR', { state: 'ready', completedAt: new Date(1).toISOString() });
  reading = false;
  await reader;
  t.true(reads > 0);
  const again = await HistoryStore.open(dir);
  t.is(again.all().length, 40);
  t.is(again.get('FEATURE_3_FTR')?.state, 'ready');
  t.deepEqual(again.get('FEATURE_7_FTR'), entry(7));
  const leftovers = (await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'));
  t.deepEqual(leftovers, []);
});

test('a conflict is recorded once per name, group and offered hash', async (t) => {
  const dir = await tempDir(t);
  const h = await HistoryStore.open(dir);
  const c = { name: 'X', group: 'g2', knownInfoHash: 'a'.repeat(40), offeredInfoHash: 'b'.repeat(40), seenAt: new Date(0).toISOString() };
  t.true(await h.addConflict(c));
  t.false(await h.addConflict({ ...c, seenAt: new Date(5).toISOString() }));
  t.deepEqual((await HistoryStore.open(dir)).conflicts(), [c]);
});

test('resume store keeps resume data and torrent bytes per info hash and refuses a path-like hash', async (t) => {
  const dir = await tempDir(t);
  const r = await ResumeStore.open(dir);
  const hash = 'c'.repeat(40);
  t.is(await r.load(hash), undefined);
  await r.save(hash, Buffer.from('d8:file-format22:libtorrent resume filee'));
  await r.saveTorrent(hash, Buffer.from('torrent-bytes'));
  t.is((await r.load(hash))?.toString(), 'd8:file-format22:libtorrent resume filee');
  t.is((await r.loadTorrent(hash))?.toString(), 'torrent-bytes');
  await t.throwsAsync(r.save('../../etc/passwd', Buffer.from('x')));
  t.deepEqual((await fs.readdir(path.join(dir, 'resume'))).sort(), [`${hash}.resume`, `${hash}.torrent`]);
});
