// Bandwidth rules: the rule whose cron fired last is in force, and starting the schedule
// applies it at once with KiB/s turned into bytes/s.
import test from 'ava';
import { ruleInForce, BandwidthSchedule, type RateLimits } from '../../../src/agent/config/bandwidth.js';

const rules = [
  { cron: '0 9 * * *', downloadKiBps: 1000, uploadKiBps: 100 }, // shows from 09:00: slow
  { cron: '0 1 * * *', downloadKiBps: 0, uploadKiBps: 0 }, // night from 01:00: full speed
];

test('the most recently fired rule is in force', (t) => {
  t.is(ruleInForce(rules, new Date(2026, 0, 5, 12, 0)), rules[0]);
  t.is(ruleInForce(rules, new Date(2026, 0, 5, 3, 0)), rules[1]);
  t.is(ruleInForce(rules, new Date(2026, 0, 5, 0, 30)), rules[0], 'after midnight, before 01:00, the 09:00 rule of yesterday holds');
  t.is(ruleInForce([], new Date()), undefined);
});

test('start applies the rule in force in bytes per second', (t) => {
  const applied: RateLimits[] = [];
  const s = new BandwidthSchedule(rules, (l) => applied.push(l));
  t.teardown(() => s.stop());
  s.start(new Date(2026, 0, 5, 12, 0));
  t.deepEqual(applied, [{ downloadBytesPerSecond: 1024000, uploadBytesPerSecond: 102400 }]);
});
