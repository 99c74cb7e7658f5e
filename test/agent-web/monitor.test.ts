// Monitor and alarm book on the real machine: statfs of temp dirs, loopback traffic, /proc-style mdstat text.
import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { AlarmBook } from '../../src/agent/monitoring/alarms.js';
import { Monitor, parseMdstat } from '../../src/agent/monitoring/monitor.js';
import { diskUsage } from '../../src/util/disk-usage.js';
import { tempDir } from '../helpers/tmp.js';

test('alarm book keeps the first-seen time, refreshes the message, clears', async (t) => {
  let now = new Date('2026-01-01T10:00:00Z');
  const book = new AlarmBook({ now: () => now });
  t.true(book.raise('SERVER_UNREACHABLE', 'warning', 'server down'));
  now = new Date('2026-01-01T10:05:00Z');
  t.false(book.raise('SERVER_UNREACHABLE', 'critical', 'server down for 5 minutes'));
  const [a] = book.list();
  t.is(a.since, '2026-01-01T10:00:00.000Z');
  t.is(a.severity, 'critical');
  t.is(a.message, 'server down for 5 minutes');
  t.true(book.clear('SERVER_UNREACHABLE'));
  t.false(book.clear('SERVER_UNREACHABLE'));
  t.deepEqual(book.list(), []);
});

test('monitor reads free space of both directories and raises then clears LOW_DISK', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'incoming');
  const ing = path.join(dir, 'ingest');
  await fs.mkdir(dl);
  await fs.mkdir(ing);
  const alarms = new AlarmBook();
  const real = await diskUsage(dl);
  t.true(real.total > 0 && real.free > 0 && real.free <= real.total);

  const starving = new Monitor({ downloadDir: dl, ingestDir: ing, minFreeBytes: real.total * 2, alarms });
  const s = await starving.sample();
  t.deepEqual(s.disks.map((d) => d.path), [dl, ing]);
  t.true(s.disks[0].total > 0);
  const low = alarms.list().find((a) => a.code === 'LOW_DISK');
  t.truthy(low);
  t.regex(low!.message, /free on .*incoming/);
  t.true(s.process.rssBytes > 10 * 1024 * 1024);
  t.true(s.storage.length > 0);

  const fine = new Monitor({ downloadDir: dl, ingestDir: ing, minFreeBytes: 1, alarms });
  await fine.sample();
  t.false(alarms.has('LOW_DISK'));
});

test('monitor rates match a known transfer over loopback (the figure the page shows)', async (t) => {
  const dir = await tempDir(t);
  const payload = Buffer.alloc(8 * 1024 * 1024, 7);
  const server = http.createServer((_req, res) => res.end(payload));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  // Defaults, as the agent builds it: loopback counts, since peers on this machine use it.
  const mon = new Monitor({ downloadDir: dir, ingestDir: dir, minFreeBytes: 1, alarms: new AlarmBook() });
  await mon.sample();
  let received = 0;
  for (let i = 0; i < 4; i++) received += (await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer()).byteLength;
  t.is(received, 4 * payload.length);
  const after = await mon.sample();
  const seconds = after.network.seconds;
  const lo = after.network.interfaces.find((i) => i.iface === 'lo');
  t.truthy(lo);
  // Other work on this shared machine only adds to the counters: the known bytes are a floor
  // (1 % for the rounding of the rates to whole bytes per second).
  t.true(lo!.rxBps * seconds >= received * 0.99, `lo ${lo!.rxBps} B/s over ${seconds} s = ${Math.round(lo!.rxBps * seconds)} B, sent ${received} B`);
  t.true(after.network.rxBps * seconds >= received * 0.99, `total ${after.network.rxBps} B/s`);
  t.true(after.network.txBps * seconds >= received * 0.99, 'loopback sends what it receives');
});

test('mdstat parsing tells a healthy mirror from a degraded one and a rebuild', (t) => {
  const text = [
    'Personalities : [raid1] [raid6]',
    'md0 : active raid1 sdb1[1] sda1[0]',
    '      976630464 blocks super 1.2 [2/2] [UU]',
    '',
    'md1 : active raid6 sdc[0] sdd[1] sde[2] sdf[3]',
    '      3906764800 blocks super 1.2 level 6, 512k chunk [4/3] [UUU_]',
    '',
    'md2 : active raid1 sdg[2] sdh[0]',
    '      976630464 blocks super 1.2 [2/1] [U_]',
    '      [==>..................]  recovery = 12.6% (123456/976630464) finish=80.1min',
    'unused devices: <none>',
  ].join('\n');
  const arrays = parseMdstat(text);
  t.deepEqual(
    arrays.map((a) => [a.device, a.state]),
    [
      ['md0', 'ok'],
      ['md1', 'degraded'],
      ['md2', 'rebuilding'],
    ],
  );
  t.regex(arrays[1].detail!, /3 of 4 drives/);
});
