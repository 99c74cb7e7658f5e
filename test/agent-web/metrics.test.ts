// Prometheus text for awkward DCP names and a status before the first poll.
import test from 'ava';
import { renderMetrics } from '../../src/agent/web/metrics.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';

const base: AgentStatus = {
  id: 'site-1', version: '0.1.0', uptime: 5, disk: { path: '/srv/in', total: 100, free: 40 }, network: { rxBps: 1, txBps: 2 },
  torrents: [], groups: [], alarms: [], history: [], conflicts: [], lastPollAt: null,
};

test('label values are escaped and every sample line has the exposition shape', (t) => {
  const text = renderMetrics({
    ...base,
    torrents: [{
      name: 'Film "Director\'s Cut"\\EN', group: 'g', infoHash: 'c'.repeat(40), state: 'paused', progress: 0.5, sizeBytes: 1000,
      downloadBps: 0, uploadBps: 0, peers: 0, etaSeconds: null, verify: { state: 'pending', failed: [] },
    }],
  });
  t.true(text.includes('name="Film \\"Director\'s Cut\\"\\\\EN"'));
  t.true(text.includes('cineswarm_torrents{state="paused"} 1'));
  t.true(text.includes('cineswarm_torrent_done_bytes{name="Film \\"Director\'s Cut\\"\\\\EN",group="g",infohash="' + 'c'.repeat(40) + '"} 500'));
  for (const line of text.trim().split('\n')) {
    t.regex(line, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+|NaN)$/, line);
  }
});

test('no last-poll sample before the first poll rather than a fake 1970 timestamp', (t) => {
  const text = renderMetrics(base);
  t.false(/^cineswarm_last_poll_timestamp_seconds /m.test(text));
  const polled = renderMetrics({ ...base, lastPollAt: '2026-11-24T12:00:00.000Z' }, Date.parse('2026-11-24T12:00:30.000Z'));
  t.true(polled.includes('cineswarm_last_poll_timestamp_seconds 1795521600'));
  t.true(polled.includes('cineswarm_last_poll_age_seconds 30'));
});

test('the agent memory is exported resident and anonymous apart', (t) => {
  const text = renderMetrics({ ...base, memory: { rssBytes: 900_000_000, anonBytes: 120_000_000 } });
  t.true(text.includes('cineswarm_agent_memory_resident_bytes 900000000'));
  t.true(text.includes('cineswarm_agent_memory_anonymous_bytes 120000000'));
});
