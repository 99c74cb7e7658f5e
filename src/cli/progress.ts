// Progress of long work (verifying, hashing) on the terminal: one line redrawn in place with
// percent, rate and time left on a TTY; elsewhere a plain line every few seconds, for logs.
import { formatDuration, formatRate, formatSize } from './format.js';

const PLAIN_EVERY_MS = 5000;
const TTY_EVERY_MS = 200;

export interface ProgressLine {
  update(done: number, total: number): void;
  /** ends the line (prints the final figures once) */
  finish(): void;
}

export function progressLine(label: string, out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressLine {
  const tty = out.isTTY === true;
  const started = now();
  let last = 0;
  let lastDone = 0;
  let lastTotal = 0;
  let printed = false;
  let finished = false;
  const line = (done: number, total: number): string => {
    const secs = (now() - started) / 1000;
    const bps = secs > 0 ? done / secs : 0;
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '0.0';
    const eta = bps > 0 && total > done ? formatDuration((total - done) / bps) : done >= total ? '0 s' : '–';
    return `${label}: ${pct}% of ${formatSize(total)} at ${formatRate(bps)}, ${eta} left`;
  };
  return {
    update(done, total) {
      lastDone = done;
      lastTotal = total;
      const t = now();
      if (t - last < (tty ? TTY_EVERY_MS : PLAIN_EVERY_MS) && done < total) return;
      last = t;
      printed = true;
      out.write(tty ? `\r\x1b[2K${line(done, total)}` : `${line(done, total)}\n`);
    },
    finish() {
      // Callers finish a stage when the next one reports, so this may come many times.
      if (finished || (!printed && lastTotal === 0)) return;
      finished = true;
      const secs = (now() - started) / 1000;
      const text = `${label}: done, ${formatSize(lastTotal || lastDone)} in ${formatDuration(secs)}`;
      out.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}
