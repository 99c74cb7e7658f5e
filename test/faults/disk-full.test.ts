// The disk fills during a download (a real tmpfs filled by the test), then space comes back: the
// torrent stays `downloading` with a message, one DISK_FULL alarm, a handful of log lines, and it
// resumes by itself, without a restart and keeping what was on disk, to a verified DCP in ingest.
import test from 'ava';
import bencode from 'bencode';
import fs from 'node:fs/promises';
import { Agent } from '../../src/agent/agent.js';
import { agentConfig, ingestListing, publishedSwarm, waitFor } from '../e2e/rig.js';
import { verifyDcp } from '../../src/dcp/index.js';
import { logSink } from '../helpers/log-sink.js';
import { fillDisk, inside, tmpfsMount } from './tmpfs.js';

const MiB = 1024 * 1024;

test('disk full mid-download, then freed: waits with a message and one alarm, resumes alone, DCP verified in ingest', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, {
    prefix: 'cineswarm-diskfull-',
    name: 'DISKFULL_FTR',
    assetSizes: [14 * MiB, 6 * MiB],
    seed: 151,
    group: { id: 'diskfull', password: 'pw' },
    uploadLimit: 2 * MiB,
  });
  const mount = await tmpfsMount(t, 32);
  const base = agentConfig({ id: 'cinema-full', server: server.url, groups: [G], root });
  const cfg = { ...base, downloadDir: inside(mount, 'incoming'), ingestDir: inside(mount, 'ingest') };
  await fs.mkdir(cfg.downloadDir, { recursive: true });
  await fs.mkdir(cfg.ingestDir, { recursive: true });
  const { logger, lines } = logSink('info');
  const agent = new Agent(cfg, { logger, monitor: false });
  await agent.start();
  t.teardown(() => agent.stop());
  const view = () => agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash);

  await waitFor('the download to be under way', () => (view()?.progress ?? 0) > 0.1, 60_000, 100);
  const filler = inside(mount, 'filler.bin');
  const fillAt = lines.length;
  await fillDisk(filler);
  const full = await waitFor(
    'the torrent to say it waits for disk space',
    () => {
      const v = view();
      return v?.message?.startsWith('waiting: disk full') ? v : undefined;
    },
    30_000,
    100,
  );
  t.is(full.state, 'downloading', 'paused is only a person’s pause');
  t.regex(full.message!, new RegExp(`^waiting: disk full on ${cfg.downloadDir}, [0-9.]+ [KMG]?B needed$`));
  const alarms = agent.alarms.list().filter((a) => a.code === 'DISK_FULL');
  t.is(alarms.length, 1);
  const progressWhenFull = full.progress;
  // resume data saved now (a power cut while full) must not bring upload mode back after a restart
  const resumeData = bencode.decode(await agent.engine.torrents()[0]!.saveResumeData()) as Record<string, unknown>;
  t.not(resumeData['upload_mode'], 1);

  // a while full: the log must stay quiet
  await new Promise((r) => setTimeout(r, 3000));
  const freedAt = Date.now();
  await fs.rm(filler);
  await waitFor('the download to go on', () => (view()?.progress ?? 0) > progressWhenFull && !view()?.message?.startsWith('waiting'), 60_000, 100).catch((err: unknown) => {
    for (const l of lines.slice(fillAt)) t.log(`  ${l.level} ${l.msg}`);
    t.log(JSON.stringify(view()), JSON.stringify(agent.engine.statusAll()));
    throw err;
  });
  const resumedMs = Date.now() - freedAt;
  const done = await waitFor('the DCP in ingest', () => (view()?.state === 'seeding' ? view() : undefined), 120_000, 250);
  t.is(done.verify.state, 'passed');
  t.deepEqual(await ingestListing(cfg.ingestDir), ['DISKFULL_FTR']);
  t.true((await verifyDcp(inside(cfg.ingestDir, 'DISKFULL_FTR'))).ok);
  t.false(agent.alarms.has('DISK_FULL'));

  const episode = lines.slice(fillAt).filter((l) => !/complete and ingested|: (verifying|ready|seeding)$/.test(l.msg));
  const st = agent.engine.statusAll().find((s) => s.infoHash === pub.infoHash)!;
  const wasted = st.allTimeDownload - pub.size;
  t.log(`episode: ${episode.length} log lines; resumed ${resumedMs} ms after space was freed; downloaded ${st.allTimeDownload} B for ${pub.size} B (${wasted} B again)`);
  for (const l of episode) t.log(`  ${l.level} ${l.msg}`);
  t.true(episode.length < 20, `${episode.length} log lines about the episode`);
  // A full disk is not the seed's fault: blocks that could not be written must not fail a check
  // and get the peer that sent them banned.
  t.false(episode.some((l) => /banned|failed its hash check/.test(l.msg)), 'no peer blamed for the full disk');
});
