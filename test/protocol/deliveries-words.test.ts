// The words the console and `cineswarm deliveries` share for a group's status: totals per DCP and,
// for each kind of trouble, a sentence that says who, what and what to do. The clock is an input.
import test from 'ava';
import type { PeerStatus, TorrentStatus } from '../../src/protocol/index.js';
import { attention, kdmWords, stateWords, totals, verifyWords } from '../../src/protocol/web-assets/deliveries.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();
const torrent = (peers: PeerStatus[], retired?: TorrentStatus['retired']): TorrentStatus => ({ name: 'FEATURE_FTR', infoHash: 'a'.repeat(40), size: 1, createdAt: minutesAgo(600), peers, ...(retired ? { retired } : {}) });
const peer = (p: Partial<PeerStatus> & { peer: string }): PeerStatus => ({ state: 'downloading', progress: 0.5, flag: 'ok', updatedAt: minutesAgo(1), ...p });

test('every kind of trouble reads as who, what and what to do; a cinema that is fine and a seeder need nothing', (t) => {
  const cases: Array<[Partial<PeerStatus> & { peer: string }, RegExp | null]> = [
    [{ peer: 'ok-site', name: 'Odeon' }, null],
    [{ peer: 'seeder', role: 'seeder', state: 'seeding', progress: 1, flag: 'ok' }, null],
    [{ peer: 'gamma', name: 'Gamma', state: 'queued', progress: 0, flag: 'not-started', updatedAt: undefined }, /^Gamma \(gamma\) has not started FEATURE_FTR: it never reported on it\. Check that its agent is running and has joined group spring\.$/],
    [{ peer: 'quiet', flag: 'silent', updatedAt: minutesAgo(42) }, /^quiet has been silent for 42 min on FEATURE_FTR \(last state: downloading\)\. Its agent may be off, or cannot reach this server\.$/],
    [{ peer: 'stuck', flag: 'stalled', progress: 0.314, progressAt: minutesAgo(14) }, /^stuck is stuck at 31\.4% of FEATURE_FTR: no progress for 14 min\. Check that a seeder is up/],
    [{ peer: 'who', flag: 'not-rostered', state: 'seeding', progress: 1 }, /^who reports on FEATURE_FTR but is not on the roster\. Add it to the roster/],
    [{ peer: 'bad', state: 'failed', progress: 1, verify: { state: 'failed', failed: [{ path: 'reel1.mxf', reason: 'checksum differs' }, { path: 'reel2.mxf', reason: 'missing' }] } }, /^bad failed FEATURE_FTR: 2 files did not verify \(reel1\.mxf, …\)\./],
    [{ peer: 'full', state: 'failed', progress: 0.2, message: 'disk full on /srv' }, /^full failed FEATURE_FTR: disk full on \/srv\./],
    [{ peer: 'held', state: 'paused' }, /^held paused FEATURE_FTR at the cinema; someone there has to resume it\.$/],
    [{ peer: 'keys', state: 'seeding', progress: 1, kdm: { state: 'expired' } }, /^keys cannot play FEATURE_FTR: its KDM is expired\. Send a KDM/],
    [{ peer: 'waiting', state: 'downloading', kdm: { state: 'waiting-for-dcp' } }, null],
  ];
  for (const [p, expected] of cases) {
    const said = attention(torrent([]), peer(p), NOW, 'spring');
    if (expected === null) t.is(said, null, p.peer);
    else t.regex(said ?? '', expected, p.peer);
  }
});

test('totals count cinemas only; a withdrawn DCP counts who stopped sharing it', (t) => {
  const peers = [
    peer({ peer: 'a', state: 'seeding', progress: 1 }),
    peer({ peer: 'b', state: 'ready', progress: 1 }),
    peer({ peer: 'c', state: 'failed' }),
    peer({ peer: 'd', state: 'queued', progress: 0, flag: 'not-started', updatedAt: undefined }),
    peer({ peer: 'pub', role: 'seeder', state: 'seeding', progress: 1 }),
  ];
  t.like(totals(torrent(peers)), { cinemas: 4, ready: 2, failed: 1, notStarted: 1, text: '2 of 4 cinemas ready, 1 failed, 1 not started' });
  const gone = torrent([peer({ peer: 'a', state: 'retired' }), peer({ peer: 'b', state: 'seeding', progress: 1 })], { at: minutesAgo(5), reason: 'withdrawn' });
  t.is(totals(gone).text, 'withdrawn: 1 of 2 cinemas stopped sharing it');
  t.is(totals(torrent([peer({ peer: 'x', state: 'ready', progress: 1 })])).text, '1 of 1 cinema ready');
});

test('states, verification and keys in words', (t) => {
  t.is(stateWords(peer({ peer: 'x', state: 'queued', flag: 'not-started' })), 'Not started');
  t.is(stateWords(peer({ peer: 'x', state: 'retired' })), 'Retired, stopped sharing');
  t.is(verifyWords(undefined), '–');
  t.is(verifyWords({ state: 'passed', failed: [] }), 'passed');
  t.is(verifyWords({ state: 'failed', failed: [{ path: 'a.mxf', reason: 'missing' }] }), 'failed: a.mxf (missing)');
  t.is(kdmWords({ state: 'valid', notValidAfter: '2027-01-31T23:59:00Z' }), 'valid until 2027-01-31 23:59');
  t.is(kdmWords({ state: 'not-for-this-server' }), 'made for another server');
});
