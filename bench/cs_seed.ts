// One cineswarm initial seeder for the swarm benches, in its own process: the seeder settings and the
// super-seeding policy of `publish --seed`, which trusts the pieces it has just hashed
// (piecesVerified). Prints JSON lines: {"listening": port}, then {"uploaded": bytes} every 200 ms
// until SIGTERM or stdin closes.
// Usage: cs_seed.ts TORRENT SAVE_PATH ADDRESS UPLOAD_BPS [off|on]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Session } from '../src/engine/index.js';
import { seederSessionSettings } from '../src/engine/settings.js';
import { DEFAULT_SUPER_SEEDING, watchSuperSeeding, superSeedingOption, type SuperSeedingMode } from '../src/publish/initial-seeding.js';

const [torrentFile, savePath, address, upload, mode] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const superSeeding = (mode || DEFAULT_SUPER_SEEDING) as SuperSeedingMode;
const base = seederSessionSettings({ listenInterfaces: `${address}:0`, version, superSeeding: superSeeding === 'on', uploadLimit: Number(upload) });
const session = new Session({ ...base, raw: { ...base.raw, outgoing_interfaces: address } });
const torrent = session.addTorrent({ torrent: fs.readFileSync(torrentFile), savePath, seedMode: true, piecesVerified: true, uploadLimit: Number(upload), ...superSeedingOption(superSeeding) });
const stopSuper = watchSuperSeeding(torrent, superSeeding, (on) => process.stderr.write(`cs_seed: super seeding ${on ? 'on again' : 'ended, one peer downloading alone'}\n`));
const say = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');
say({ listening: session.listenPort });
const timer = setInterval(() => say({ uploaded: torrent.status().totalPayloadUpload }), 200);
const stop = (): void => {
  clearInterval(timer);
  stopSuper();
  void session.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
