// Peers found through a real tracker (Debian's opentracker on 127.0.0.1 in whitelist mode, as a
// private swarm's tracker would be): tracker-reply and tracker-error events, and the transfer itself.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, parseTorrent, type EngineAlert } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from './clients.js';
import { loopbackSession, makePayload, sameTree, waitEvent } from './helpers.js';

async function startTracker(t: ExecutionContext, root: string, port: number, infoHashes: string[]): Promise<void> {
  const dir = path.join(root, 'tracker');
  await fs.mkdir(dir);
  await fs.chmod(dir, 0o755); // opentracker drops root privileges
  await fs.writeFile(path.join(dir, 'whitelist'), infoHashes.map((h) => `${h}\n`).join(''), { mode: 0o644 });
  // opentracker chroots to -d, so the whitelist is named relative to it.
  const proc = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', 'whitelist'], { stdio: 'ignore' });
  const exited = new Promise((r) => proc.on('exit', r));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      process.kill(proc.pid, 'SIGTERM');
      await exited;
    }
  });
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/stats`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('opentracker did not start');
}

test('peers find each other through a whitelisting tracker; an unlisted torrent gets tracker-error', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Tracked', { 'a.mxf': 6 * 1024 * 1024, 'b.xml': 777 });
  // The announce URL (and so the port) goes into the torrent, the info hash into the tracker's whitelist.
  const port = await freePort();
  const announce = `http://127.0.0.1:${port}/announce`;
  const listed = await createTorrent(src, { trackers: [announce] });
  const unlisted = await createTorrent(src, { trackers: [announce], source: 'not-whitelisted' });
  const info = parseTorrent(listed);
  t.not(parseTorrent(unlisted).infoHash, info.infoHash);
  await startTracker(t, tmp, port, [info.infoHash]);

  const seeder = loopbackSession(t);
  const seederReply = waitEvent(seeder, 'tracker-reply', (a) => a.infoHash === info.infoHash);
  seeder.addTorrent({ torrent: listed, savePath: path.join(tmp, 'seed') });
  t.is((await seederReply).url, announce);

  const leecher = loopbackSession(t);
  const replies: EngineAlert[] = [];
  leecher.on('tracker-reply', (a: EngineAlert) => replies.push(a));
  const refused = waitEvent(leecher, 'tracker-error', (a) => a.infoHash === parseTorrent(unlisted).infoHash);
  const finished = waitEvent(leecher, 'torrent-finished', (a) => a.infoHash === info.infoHash);
  leecher.addTorrent({ torrent: listed, savePath: path.join(tmp, 'dl') });
  leecher.addTorrent({ torrent: unlisted, savePath: path.join(tmp, 'other') });
  await finished;
  t.true(replies.some((r) => r.infoHash === info.infoHash && (r.numPeers ?? 0) >= 1), 'the tracker named the seeder');
  await sameTree(t, src, path.join(tmp, 'dl', 'Tracked'));
  const err = await refused;
  t.is(err.url, announce);
  t.regex(err.error ?? '', /not authorized/i);
});
