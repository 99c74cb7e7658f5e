// Runs the ava suite and ends with one plain summary line, "N passed, N failed",
// that CI reads whatever ava's own wording of the moment is.
import { spawn } from 'node:child_process';

// The runtime the suite runs on, first, so a log shows which Node.js passed or failed.
console.log(`runtime: Node.js ${process.version} (${process.execPath})`);
const child = spawn('npx', ['ava', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
// ava's closing lines only count passes when nothing failed, so the verbose per-test marks are
// counted too and the larger figure wins.
let passed = 0;
let failed = 0;
let ticks = 0;
let crosses = 0;
let tail = '';
function scan(chunk, out) {
  out.write(chunk);
  tail += chunk.toString();
  const lines = tail.split('\n');
  tail = lines.pop() ?? '';
  for (const line of lines) {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '').trim();
    let m;
    if (plain.startsWith('✔')) ticks++;
    else if (plain.startsWith('✘')) crosses++;
    if ((m = /^(\d+) tests? passed/.exec(plain))) passed = Number(m[1]);
    else if ((m = /^(\d+) tests? failed/.exec(plain))) failed += Number(m[1]);
    else if ((m = /^(\d+) (uncaught exceptions?|unhandled rejections?|tests? remained pending after a timeout)/.exec(plain))) failed += Number(m[1]);
  }
}
child.stdout.on('data', (c) => scan(c, process.stdout));
child.stderr.on('data', (c) => scan(c, process.stderr));
child.on('close', (code) => {
  passed = Math.max(passed, ticks);
  failed = Math.max(failed, crosses);
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? 1);
});
