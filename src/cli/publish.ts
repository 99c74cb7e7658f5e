// `cineswarm publish DCP_DIR --server URL --group ID --password PW [--create] [--seed] [--data DIR]`:
// verifies, hashes and uploads a DCP; with --seed keeps seeding it until SIGINT/SIGTERM.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { publishDcp, startSeeding, PublishError } from '../publish/publisher.js';
import { parseRate } from '../util/rate.js';

const HELP = `usage: cineswarm publish DCP_DIR --server URL --group ID --password PW [--create] [--seed] [--data DIR]

Verifies the DCP, hashes it into a private torrent and uploads it to a group on the server.

  --server URL          central seed server, e.g. http://seed.example.com:8600
  --group ID            the group to publish to
  --password PW         the group's password
  --create              create the group first (refused if the id is taken)
  --seed                keep seeding the DCP to the group until interrupted
  --data DIR            keep the created .torrent here
  --peer-id ID          the id this publisher reports as (default publisher-<hostname>)
  --listen HOST:PORT    BitTorrent listen address when seeding (default 0.0.0.0:6881)
  --upload-limit RATE   cap the seeding upload rate, e.g. 25MB/s or 2000KiB/s (bytes/s without a unit; default unlimited)`;

export async function run(argv: string[]): Promise<number> {
  const fail = (msg: string, code = 1): number => {
    process.stderr.write(`cineswarm publish: ${msg}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        server: { type: 'string' },
        group: { type: 'string' },
        password: { type: 'string' },
        create: { type: 'boolean' },
        seed: { type: 'boolean' },
        data: { type: 'string' },
        'peer-id': { type: 'string' },
        listen: { type: 'string' },
        'upload-limit': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) return fail('give exactly one DCP folder', 2);
  for (const k of ['server', 'group', 'password'] as const) if (!v[k]) return fail(`--${k} is required`, 2);
  let uploadLimit = 0;
  try {
    if (v['upload-limit'] !== undefined) uploadLimit = parseRate(v['upload-limit']);
  } catch (err) {
    return fail(`--upload-limit: ${(err as Error).message}`, 2);
  }
  const peerId = v['peer-id'] ?? `publisher-${os.hostname()}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  try {
    const pub = await publishDcp({ dcpDir: positionals[0], server: v.server!, group: v.group!, password: v.password!, create: v.create, dataDir: v.data, peerId });
    process.stdout.write(`published ${pub.name} (${pub.size} bytes, info hash ${pub.infoHash}) to group ${v.group}\n`);
    if (!v.seed) return 0;
    const seeder = await startSeeding({
      server: v.server!,
      group: v.group!,
      password: v.password!,
      name: pub.name,
      dcpDir: positionals[0],
      peerId,
      session: { listenInterfaces: v.listen ?? '0.0.0.0:6881' },
      uploadLimit,
    });
    process.stdout.write(`seeding on port ${seeder.session.listenPort}; press Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await seeder.stop();
    return 0;
  } catch (err) {
    if (err instanceof PublishError) return fail(err.message);
    const e = err as Error & { code?: string };
    return fail(e.code === 'NOT_FOUND' || e.code === 'ENOENT' ? `no DCP folder at ${positionals[0]}` : e.message);
  }
}
