// The reconcile loop against a real engine, followed through its events: a pause asked while a
// DCP verifies holds after the verify ends (and resume does not verify again), and a DCP that
// failed verification three times is not verified again after a restart until a person asks.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { Agent } from '../../src/agent/agent.js';
import type { AgentConfig } from '../../src/agent/config/config.js';
import type { Step } from '../../src/agent/pipeline/steps.js';
import { agentConfig, publishedSwarm, quiet, seededDamagedDcp, startServer, waitFor } from './rig.js';

const MiB = 1024 * 1024;

/** An agent whose loop steps are recorded from its very first pass. */
async function recordedAgent(t: ExecutionContext, cfg: AgentConfig) {
  const agent = new Agent(cfg, { logger: quiet.child({ agent: cfg.id }), monitor: false });
  const steps: Step[] = [];
  agent.loop.on('step', (s) => steps.push(s));
  await agent.start();
  t.teardown(() => agent.stop());
  return { agent, steps };
}

const historyOnDisk = async (cfg: AgentConfig) =>
  JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'history.json'), 'utf8')) as { entries: Record<string, { state: string; verifyAttempts?: number }> };

test('a pause asked during verification holds after it ends; resume runs no verify', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-loop-pause-', name: 'LOOP_PAUSE_FTR', assetSizes: [24 * MiB, 4 * MiB], seed: 141, group: { id: 'loop-pause', password: 'pw' } });
  const cfg = agentConfig({ id: 'pauser', server: server.url, groups: [G], root });
  const agent = new Agent(cfg, { logger: quiet.child({ agent: cfg.id }), monitor: false });
  const steps: Step[] = [];
  let pausing: Promise<void> | undefined;
  let verifyEnded = false;
  agent.loop.on('step', (s) => {
    steps.push(s);
    // Asked the moment the verification starts, as a projectionist clicking at the wrong time.
    if (s.kind === 'verify' && !pausing) pausing = agent.pause(pub.infoHash);
  });
  agent.loop.on('step-done', (o) => {
    if (o.step.kind === 'verify') verifyEnded = true;
  });
  await agent.start();
  t.teardown(() => agent.stop());

  await waitFor('verification started and ended', () => verifyEnded, 120_000, 50);
  await pausing;
  await waitFor('the pipeline reached seeding', async () => Object.values((await historyOnDisk(cfg)).entries)[0]?.state === 'seeding', 30_000, 50);
  await agent.loop.settled();
  const view = agent.getStatus().torrents[0];
  t.is(view.state, 'paused', 'the verify result did not overwrite the pause');
  t.is(view.verify.state, 'passed');
  t.true(agent.engine.find(pub.infoHash)!.status().paused, 'the engine torrent is paused');
  const intent = JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'intent.json'), 'utf8'));
  t.deepEqual(intent.torrents[pub.infoHash], { paused: true }, 'the pause is stored apart from the pipeline state');

  const before = steps.length;
  await agent.resume(pub.infoHash);
  await agent.loop.settled();
  const after = steps.slice(before).map((s) => s.kind);
  t.log(`steps after resume: ${after.join(', ')}`);
  t.true(after.includes('resume'));
  t.false(after.includes('verify'), 'resume of a verified DCP runs no verify step');
  t.is(agent.getStatus().torrents[0].state, 'seeding');
  t.false(agent.engine.find(pub.infoHash)!.status().paused);
  t.is(steps.filter((s) => s.kind === 'verify').length, 1, 'one verification in all');
});

test('after 3 failed verifications a restart does not verify again until a person asks', async (t) => {
  const root = await tempDir(t, 'cineswarm-loop-3x-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'thrice', password: 'pw' };
  const up = await seededDamagedDcp(t, { root, server: server.url, name: 'THRICE_FTR', seed: 151, group: G });

  const cfg = agentConfig({ id: 'thrice-site', server: server.url, groups: [G], root });
  const first = await recordedAgent(t, cfg);
  await waitFor('gave up after three failures', () => first.agent.getStatus().torrents[0]?.message?.includes('a person must check'), 120_000);
  await first.agent.loop.settled();
  t.is(first.steps.filter((s) => s.kind === 'verify').length, 3);
  t.is(Object.values((await historyOnDisk(cfg)).entries)[0].verifyAttempts, 3, 'the attempts are stored with the state');
  await first.agent.stop();

  const again = await recordedAgent(t, cfg);
  const ih = up.infoHash;
  await waitFor('back in the engine, complete, and polled', () => {
    const st = again.agent.engine.find(ih)?.status();
    return st && (st.isFinished || st.isSeeding) && again.agent.getStatus().lastPollAt !== null;
  }, 60_000, 50);
  await again.agent.loop.settled();
  t.deepEqual(again.steps.filter((s) => s.kind === 'verify'), [], 'no verification after the restart');
  t.like(again.agent.getStatus().torrents[0], { state: 'failed', verify: { state: 'failed' } });

  await again.agent.reverify(ih);
  const verifies = again.steps.filter((s) => s.kind === 'verify');
  t.deepEqual(verifies[0], { kind: 'verify', infoHash: ih, requested: true }, 'a person asked: verified again');
  t.is(again.agent.getStatus().torrents[0].state, 'failed', 'still damaged');
});
