// The agent's (and `cineswarm get`'s) downloader settings that the swarm figures were measured
// with (docs/engine.md): short request queues, and pieces picked one at a time rather than in
// runs of contiguous pieces, so that cinemas fetching from one capped seed at once do not claim
// long stretches of it that the others cannot see.
import test from 'ava';
import { agentSessionSettings, toSettingsPack } from '../../src/engine/settings.js';

const base = { listenInterfaces: '127.0.0.1:0', version: '0.0.0-test' };

test('an agent picks pieces one at a time, not in runs of whole pieces', (t) => {
  const pack = toSettingsPack(agentSessionSettings(base), true);
  t.is(pack.whole_pieces_threshold, 0);
});

test('an agent keeps at most 1 s and 50 blocks of requests per peer', (t) => {
  const pack = toSettingsPack(agentSessionSettings(base), true);
  t.is(pack.request_queue_time, 1);
  t.is(pack.max_out_request_queue, 50);
});
