// Interop with real BitTorrent clients: a transmission-cli seeder and an aria2c downloader use
// torrents personalised by our server and find each other only through our tracker (no DHT,
// LPD or PEX); a third client holding another group's passkey is refused and gets no peers.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { personalise } from '../../src/server/torrent-file.js';
import { tempDir } from '../helpers/tmp.js';
import { announceOf, basic, makeTorrent } from './helpers.js';
import { announceUrl, decodeAnnounce, decodeScrape, peerId } from './tracker-client.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';



const ARIA2_ISOLATED = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--disable-ipv6=true',
  '--bt-save-metadata=false',
  '--file-allocation=none',
  '--summary-interval=0',
  '--console-log-level=warn',
];

test('transmission-cli seeds, aria2c downloads through our tracker only; another group is refused', async (t) => {
  const root = await tempDir(t, 'cineswarm-interop-');
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
  });

  // A small DCP-like folder, and a private torrent of it made by a third-party tool.
  const seedDir = path.join(root, 'seed');
  const content = path.join(seedDir, 'Interop_DCP');
  await fs.mkdir(path.join(content, 'sub'), { recursive: true });
  const files: Record<string, Buffer> = { 'reel1.mxf': randomBytes(3_000_000), 'sub/ASSETMAP.xml': randomBytes(1_234_567) };
  for (const [rel, data] of Object.entries(files)) await fs.writeFile(path.join(content, rel), data);
  const made = path.join(root, 'made.torrent');
  const create = spawnSync('transmission-create', ['-p', '-s', '256', '-t', 'http://placeholder.invalid/announce', '-o', made, content], { encoding: 'utf8' });
  t.is(create.status, 0, create.stderr);

  // Our server on a real socket; announce URLs come from the Host header the clients send.
  const app = await buildServer({ dataDir: path.join(root, 'data'), logger: false, announceIntervalSeconds: 5, openGroups: true });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
  const post = (url: string, headers: Record<string, string>, body: Uint8Array | string) =>
    fetch(`${base}${url}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  t.is((await post('/api/groups', { 'content-type': 'application/json' }, JSON.stringify({ id: 'A', password: 'pa', ownerPassword: 'pa' }))).status, 201);
  t.is((await post('/api/groups', { 'content-type': 'application/json' }, JSON.stringify({ id: 'B', password: 'pb', ownerPassword: 'pb' }))).status, 201);
  const up = await post('/api/groups/A/torrents', { authorization: basic('A', 'pa'), 'content-type': 'application/x-bittorrent' }, new Uint8Array(await fs.readFile(made)));
  t.is(up.status, 201);
  const { infoHash } = (await up.json()) as { infoHash: string };
  const otherB = makeTorrent({ name: 'B_Only', content: Buffer.alloc(1000, 1) });
  t.is((await post('/api/groups/B/torrents', { authorization: basic('B', 'pb'), 'content-type': 'application/x-bittorrent' }, new Uint8Array(otherB))).status, 201);

  const fetchTorrent = async (group: string, pw: string, name: string, peer: string) => {
    const res = await fetch(`${base}/api/groups/${group}/torrents/${name}?peer=${peer}`, { headers: { authorization: basic(group, pw) } });
    t.is(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };
  const seederTorrent = path.join(root, 'seeder.torrent');
  const downloaderTorrent = path.join(root, 'downloader.torrent');
  await fs.writeFile(seederTorrent, await fetchTorrent('A', 'pa', 'Interop_DCP', 'seeder'));
  await fs.writeFile(downloaderTorrent, await fetchTorrent('A', 'pa', 'Interop_DCP', 'downloader'));
  const scrapeA = async () => {
    const pk = announceOf(await fs.readFile(downloaderTorrent)).split('/announce/')[1]!;
    const res = await fetch(`${base}/scrape/${pk}`);
    return (decodeScrape(Buffer.from(await res.arrayBuffer())) as Record<string, { complete: number; incomplete: number; downloaded: number }>)[infoHash]!;
  };

  // Seeder: transmission-cli on the original data, no DHT/LPD/PEX, bound to loopback.
  const seedPort = await freePort();
  const tcConfig = path.join(root, 'transmission');
  await fs.mkdir(tcConfig);
  await fs.writeFile(
    path.join(tcConfig, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': '127.0.0.1',
      'peer-port': seedPort,
      'download-dir': seedDir,
      'ratio-limit-enabled': false,
      'blocklist-enabled': false,
    }),
  );
  const seeder = spawn('transmission-cli', ['-g', tcConfig, '-w', seedDir, '-p', String(seedPort), '-M', '-U', seederTorrent], { stdio: 'ignore' });
  children.push(seeder);
  await waitFor('the seeder to announce itself as complete', async () => ((await scrapeA()).complete >= 1 ? true : undefined), 60_000);

  // Downloader: aria2c, which quits once the download is complete and checked.
  const dlDir = path.join(root, 'download');
  const dlPort = await freePort();
  const downloader = spawn('aria2c', [...ARIA2_ISOLATED, `--dir=${dlDir}`, `--listen-port=${dlPort}`, '--seed-time=0', '--bt-stop-timeout=90', downloaderTorrent], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(downloader);
  let aria2Err = '';
  downloader.stderr!.on('data', (c: Buffer) => (aria2Err += c.toString()));
  const code = await new Promise<number | null>((r) => downloader.once('exit', r));
  t.is(code, 0, aria2Err);
  for (const [rel, data] of Object.entries(files)) {
    t.true((await fs.readFile(path.join(dlDir, 'Interop_DCP', rel))).equals(data), rel);
  }
  // the tracker saw the download finish
  t.is((await scrapeA()).downloaded, 1);

  // A peer of group B with the same torrent bytes but B's passkey: raw announce first...
  const bAnnounce = announceOf(await fetchTorrent('B', 'pb', 'B_Only', 'intruder'));
  const bPasskey = bAnnounce.split('/announce/')[1]!;
  const raw = await fetch(`${base}${announceUrl(bPasskey, { infoHash: Buffer.from(infoHash, 'hex'), peerId: peerId('intruder'), port: 40000 })}`);
  t.deepEqual(decodeAnnounce(Buffer.from(await raw.arrayBuffer())), { failure: "this torrent is not shared in group 'B'", peers: [], peers6: [] });

  // ...then a real client: aria2c gets the failure reason and no peer, so nothing arrives.
  const intruderTorrent = path.join(root, 'intruder.torrent');
  await fs.writeFile(intruderTorrent, personalise(await fs.readFile(made), bAnnounce));
  const intruderDir = path.join(root, 'intruder');
  const intruderLog = path.join(root, 'intruder.log');
  const intruder = spawn(
    'aria2c',
    [...ARIA2_ISOLATED, `--dir=${intruderDir}`, `--listen-port=${await freePort()}`, `--log=${intruderLog}`, '--log-level=info', '--bt-stop-timeout=8', intruderTorrent],
    { stdio: 'ignore' },
  );
  children.push(intruder);
  const exited = new Promise((r) => intruder.once('exit', r));
  const logged = await waitFor(
    "aria2c to report the tracker's refusal",
    async () => {
      const text = await fs.readFile(intruderLog, 'utf8').catch(() => '');
      return text.includes("this torrent is not shared in group 'B'") ? text : undefined;
    },
    60_000,
  );
  t.regex(logged, /this torrent is not shared in group 'B'/);
  await exited;
  const got = await fs.readFile(path.join(intruderDir, 'Interop_DCP', 'reel1.mxf')).catch(() => Buffer.alloc(0));
  t.false(got.equals(files['reel1.mxf']!));
  // it connected to the tracker, and to no peer at all
  const intruderText = await fs.readFile(intruderLog, 'utf8');
  const serverPort = new URL(base).port;
  t.regex(intruderText, new RegExp(`Connecting to 127\\.0\\.0\\.1:${serverPort}\\b`));
  t.notRegex(intruderText, new RegExp(`Connecting to [0-9.]+:(?!${serverPort}\\b)\\d+`));
  // group A's swarm never counted it
  const after = await scrapeA();
  t.is(after.incomplete, 0);
  t.is(after.downloaded, 1);
});
