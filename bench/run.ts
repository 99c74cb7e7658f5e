// `make bench`: runs every bench/*.bench.ts in turn, each in its own process, and
// passes their `BENCH ...` lines through. A failing benchmark is reported and the rest still run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failures = 0;
for (const f of files) {
  process.stderr.write(`--- ${f}\n`);
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failures++;
    process.stderr.write(`bench ${f} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exit(failures === 0 ? 0 : 1);
