// What `cineswarm seed` and `publish --seed --data` print for a person: one line per DCP as it starts
// seeding, is re-checked or is refused, and the wait for Ctrl-C / SIGTERM.
import type { SeederEvent } from '../publish/seeder.js';

const FROM: Record<string, string> = {
  'resume-data': 'from its resume data',
  'seed-mode': 'as published (pieces checked as they are first asked for)',
  recheck: 'after a re-check found every piece intact',
};

/** A printer for the command named (its refusals on stderr start with `cineswarm <command>:`). */
export const seederPrinter = (command: string) => (e: SeederEvent): void => {
  switch (e.type) {
    case 'seeding':
      process.stdout.write(`seeding ${e.record.name} to group ${e.record.group} ${FROM[e.from]}\n`);
      return;
    case 'rechecking':
      process.stdout.write(`re-checking ${e.record.name} before serving it: ${e.changes.map((c) => `${c.path} ${c.detail}`).join('; ')}\n`);
      return;
    case 'refused':
      process.stderr.write(`cineswarm ${command}: not seeding ${e.record.name}: ${e.reason}\n`);
      return;
    case 'withdrawn':
      process.stdout.write(`${e.record.name} was withdrawn from group ${e.record.group}: no longer seeding it\n`);
      return;
    case 'broken-record':
      process.stderr.write(`cineswarm ${command}: skipping ${e.file}: ${e.reason}\n`);
  }
};

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** libtorrent moves to the next port when the one asked for is taken: say so, a firewall may expect it. */
export function listenNote(listen: string, actual: number): string {
  const asked = Number(/:(\d+)$/.exec(listen)?.[1] ?? 0);
  return asked > 0 && asked !== actual ? ` (port ${asked} was taken: open ${actual} instead, or free ${asked} and restart)` : '';
}
