// The agent's (and `cineswarm get`'s) downloader settings that the swarm figures were measured
// with (docs/engine.md): short request queues, and runs of whole pieces only once every download
// has met no other downloader for a second, so that cinemas fetching from one capped seed at once
// do not claim long stretches of it that the others cannot see.
import test from 'ava';
import { ALONE_AFTER_MS, meetsDownloaders, RUNS_ALONE, RUNS_IN_SWARM, wholePiecesThreshold } from '../../src/engine/piece-runs.js';
import { agentSessionSettings, toSettingsPack } from '../../src/engine/settings.js';

const base = { listenInterfaces: '127.0.0.1:0', version: '0.0.0-test' };
const downloading = { isFinished: false, paused: false };

test('an agent keeps at most 1 s and 50 blocks of requests per peer', (t) => {
  const pack = toSettingsPack(agentSessionSettings(base), true);
  t.is(pack.request_queue_time, 1);
  t.is(pack.max_out_request_queue, 50);
});

test('an agent session starts with single pieces, as a swarm starting together wants', (t) => {
  t.is(toSettingsPack(agentSessionSettings(base), true).whole_pieces_threshold, RUNS_IN_SWARM);
  t.is(RUNS_IN_SWARM, 0);
  t.is(RUNS_ALONE, 20, "libtorrent's default");
});

test('a download with one peer, or only seeds, is alone', (t) => {
  t.false(meetsDownloaders({ ...downloading, numPeers: 0, numSeeds: 0 }));
  t.false(meetsDownloaders({ ...downloading, numPeers: 1, numSeeds: 1 }), 'one plain seed');
  t.false(meetsDownloaders({ ...downloading, numPeers: 1, numSeeds: 0 }), 'one super seed, which hides its pieces');
  t.false(meetsDownloaders({ ...downloading, numPeers: 3, numSeeds: 3 }), 'several seeds');
});

test('a download connected to another downloader is in a swarm', (t) => {
  t.true(meetsDownloaders({ ...downloading, numPeers: 2, numSeeds: 1 }), 'a seed and a cinema');
  t.true(meetsDownloaders({ ...downloading, numPeers: 2, numSeeds: 0 }), 'a super seed and a cinema');
  t.true(meetsDownloaders({ ...downloading, numPeers: 8, numSeeds: 0 }), 'cinemas only');
});

test('finished or paused torrents do not count', (t) => {
  t.false(meetsDownloaders({ isFinished: true, paused: false, numPeers: 8, numSeeds: 0 }));
  t.false(meetsDownloaders({ isFinished: false, paused: true, numPeers: 8, numSeeds: 0 }));
});

test('the session picks single pieces while one of its downloads is in a swarm, runs after a second alone', (t) => {
  const alone = { ...downloading, numPeers: 1, numSeeds: 0 };
  const swarm = { ...downloading, numPeers: 4, numSeeds: 1 };
  const seeding = { isFinished: true, paused: false, numPeers: 6, numSeeds: 0 };
  t.is(wholePiecesThreshold([], 0), RUNS_IN_SWARM, 'just started');
  t.is(wholePiecesThreshold([alone], ALONE_AFTER_MS - 1), RUNS_IN_SWARM, 'not yet a second alone');
  t.is(wholePiecesThreshold([alone, seeding], ALONE_AFTER_MS), RUNS_ALONE);
  t.is(wholePiecesThreshold([], 60_000), RUNS_ALONE);
  t.is(wholePiecesThreshold([alone, swarm, seeding], 60_000), RUNS_IN_SWARM, 'a swarm wins however long the others were alone');
});
