// Asset-map paths in other forms than plain relative '/' paths (backslashes, percent-escapes,
// drive letters) are named in the verify report: a warning when the file is found as read, an
// error when it is not there as written.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { verifyDcp } from '../../src/dcp/index.js';
import type { VerifyReport } from '../../src/dcp/types.js';
import { generateDcp, type GeneratedDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

async function dcpWithPath(t: ExecutionContext, rewrite: (dcp: GeneratedDcp, name: string) => Promise<string>): Promise<{ report: VerifyReport; written: string }> {
  const dcp = await generateDcp(path.join(await tempDir(t, 'cineswarm-pathform-'), 'PATHFORM_FTR'), { assetSizes: [MiB, MiB / 2], seed: 7 });
  const name = path.basename(dcp.assets[0].path);
  const written = await rewrite(dcp, name);
  const map = await fs.readFile(dcp.assetMapPath, 'utf8');
  await fs.writeFile(dcp.assetMapPath, map.replace(`<Path>${name}</Path>`, `<Path>${written}</Path>`));
  return { report: await verifyDcp(dcp.dir), written };
}

const notes = (r: VerifyReport) => r.warnings.filter((w) => w.code === 'PATH_NOT_PLAIN');

test('a backslash path that is found once read with / verifies, with a warning naming the path as written', async (t) => {
  const { report, written } = await dcpWithPath(t, async (dcp, name) => {
    await fs.mkdir(path.join(dcp.dir, 'reel1'));
    await fs.rename(dcp.assets[0].path, path.join(dcp.dir, 'reel1', name));
    return `reel1\\${name}`;
  });
  t.true(report.ok, JSON.stringify(report.failures));
  const [note] = notes(report);
  t.truthy(note);
  t.true(note.reason.includes(`"${written}"`) && note.reason.includes("uses '\\' as a separator"), note.reason);
  t.true(note.path.startsWith('reel1/'));
});

test('a percent-escaped path whose file is on disk only decoded fails, and the note says what is on disk', async (t) => {
  const { report, written } = await dcpWithPath(t, async (dcp, name) => {
    await fs.rename(dcp.assets[0].path, path.join(dcp.dir, `reel one ${name}`));
    return `reel%20one%20${name}`;
  });
  t.false(report.ok);
  t.true(report.failures.some((f) => f.path === written), JSON.stringify(report.failures));
  const [note] = notes(report);
  t.true(note.reason.includes('holds a percent-escape') && note.reason.includes(`the folder holds "reel one ${path.basename(written).split('%20').pop()}"`), note.reason);
});

test('a percent-escaped path whose file exists as written verifies, with a warning', async (t) => {
  const { report } = await dcpWithPath(t, async (dcp, name) => {
    await fs.rename(dcp.assets[0].path, path.join(dcp.dir, `a%41${name}`));
    return `a%41${name}`;
  });
  t.true(report.ok, JSON.stringify(report.failures));
  t.is(notes(report).length, 1);
  t.false(notes(report)[0].reason.includes('the folder holds'));
});

test('a drive-letter path is an error naming the path as written, and is not opened', async (t) => {
  const { report, written } = await dcpWithPath(t, async (_dcp, name) => `C:\\DCP\\${name}`);
  t.false(report.ok);
  const err = report.failures.find((f) => f.code === 'PATH_ABSOLUTE');
  t.truthy(err);
  t.true(err!.reason.includes(`"${written}"`), err!.reason);
  t.is(notes(report).length, 0, 'the refusal is the one finding for it');
});

test('plain paths get no note', async (t) => {
  const { report } = await dcpWithPath(t, async (_dcp, name) => name);
  t.true(report.ok);
  t.is(notes(report).length, 0);
});
