#!/usr/bin/python3
# One python3-libtorrent peer for the swarm benches, in its own process: the reference seeder or a
# reference downloader, with libtorrent's stock settings apart from what a private loopback swarm
# needs (no DHT/LSD/UPnP/NAT-PMP/uTP; one loopback address per peer; upload cap on every peer).
# Prints JSON lines on stdout: {"listening": port}, {"done": seconds} when complete (downloaders),
# then {"uploaded": bytes} every 200 ms until stdin closes or SIGTERM.
# With BENCH_SEED_LOG=FILE a seeder writes one line per block it sends (seconds since start, peer
# address, piece, block), polled every 10 ms; bench/seed-sends.py reads it (docs/engine.md).
# Usage: lt_peer.py seed|get TORRENT SAVE_PATH ADDRESS UPLOAD_BPS [super]
import json
import os
import signal
import sys
import threading
import time

import libtorrent as lt


def say(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    mode, torrent, save_path, address, upload = sys.argv[1:6]
    superseed = len(sys.argv) > 6 and sys.argv[6] == 'super'
    sends = open(os.environ['BENCH_SEED_LOG'], 'w') if mode == 'seed' and os.environ.get('BENCH_SEED_LOG') else None
    ses = lt.session({
        'listen_interfaces': address + ':0',
        'outgoing_interfaces': address,
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'upload_rate_limit': int(upload),
        'min_announce_interval': 5,
        'alert_mask': lt.alert_category.error | lt.alert_category.status | (lt.alert_category.upload if sends else 0),
    })
    # libtorrent exempts loopback/LAN peers from rate limits; the bench caps every peer.
    f = lt.ip_filter()
    f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(f)
    params = {'ti': lt.torrent_info(torrent), 'save_path': save_path}
    if mode == 'seed':
        params['flags'] = lt.torrent_flags.seed_mode
    t0 = time.monotonic()
    h = ses.add_torrent(params)
    h.unset_flags(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    h.resume()
    if superseed:
        h.set_flags(lt.torrent_flags.super_seeding)
    say({'listening': ses.listen_port()})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    done = mode == 'seed'
    while not stop.is_set():
        st = h.status()
        if not done and (st.is_finished or st.is_seeding):
            done = True
            say({'done': time.monotonic() - t0})
        say({'uploaded': st.total_payload_upload})
        for a in ses.pop_alerts():
            if sends and isinstance(a, lt.block_uploaded_alert):
                sends.write('%.4f %s %d %d\n' % (time.monotonic() - t0, a.endpoint[0], a.piece_index, a.block_index))
        stop.wait(0.01 if sends else 0.05 if not done else 0.2)


main()
