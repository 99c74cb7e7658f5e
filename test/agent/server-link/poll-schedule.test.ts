// Poll timing: the jitter stays within its bound, backoff doubles while the server is
// unreachable, stops at the cap, and drops back to the interval after one good poll.
import test from 'ava';
import path from 'node:path';
import { nextDelaySeconds, PollSchedule, type PollOutcome } from '../../../src/agent/server-link/poll-schedule.js';
import { loadConfig } from '../../../src/agent/config/config.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const timing = { intervalSeconds: 60, jitterSeconds: 30, maxBackoffSeconds: 900 };

test('jitter spreads polls over [interval, interval + jitter]', (t) => {
  const samples = Array.from({ length: 2000 }, () => nextDelaySeconds(timing, 0));
  t.true(samples.every((s) => s >= 60 && s <= 90));
  // A jitter that is really random covers both halves of its range.
  t.true(samples.some((s) => s < 70));
  t.true(samples.some((s) => s > 80));
});

test('backoff doubles per failure and is capped', (t) => {
  const fixed = () => 0.5;
  t.is(nextDelaySeconds(timing, 0, fixed), 75);
  t.is(nextDelaySeconds(timing, 1, fixed), 135);
  t.is(nextDelaySeconds(timing, 2, fixed), 255);
  t.is(nextDelaySeconds(timing, 3, fixed), 495);
  t.is(nextDelaySeconds(timing, 4, fixed), 915);
  t.is(nextDelaySeconds(timing, 30, fixed), 915);
});

test('the schedule re-arms from each outcome: later while unreachable, back to normal after success', async (t) => {
  const outcomes: PollOutcome[] = ['unreachable', 'unreachable', 'unreachable', 'ok'];
  let calls = 0;
  const s = new PollSchedule({ intervalSeconds: 100, jitterSeconds: 0, maxBackoffSeconds: 500 }, async () => outcomes[calls++] ?? 'ok');
  t.teardown(() => s.stop());
  const delays: number[] = [];
  s.start();
  for (let i = 0; i < outcomes.length; i++) {
    await s.pollNow();
    delays.push(Math.round((s.nextAt!.getTime() - Date.now()) / 1000));
  }
  // The first pollNow() joins the poll start() began; failures 1, 2, 3 (capped), then ok.
  t.is(calls, 4);
  t.deepEqual(delays, [200, 400, 500, 100]);
  t.is(s.consecutiveFailures, 0);
});

test('a tick that throws counts as unreachable and never stops the schedule', async (t) => {
  let calls = 0;
  const s = new PollSchedule({ intervalSeconds: 0.05, jitterSeconds: 0.02, maxBackoffSeconds: 0.1 }, async () => {
    calls++;
    throw new Error('boom');
  });
  s.start();
  while (calls < 4) await new Promise((r) => setTimeout(r, 20));
  await s.stop();
  const after = calls;
  await new Promise((r) => setTimeout(r, 300));
  t.is(calls, after, 'no poll after stop()');
  t.true(s.consecutiveFailures >= 3);
});

test('with the shipped config, an agent asks a server that was away again within two minutes, however long it was away', async (t) => {
  const shipped = await loadConfig(path.join(REPO_ROOT, 'rootfs/etc/cineswarm/agent.json'));
  const worst = Math.max(...[1, 2, 3, 5, 10, 100].map((failures) => nextDelaySeconds(shipped.poll, failures, () => 1)));
  t.true(worst <= 120, `${worst} s`);
  t.true(worst >= shipped.poll.intervalSeconds, 'never sooner than the normal interval');
});
