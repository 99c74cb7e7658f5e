// `cineswarm verify DCP_DIR [--json]`: checks a DCP folder against its packing lists and prints the
// verdict (exit 0 only when every asset is present and matches; 1 when not; 2 on usage errors).
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyDcp } from '../dcp/index.js';
import { formatBytes } from '../util/bytes.js';

const USAGE = `usage: cineswarm verify DCP_DIR [--json]

Checks a DCP folder before ingest: the ASSETMAP and packing lists are read, every
asset must be present, inside the folder, of the right size and with the right
SHA-1 checksum. Assets that a supplemental package (VF) expects from its original
version are reported as external, not as missing. Nothing on disk is changed.

options:
  --json     print the full report as JSON instead of the summary
  -h, --help show this help

exit status: 0 the DCP is complete and every checksum matches; 1 it is not; 2 usage error`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`cineswarm verify: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    process.stderr.write(`cineswarm verify: expected exactly one DCP folder\n${USAGE}\n`);
    return 2;
  }
  const dir = parsed.positionals[0]!;
  const isDir = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    process.stderr.write(`cineswarm verify: ${dir} is not a folder\n`);
    return 2;
  }
  const progress = process.stderr.isTTY ? progressLine() : undefined;
  const report = await verifyDcp(dir, { onProgress: progress?.update });
  progress?.done();
  process.stdout.write((parsed.values.json ? JSON.stringify(report, null, 2) : report.summary) + '\n');
  return report.ok ? 0 : 1;
}

/** One self-overwriting stderr line, redrawn at most a few times a second. */
function progressLine(): { update: (done: number, total: number) => void; done: () => void } {
  let last = 0;
  let shown = false;
  return {
    update: (done, total) => {
      const now = Date.now();
      if (now - last < 200 && done < total) return;
      last = now;
      shown = true;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      process.stderr.write(`\rchecking checksums: ${pct}% (${formatBytes(done)} of ${formatBytes(total)})\x1b[K`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
