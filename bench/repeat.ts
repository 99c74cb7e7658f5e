// `make bench-repeat RUNS=3 ONLY="swarm-eff ingest"`: runs the chosen benchmarks RUNS times, one
// after the other (each run in its own processes, as `make bench` does), passes every line through,
// and ends with one line per figure giving min / median / max of its value and of its ratio, the
// form in which figures are quoted (one run on a shared machine says little).
//   RUNS (default 3); ONLY: parts of bench file names (default: every bench)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.RUNS || 3);
const only = (process.env.ONLY ?? '').split(/[\s,]+/).filter(Boolean);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();

interface Sample {
  value: number;
  unit: string;
  ratio: number | undefined;
  ref: string;
}

const samples = new Map<string, Sample[]>();
const BENCH = /^BENCH (\S+) (\S+) (\S+) ratio=(\S+) ref=(\S+)/;

function runOnce(file: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import=tsx', path.join(here, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (c: Buffer) => {
      process.stdout.write(c);
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const m = BENCH.exec(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (!m) continue;
        const list = samples.get(m[1]!) ?? [];
        const ratio = Number(m[4]);
        list.push({ value: Number(m[2]), unit: m[3]!, ratio: Number.isFinite(ratio) ? ratio : undefined, ref: m[5]! });
        samples.set(m[1]!, list);
      }
    });
    p.on('exit', (code) => resolve(code ?? 1));
  });
}

const spread = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
  return `${f(s[0]!)}/${f(s[Math.floor((s.length - 1) / 2)]!)}/${f(s[s.length - 1]!)}`;
};

let failures = 0;
for (let r = 1; r <= runs; r++) {
  for (const f of files) {
    process.stderr.write(`--- run ${r} of ${runs}: ${f} (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`);
    if ((await runOnce(f)) !== 0) {
      failures++;
      process.stderr.write(`bench ${f} failed in run ${r}\n`);
    }
  }
}
console.log(`\nmin/median/max over ${runs} runs:`);
for (const [name, list] of samples) {
  const ratios = list.flatMap((s) => (s.ratio === undefined ? [] : [s.ratio]));
  console.log(`SUMMARY ${name} ${spread(list.map((s) => s.value))} ${list[0]!.unit} ratio=${ratios.length ? spread(ratios) : 'n/a'} ref=${list[0]!.ref} (${list.length} runs)`);
}
process.exit(failures === 0 ? 0 : 1);
