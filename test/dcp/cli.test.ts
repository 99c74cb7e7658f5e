// `cineswarm verify` as a user runs it: the real CLI in a child process, exit codes 0 / 1 / 2.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { DCP_FIXTURES, REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshotTree } from './tree-snapshot.js';

interface Run { code: number | null; stdout: string; stderr: string }

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', 'src/cli/main.ts', 'verify', ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a good DCP exits 0 with an OK summary; --json prints the report', async (t) => {
  const dir = path.join(DCP_FIXTURES, 'libdcp_dcp_test8');
  const plain = await cli(dir);
  t.is(plain.code, 0, plain.stderr);
  t.regex(plain.stdout, /^DCP Short_FTR-1_F_MOS_2K_20200308_IOP_OV \[Interop\]/);
  t.regex(plain.stdout, /OK: all 3 assets of the packing list are present and match/);
  t.is(plain.stderr, '', 'no progress line when stderr is not a terminal');
  const json = await cli('--json', dir);
  t.is(json.code, 0);
  const report = JSON.parse(json.stdout) as { ok: boolean; flavour: string; assets: { verdict: string }[] };
  t.true(report.ok);
  t.is(report.flavour, 'interop');
  t.deepEqual(report.assets.map((a) => a.verdict), ['ok', 'ok', 'ok']);
});

test('a damaged DCP exits 1 naming the file; nothing on disk changes', async (t) => {
  const dir = path.join(DCP_FIXTURES, 'broken_hash_libdcp_dcp_test1');
  const r = await cli(dir);
  t.is(r.code, 1);
  t.regex(r.stdout, /FAILED: 1 problem/);
  t.true(r.stdout.includes('video.mxf is damaged: its contents do not match the packing list (checksum differs); re-download needed'));
  const json = await cli(dir, '--json');
  t.is(json.code, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; failures: { code: string; path: string }[] };
  t.false(report.ok);
  t.deepEqual(report.failures.map((f) => [f.code, f.path]), [['HASH_MISMATCH', 'video.mxf']]);
});

test('a generated DCP with a missing asset exits 1, the folder untouched', async (t) => {
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { flavour: 'interop', assetSizes: [50_000, 20_000] });
  t.is((await cli(g.dir)).code, 0);
  fs.rmSync(g.assets[0]!.path);
  const before = snapshotTree(g.dir);
  const r = await cli(g.dir);
  t.is(r.code, 1);
  t.true(r.stdout.includes(`${path.basename(g.assets[0]!.path)} is missing`));
  t.deepEqual(snapshotTree(g.dir), before);
});

test('usage errors exit 2; --help exits 0', async (t) => {
  const help = await cli('--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /usage: cineswarm verify DCP_DIR \[--json\]/);
  const none = await cli();
  t.is(none.code, 2);
  t.regex(none.stderr, /expected exactly one DCP folder/);
  const bogus = await cli('--frobnicate', path.join(DCP_FIXTURES, 'libdcp_dcp_test8'));
  t.is(bogus.code, 2);
  t.regex(bogus.stderr, /frobnicate/);
  const absent = await cli('/nonexistent/cineswarm-dcp');
  t.is(absent.code, 2);
  t.regex(absent.stderr, /\/nonexistent\/cineswarm-dcp is not a folder/);
});

test('on a terminal, a progress line is drawn on stderr and cleared', async (t) => {
  // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
  const g = await generateDcp(path.join(await tempDir(t), 'DCP'), { assetSizes: [3_000_000, 1_000_000] });
  const command = `${process.execPath} --import=tsx src/cli/main.ts verify ${g.dir}`;
  const r = await new Promise<Run>((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
  t.is(r.code, 0, r.stdout);
  t.regex(r.stdout, /\rchecking checksums: 100% \(4\.0 MB of 4\.0 MB\)/);
  t.regex(r.stdout, /OK: all 3 assets/);
});
