// Memory as /proc counts it: a process that maps and touches a file holds file pages, not anonymous ones.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { processMemory } from '../../src/util/memory.js';
import { tempDir } from '../helpers/tmp.js';

test('this process: anonymous and file pages add up to the resident set', (t) => {
  const m = processMemory();
  t.true(m.anonBytes > 0);
  t.true(m.rssBytes >= m.anonBytes);
  t.true(Math.abs(m.anonBytes + m.fileBytes - m.rssBytes) <= 64 * 1024, JSON.stringify(m));
});

test('a file mapped and read by another process counts as file pages of that process', async (t) => {
  const dir = await tempDir(t, 'cineswarm-mem-');
  const file = path.join(dir, 'blob');
  await fs.writeFile(file, Buffer.alloc(64 * 1024 * 1024, 1));
  // python3's mmap touches every page of the 64 MiB file, then waits to be measured.
  const code = 'import mmap,sys\nf=open(sys.argv[1],"rb")\nm=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)\ns=sum(m[i] for i in range(0,len(m),4096))\nprint(s,flush=True)\nsys.stdin.read()';
  const child = spawn('/usr/bin/python3', ['-c', code, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill();
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const m = processMemory(child.pid!);
  t.true(m.fileBytes >= 60 * 1024 * 1024, JSON.stringify(m));
  t.true(m.anonBytes < 60 * 1024 * 1024, JSON.stringify(m));
  child.stdin.end();
  t.throws(() => processMemory(2 ** 22 + 12345), { message: /no process/ });
});
