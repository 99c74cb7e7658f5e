// `cineswarm seed --data DIR`: seeds every DCP published from that publisher data dir, from the
// resume data kept there, until SIGINT/SIGTERM (the seeder's systemd unit runs it).
import { parseArgs } from 'node:util';
import { PublishedStore } from '../publish/published-store.js';
import { Seeder } from '../publish/seeder.js';
import { parseRate } from '../util/rate.js';
import { listenNote, seederPrinter, untilSignal } from './seed-output.js';

const HELP = `usage: cineswarm seed --data DIR [--listen HOST:PORT] [--upload-limit RATE]

Seeds every DCP published with publish --data DIR, from the resume data kept there: no
re-hash after a restart, clean or not. A DCP whose files changed size or mtime while the
seeder was stopped is re-checked before any of it is served, and refused when its pieces no
longer match. DCPs published from DIR later are picked up within a minute.

  --data DIR               the publisher data dir (publish --data DIR)
  --listen HOST:PORT       BitTorrent listen address (default 0.0.0.0:6881)
  --upload-limit RATE      cap the total upload rate, e.g. 25MB/s or 2000KiB/s (default unlimited)`;

export async function run(argv: string[]): Promise<number> {
  const fail = (msg: string, code = 1): number => {
    process.stderr.write(`cineswarm seed: ${msg}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        data: { type: 'string' },
        listen: { type: 'string' },
        'upload-limit': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message} (see --help)`, 2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!v.data) return fail('--data DIR is required', 2);
  let uploadLimit = 0;
  try {
    if (v['upload-limit'] !== undefined) uploadLimit = parseRate(v['upload-limit']);
  } catch (err) {
    return fail(`--upload-limit: ${(err as Error).message}`, 2);
  }
  const store = new PublishedStore(v.data);
  let seeder: Seeder;
  try {
    await store.init();
    seeder = new Seeder({ store, listen: v.listen ?? '0.0.0.0:6881', uploadLimit, onEvent: seederPrinter('seed') });
    await seeder.start();
  } catch (err) {
    return fail((err as Error).message);
  }
  const listen = v.listen ?? '0.0.0.0:6881';
  const n = seeder.entries().filter((e) => e.state === 'seeding').length;
  process.stdout.write(`seeding ${n} DCP${n === 1 ? '' : 's'} from ${store.dir} on port ${seeder.listenPort}${listenNote(listen, seeder.listenPort)}; press Ctrl-C to stop\n`);
  await untilSignal();
  await seeder.stop();
  return 0;
}
