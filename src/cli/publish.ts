// `cineswarm publish DCP_DIR --server URL --group ID --owner-password OPW [--create --password MEMBER_PW
// [--admin-token-file F]] [--seed] [--data DIR]`: checks the server and credentials, verifies,
// hashes and uploads a DCP; with --seed keeps seeding it until SIGINT/SIGTERM.
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultPublisherId, publishDcp, startSeeding, PublishError } from '../publish/publisher.js';
import { PublishedStore } from '../publish/published-store.js';
import { Seeder } from '../publish/seeder.js';
import { listenNote, seederPrinter, untilSignal } from './seed-output.js';
import { parseRate } from '../util/rate.js';
import { progressLine } from './progress.js';
import { readSecret, SecretError, secretOptions } from './secrets.js';

const HELP = `usage: cineswarm publish DCP_DIR --server URL --group ID --owner-password OPW
                         [--create --password MEMBER_PW [--admin-token-file F]] [--seed] [--data DIR]

Checks the server, the owner password and that the name is free, then verifies the DCP,
hashes it into a private torrent and uploads it to the group. With --seed --data, a DCP
already published from that data dir with the same info hash is seeded again at once.

  --server URL             central seed server, e.g. http://seed.example.com:8600
  --group ID               the group to publish to
  --owner-password OPW     the group's owner password (yours, not the cinemas');
                           or --owner-password-file F, or CINESWARM_OWNER_PASSWORD
  --create                 create the group, after the DCP verified (refused if the id is taken)
  --password MEMBER_PW     with --create: the member password the cinemas will use;
                           or --password-file F, or CINESWARM_PASSWORD
  --admin-token-file F     with --create: the server's admin token (its DATA/admin-token)
  --seed                   keep seeding the DCP to the group until interrupted
  --data DIR               record the published DCP here (torrent, content path, resume data),
                           so that cineswarm seed --data DIR seeds it after a restart
  --peer-id ID             the id this publisher reports as (default publisher-<hostname>)
  --listen HOST:PORT       BitTorrent listen address when seeding (default 0.0.0.0:6881)
  --upload-limit RATE      cap the seeding upload rate, e.g. 25MB/s or 2000KiB/s (bytes/s without a unit; default unlimited)`;

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
        ...secretOptions('owner-password'),
        ...secretOptions('password'),
        'admin-token-file': { type: 'string' },
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
    return fail(`${(err as Error).message} (see --help)`, 2);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) return fail('give exactly one DCP folder', 2);
  for (const k of ['server', 'group'] as const) if (!v[k]) return fail(`--${k} is required`, 2);
  let ownerPassword: string | undefined;
  let password: string | undefined;
  let adminToken: string | undefined;
  try {
    ownerPassword = await readSecret({ flag: 'owner-password', value: v['owner-password'], file: v['owner-password-file'], env: 'CINESWARM_OWNER_PASSWORD' });
    password = await readSecret({ flag: 'password', value: v.password, file: v['password-file'], env: 'CINESWARM_PASSWORD' });
    if (v['admin-token-file']) adminToken = (await fs.readFile(v['admin-token-file'], 'utf8')).trim();
  } catch (err) {
    if (err instanceof SecretError) return fail(err.message, 2);
    return fail(`cannot read --admin-token-file ${v['admin-token-file']} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
  }
  if (!ownerPassword) return fail('--owner-password (or --owner-password-file, or CINESWARM_OWNER_PASSWORD) is required', 2);
  if (v.create && !password) return fail('--create needs --password MEMBER_PW (or --password-file, or CINESWARM_PASSWORD): the password the cinemas will use', 2);
  let uploadLimit = 0;
  try {
    if (v['upload-limit'] !== undefined) uploadLimit = parseRate(v['upload-limit']);
  } catch (err) {
    return fail(`--upload-limit: ${(err as Error).message}`, 2);
  }
  const peerId = v['peer-id'] ?? defaultPublisherId();
  const verifying = progressLine('verifying');
  const hashing = progressLine('hashing');
  try {
    const pub = await publishDcp({
      dcpDir: positionals[0]!,
      server: v.server!,
      group: v.group!,
      ownerPassword,
      password,
      adminToken,
      create: v.create,
      dataDir: v.data,
      seedExisting: v.seed === true,
      peerId,
      onVerifyProgress: (d, t) => verifying.update(d, t),
      onHashProgress: (d, t) => {
        verifying.finish();
        hashing.update(d, t);
      },
    });
    hashing.finish();
    const server = v.server!.replace(/\/+$/, '');
    if (pub.alreadyPublished) process.stdout.write(`${pub.name} is already published to group ${v.group} with the same info hash ${pub.infoHash}; seeding it again\n`);
    else process.stdout.write(`published ${pub.name} (${pub.size} bytes, info hash ${pub.infoHash}) to group ${v.group}\n`);
    process.stdout.write(`watch the deliveries at ${server}/ or with: cineswarm deliveries --server ${server} --group ${v.group} --watch\n`);
    if (!v.seed) return 0;
    if (v.data) {
      // The data dir's seeder: resume data kept there, so cineswarm seed --data takes over after a restart.
      const dirSeeder = new Seeder({ store: new PublishedStore(v.data), listen: v.listen ?? '0.0.0.0:6881', uploadLimit, only: [pub.infoHash], piecesVerified: [pub.infoHash], onEvent: seederPrinter('publish') });
      await dirSeeder.start();
      const seeding = dirSeeder.entries().some((e) => e.state === 'seeding');
      if (!seeding) {
        await dirSeeder.stop();
        // A refusal has said why on stderr already; an empty dir has not.
        return dirSeeder.entries().length > 0 ? 1 : fail(`${v.data} holds no record of ${pub.name} to seed from`);
      }
      process.stdout.write(`seeding on port ${dirSeeder.listenPort}${listenNote(v.listen ?? '0.0.0.0:6881', dirSeeder.listenPort)}; press Ctrl-C to stop (later: cineswarm seed --data ${v.data})\n`);
      await untilSignal();
      await dirSeeder.stop();
      return 0;
    }
    const seeder = await startSeeding({
      server: v.server!,
      group: v.group!,
      ownerPassword,
      name: pub.name,
      dcpDir: positionals[0]!,
      peerId,
      session: { listenInterfaces: v.listen ?? '0.0.0.0:6881' },
      uploadLimit,
      // publish hashed these files into the torrent just now
      piecesVerified: true,
    });
    process.stdout.write(`seeding on port ${seeder.session.listenPort}; press Ctrl-C to stop\n`);
    await untilSignal();
    await seeder.stop();
    return 0;
  } catch (err) {
    if (err instanceof PublishError) return fail(err.message);
    const e = err as Error & { code?: string };
    return fail(e.code === 'NOT_FOUND' || e.code === 'ENOENT' ? `no DCP folder at ${positionals[0]}` : e.message);
  }
}
