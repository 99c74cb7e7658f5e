// The firmware archive format: a gzip-compressed POSIX tar built and read with GNU tar
// (part of every Debian system), with a fixed member order so builds are reproducible.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { FirmwareError } from './errors.js';

const execFileP = promisify(execFile);

/** Packs `files` (posix paths relative to `dir`, in the given order) into `out`. Owner,
 * group and mtime are fixed so the same tree always gives the same bytes. */
export async function packTar(dir: string, files: string[], out: string, mtime: Date): Promise<void> {
  const args = [
    '--create', '--file', out, '--directory', dir,
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${Math.floor(mtime.getTime() / 1000)}`,
    '--use-compress-program=gzip -n -6', '--no-recursion', '--null', '--files-from=-',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar could not write ${out}: ${stderr.trim()}`))));
    child.stdin.end(files.map((f) => f + '\0').join(''));
  });
}

/** Reads one member of an archive whose signature has already been checked. */
export async function readMember(archive: string, member: string): Promise<string> {
  try {
    const { stdout } = await execFileP('tar', ['--extract', '--gzip', '--to-stdout', '--file', archive, member], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    throw new FirmwareError('BAD_MANIFEST', `the bundle has no readable ${member}: ${tarMessage(err)}`);
  }
}

/** The member names of an archive, as tar lists them (folders end in '/'). */
export async function listMembers(archive: string): Promise<string[]> {
  try {
    const { stdout } = await execFileP('tar', ['--list', '--gzip', '--file', archive, '--quoting-style=literal'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l !== '');
  } catch (err) {
    throw new FirmwareError('BAD_MANIFEST', `the bundle could not be read as an archive: ${tarMessage(err)}`);
  }
}

/** Extracts a signature-checked archive into `dest` (which must exist and be empty). */
export async function extractArchive(archive: string, dest: string): Promise<void> {
  try {
    await execFileP('tar', ['--extract', '--gzip', '--file', archive, '--directory', dest, '--no-same-owner', '--no-overwrite-dir'], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    throw new FirmwareError('BAD_MANIFEST', `the bundle could not be unpacked: ${tarMessage(err)}`);
  }
}

/** True when gzip or tar report that the archive stops before its end. Only used to tell a
 * cut-short download apart from a forged or damaged one after the signature already failed;
 * listing writes nothing. */
export async function archiveEndsEarly(archive: string): Promise<boolean> {
  try {
    await execFileP('tar', ['--list', '--gzip', '--file', archive], { maxBuffer: 64 * 1024 * 1024 });
    return false;
  } catch (err) {
    return /unexpected end of (file|archive)|unexpected eof/i.test(String((err as { stderr?: string }).stderr ?? ''));
  }
}

function tarMessage(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(err)).trim().split('\n')[0] ?? '';
}
