// The vendor's enterprise number at build time: staging writes it into the image's MIB and snmpd
// drop-in, puts the SMIv2 base modules beside the MIB, and the result still passes smilint.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DROP_IN_REL, MIB_REL, PLACEHOLDER_PEN, parsePen, readEnterpriseNumber, shippedEnterpriseNumber, stampEnterpriseNumber } from '../../src/firmware/mib-pen.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

test('the repository ships the placeholder, not the RFC 5612 documentation number', (t) => {
  t.is(shippedEnterpriseNumber(), PLACEHOLDER_PEN);
  t.not(shippedEnterpriseNumber(), 32473);
});

test('a staged rootfs carries the given number in MIB and drop-in, and lints with only its own MIB folder', async (t) => {
  const root = await tempDir(t, 'cineswarm-pen-');
  await fs.cp(path.join(REPO_ROOT, 'rootfs'), root, { recursive: true });
  await stampEnterpriseNumber(root, 54321, path.join(REPO_ROOT, 'node_modules'));
  const mibDir = path.dirname(path.join(root, MIB_REL));
  const mib = await fs.readFile(path.join(root, MIB_REL), 'utf8');
  t.is(readEnterpriseNumber(mib), 54321);
  const dropIn = await fs.readFile(path.join(root, DROP_IN_REL), 'utf8');
  t.regex(dropIn, /^view systemonly included \.1\.3\.6\.1\.4\.1\.54321$/m);
  t.notRegex(dropIn, /\.1\.3\.6\.1\.4\.1\.0(\s|$)/);

  // Only the staged folder: the base modules must be there for smilint and the snmp tools.
  const lint = await run('smilint', ['-l', '3', '-s', path.join(mibDir, 'CINESWARM-MIB.txt')], { env: { ...process.env, SMIPATH: mibDir } }).catch((e: { stdout: string; stderr: string }) => e);
  t.is((lint.stdout + lint.stderr).trim(), '');
  const { stdout } = await run('snmptranslate', ['-m', 'CINESWARM-MIB', '-M', mibDir, '-On', 'CINESWARM-MIB::cswAlarmRaised'], { env: { ...process.env, MIBS: '', SNMP_PERSISTENT_DIR: root } });
  t.is(stdout.trim(), '.1.3.6.1.4.1.54321.0.1');
});

test('a bad number is refused with a message', (t) => {
  t.is(parsePen('1234'), 1234);
  for (const bad of ['', '-1', '12a', '4294967296', '1.5']) {
    t.throws(() => parsePen(bad), { message: /whole number/ }, bad);
  }
});
