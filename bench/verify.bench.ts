// Verification speed against `openssl sha1` over the same files, measured in the same run:
// one large asset (goal ratio ≥ 0.95) against one openssl, and a DCP with two large assets hashed in
// parallel against one openssl per asset running at the same time (the same two cores; goal ≥ 0.95).
// Data is generated, then removed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyDcp } from '../src/dcp/index.js';
import { generateDcp } from '../test/helpers/dcp-generator.js';
import { opensslParallelSeconds } from './proc.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.CINESWARM_BENCH_VERIFY_MIB ?? 1280) * MiB;
const ROUNDS = Number(process.env.CINESWARM_BENCH_ROUNDS ?? 3);

function opensslSeconds(files: string[]): Promise<number> {
  if (files.length > 1) return opensslParallelSeconds(files);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('openssl', ['sha1', ...files], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`openssl sha1 failed (exit ${r.status})`);
  return Promise.resolve(Number(process.hrtime.bigint() - t0) / 1e9);
}

async function verifySeconds(dir: string): Promise<{ seconds: number; bytes: number }> {
  const t0 = process.hrtime.bigint();
  const r = await verifyDcp(dir);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!r.ok) throw new Error(`generated DCP failed verification:\n${r.summary}`);
  return { seconds, bytes: r.bytesHashed };
}

/** Best of several alternating rounds: the machine is shared, so the fastest run is the least disturbed. */
async function compare(name: string, ref: string, dir: string, mxfs: string[]): Promise<void> {
  let bestRef = Infinity;
  let bestVerify = Infinity;
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    bestRef = Math.min(bestRef, await opensslSeconds(mxfs));
    const v = await verifySeconds(dir);
    bestVerify = Math.min(bestVerify, v.seconds);
    bytes = v.bytes;
  }
  const mxfBytes = mxfs.reduce((s, f) => s + fs.statSync(f).size, 0);
  const refRate = mxfBytes / 1e6 / bestRef;
  const rate = bytes / 1e6 / bestVerify;
  process.stderr.write(`${name}: verify ${rate.toFixed(1)} MB/s over ${(bytes / 1e6).toFixed(0)} MB, ${ref} ${refRate.toFixed(1)} MB/s\n`);
  process.stdout.write(`BENCH ${name} ${rate.toFixed(1)} MB/s ratio=${(rate / refRate).toFixed(2)} ref=${ref}\n`);
}

const root = fs.mkdtempSync(path.join(process.env.CINESWARM_BENCH_DIR ?? os.tmpdir(), 'cineswarm-verify-bench-'));
try {
  process.stderr.write(`generating test DCPs in ${root} (${SIZE / MiB} MiB per asset)\n`);
  const one = await generateDcp(path.join(root, 'ONE'), { assetSizes: [SIZE], seed: 1 });
  await compare('verify-one-asset', 'openssl-sha1', one.dir, one.assets.map((a) => a.path));
  fs.rmSync(one.dir, { recursive: true });
  const two = await generateDcp(path.join(root, 'TWO'), { assetSizes: [SIZE, SIZE], seed: 2 });
  await compare('verify-two-assets', 'openssl-sha1-parallel', two.dir, two.assets.map((a) => a.path));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
