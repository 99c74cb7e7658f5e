#!/usr/bin/python3
# Reads the block log of a python3-libtorrent seeder (BENCH_SEED_LOG, bench/lt_peer.py) and says
# how often each piece left the seed: pieces sent to more than one downloader, the extra bytes,
# how long after the first downloader had the whole piece the next one began to get it, and when
# in the run the extra sends happened. Usage: seed-sends.py LOG [LOG...]
import collections
import sys

BLOCK = 16 * 1024

for name in sys.argv[1:]:
    pieces = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(name) as f:
        for line in f:
            t, peer, piece, _block = line.split()
            pieces[int(piece)][peer].append(float(t))
    if not pieces:
        print(f'{name}: no blocks sent')
        continue
    start = min(min(min(ts) for ts in by_peer.values()) for by_peer in pieces.values())
    gaps, extra_at, extra_blocks, twice = [], [], 0, 0
    for by_peer in pieces.values():
        sends = sorted((min(ts), max(ts), len(ts)) for ts in by_peer.values())
        if len(sends) < 2:
            continue
        twice += 1
        first_done = sends[0][1]
        for began, _end, blocks in sends[1:]:
            gaps.append(began - first_done)
            extra_at.append(began - start)
            extra_blocks += blocks
    gaps.sort()

    def q(p):
        return gaps[int(p * (len(gaps) - 1))] if gaps else 0.0

    print(f'{name}: {len(pieces)} pieces, {twice} sent more than once, {len(gaps)} extra sends, {extra_blocks * BLOCK / 1e6:.1f} MB extra')
    print('  next send began after the first had the piece (s): p10 %.2f p25 %.2f p50 %.2f p75 %.2f p90 %.2f' % (q(.1), q(.25), q(.5), q(.75), q(.9)))
    bins = collections.Counter(int(t // 2) for t in extra_at)
    print('  extra sends per 2 s from the first block:', ' '.join(f'{k * 2}s:{bins[k]}' for k in sorted(bins)))
