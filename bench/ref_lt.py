#!/usr/bin/python3
# Reference for bench/engine.bench.ts: the same loopback transfer done by Debian's python3-libtorrent
# (the same libtorrent 2.0 our addon links). Prints one JSON line: {"seconds": ..., "bytes": ...}.
# Usage: ref_lt.py TORRENT SEED_SAVE_PATH DOWNLOAD_SAVE_PATH
import json
import sys
import time

import libtorrent as lt

# The settings the engine uses for the same run (src/engine/settings.ts defaults + the bench's).
SETTINGS = {
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'enable_outgoing_utp': False,
    'enable_incoming_utp': False,
    'allow_multiple_connections_per_ip': True,
    'alert_mask': lt.alert_category.error | lt.alert_category.peer | lt.alert_category.storage
    | lt.alert_category.tracker | lt.alert_category.status | lt.alert_category.performance_warning,
    'alert_queue_size': 10000,
}


def wait_for(ses, kind, handle, deadline=600):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        ses.wait_for_alert(500)
        for a in ses.pop_alerts():
            if isinstance(a, kind) and a.handle == handle:
                return
    raise SystemExit('timed out waiting for %s' % kind.__name__)


def main():
    torrent, seed_path, dl_path = sys.argv[1:4]
    ti = lt.torrent_info(torrent)
    seeder = lt.session(SETTINGS)
    leecher = lt.session(SETTINGS)
    flags_off = lt.torrent_flags.auto_managed | lt.torrent_flags.paused
    sp = {'ti': ti, 'save_path': seed_path}
    seed = seeder.add_torrent(sp)
    seed.unset_flags(flags_off)
    seed.resume()
    while not seed.status().is_seeding:
        time.sleep(0.05)
    dl = leecher.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': dl_path})
    dl.unset_flags(flags_off)
    dl.resume()
    t0 = time.monotonic()
    dl.connect_peer(('127.0.0.1', seeder.listen_port()))
    wait_for(leecher, lt.torrent_finished_alert, dl)
    seconds = time.monotonic() - t0
    total = dl.status().total_payload_download
    print(json.dumps({'seconds': seconds, 'bytes': total}))
    sys.stdout.flush()
    leecher.remove_torrent(dl)
    seeder.remove_torrent(seed)
    del leecher
    del seeder


main()
