// `cineswarm status` text: the ETA and rates read as on the status page (the same formatter), and
// the bandwidth rule in force is shown with its schedule.
import test from 'ava';
import { bandwidthView } from '../../src/agent/config/bandwidth.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { renderStatus } from '../../src/cli/status.js';

const RULES = [
  { cron: '0 9 * * *', downloadKiBps: 2000, uploadKiBps: 0 },
  { cron: '0 23 * * *', downloadKiBps: 0, uploadKiBps: 0 },
];

function status(now: Date): AgentStatus {
  return {
    id: 'site-cli', version: '0.1.0', uptime: 7384, disk: { path: '/srv', total: 4e12, free: 1e12 }, network: { rxBps: 2_400_000, txBps: 1700 },
    torrents: [{ name: 'FEATURE_FTR', group: 'g', infoHash: 'ab'.repeat(20), state: 'downloading', progress: 0.5, sizeBytes: 1e9, downloadBps: 2_400_000, uploadBps: 0, peers: 3, etaSeconds: 203, verify: { state: 'pending', failed: [] } }],
    groups: [], alarms: [], history: [], conflicts: [], lastPollAt: null,
    bandwidth: bandwidthView(RULES, now),
  };
}

test('ETA as "3 min 23 s", rates with units, uptime as a duration', (t) => {
  const text = renderStatus(status(new Date(2026, 11, 1, 12, 0, 0)));
  const row = text.split('\n').find((l) => l.startsWith('FEATURE_FTR'))!;
  t.regex(row, /\b3 min 23 s\b/);
  t.notRegex(row, /203s/);
  t.regex(row, /2\.40 MB\/s/);
  t.regex(text, /network in 2\.40 MB\/s out 1\.70 kB\/s/);
  t.regex(text, /up 2 h 3 min/);
});

test('the bandwidth rule in force, since when, and the next change', (t) => {
  // Noon: the 09:00 rule is in force and 23:00 comes next (local time, as cron rules are; the
  // clock reads in the machine's locale).
  const noon = renderStatus(status(new Date(2026, 11, 1, 12, 0, 0)));
  const line = noon.split('\n').find((l) => l.startsWith('bandwidth '))!;
  t.regex(line, /^bandwidth down 2000 KiB\/s, up unlimited since .*\b0?9:00.* \(rule "0 9 \* \* \*"\); next: down unlimited, up unlimited at .*(23:00|11:00 PM).* \("0 23 \* \* \*"\)$/);
  // After midnight the 23:00 rule of the day before holds until 09:00.
  const night = renderStatus(status(new Date(2026, 11, 2, 1, 30, 0)));
  t.regex(night, /bandwidth down unlimited, up unlimited since .*(23:00|11:00 PM).* \(rule "0 23 \* \* \*"\); next: down 2000 KiB\/s/);
  const none = renderStatus({ ...status(new Date()), bandwidth: bandwidthView([], new Date()) });
  t.regex(none, /bandwidth unlimited \(no bandwidth rules in the config\)/);
});
