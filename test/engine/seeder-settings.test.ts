// The initial seeder's request queue follows its upload cap: a capped seeder keeps the short
// per-peer queue the swarm figures were measured with, an uncapped one keeps libtorrent's default so
// one fast link is not starved (docs/benchmarks.md, single-transfer). Either way a new connection's
// send buffer is libtorrent's full one from its first block, not 10 KiB until its first tick.
import test from 'ava';
import { seederSessionSettings, toSettingsPack } from '../../src/engine/settings.js';

const base = { listenInterfaces: '127.0.0.1:0', version: '0.0.0-test' };

test('a capped seeder accepts at most 16 queued requests per peer', (t) => {
  const pack = toSettingsPack(seederSessionSettings({ ...base, uploadLimit: 25_000_000 }), true);
  t.is(pack.max_allowed_in_request_queue, 16);
});

test('an uncapped seeder leaves the request queue at libtorrent\'s default', (t) => {
  for (const uploadLimit of [undefined, 0]) {
    const pack = toSettingsPack(seederSessionSettings({ ...base, uploadLimit }), true);
    t.false('max_allowed_in_request_queue' in pack, `uploadLimit ${String(uploadLimit)}`);
  }
});

test('the cap does not change the other seeder settings', (t) => {
  const capped = toSettingsPack(seederSessionSettings({ ...base, uploadLimit: 1 }), true);
  const uncapped = toSettingsPack(seederSessionSettings(base), true);
  delete capped.max_allowed_in_request_queue;
  t.deepEqual(capped, uncapped);
});

test('every seeder fills a new connection\'s send buffer from the first block', (t) => {
  for (const uploadLimit of [undefined, 0, 25_000_000]) {
    const pack = toSettingsPack(seederSessionSettings({ ...base, uploadLimit }), true);
    t.is(pack.send_buffer_low_watermark, 500 * 1024, `uploadLimit ${String(uploadLimit)}`);
  }
});
