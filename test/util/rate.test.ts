// Rates as people type them: bytes per second by default, decimal and binary units, "/s" optional.
import test from 'ava';
import { parseRate } from '../../src/util/rate.js';

test('rates with and without units', (t) => {
  t.is(parseRate('500000'), 500_000);
  t.is(parseRate('0'), 0);
  t.is(parseRate('25MB/s'), 25_000_000);
  t.is(parseRate('2000KiB/s'), 2_048_000);
  t.is(parseRate('1.5 MiB/s'), 1_572_864);
  t.is(parseRate('3kb'), 3000);
  t.is(parseRate('1GB/s'), 1_000_000_000);
});

test('anything else is refused with a message saying what to type', (t) => {
  for (const bad of ['', 'fast', '-5', '25 MB/h', '10Mbit/s', '3GiB/s']) {
    const e = t.throws(() => parseRate(bad));
    t.regex(e!.message, /rate/, bad);
  }
});
