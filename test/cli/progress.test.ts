// Progress of long work as a person sees it: on a terminal one line redrawn in place with percent,
// rate and time left; in a log a plain line every few seconds; the final figures printed once.
import test from 'ava';
import { progressLine } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const out = { isTTY, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream;
  return { out, chunks };
}

test('on a terminal: redrawn in place with rate and time left, finished once', (t) => {
  const { out, chunks } = sink(true);
  let now = 0;
  const p = progressLine('verifying', out, () => now);
  now = 1000;
  p.update(100e6, 400e6);
  now = 1100;
  p.update(110e6, 400e6); // under the redraw interval: not drawn
  now = 2000;
  p.update(200e6, 400e6);
  p.finish();
  p.finish();
  t.is(chunks.length, 3);
  t.is(chunks[0], '\r\x1b[2Kverifying: 25.0% of 400.0 MB at 100.0 MB/s, 3 s left');
  t.regex(chunks[1]!, /^\r\x1b\[2Kverifying: 50\.0% of 400\.0 MB at 100\.0 MB\/s, 2 s left$/);
  t.regex(chunks[2]!, /^\r\x1b\[2Kverifying: done, 400\.0 MB in 2 s\n$/);
});

test('off a terminal: whole lines, at most one every 5 s, and the last one always', (t) => {
  const { out, chunks } = sink(false);
  let now = 0;
  const p = progressLine('hashing', out, () => now);
  for (let s = 1; s <= 12; s++) {
    now = s * 1000;
    p.update(s * 10e6, 120e6);
  }
  p.finish();
  t.true(chunks.every((c) => c.endsWith('\n') && !c.includes('\r')));
  t.deepEqual(chunks.map((c) => c.split(':')[1]!.trim().split(' ')[0]), ['41.7%', '83.3%', '100.0%', 'done,']);
});
