// `cineswarm deliveries --server URL --group ID --owner-password OPW [--json] [--watch]`: the
// distributor's view of every delivery of a group on the terminal, in the console page's words
// (protocol/web-assets/deliveries.js): a table per DCP with totals, and what needs attention.
import { parseArgs } from 'node:util';
import { ApiError, ServerClient, type GroupAuth, type GroupStatus, type RosterEntry } from '../protocol/index.js';
import { attention, isSeeder, sinceLastReport, stateWords, totals, verifyWords, who } from '../protocol/web-assets/deliveries.js';
import { ago, bytes, duration, rate } from '../util/web-assets/format.js';
import { readSecret, SecretError, secretOptions } from './secrets.js';

const HELP = `usage: cineswarm deliveries --server URL --group ID --owner-password OPW [--json] [--watch]

Every DCP of the group × every cinema that reported or is on the roster: state, progress, rate,
ETA and last report, with totals per DCP and what needs attention.

  --server URL                the central server, e.g. http://seed.example:8600
  --group ID                  the group
  --owner-password OPW        the group's owner password (or --owner-password-file F,
                              or CINESWARM_OWNER_PASSWORD)
  --json                      the status document merged with the roster, each peer flagged
  --watch                     print again every 5 s (redrawn in place on a terminal); Ctrl-C ends

Exit 0 once printed, whatever the states; 1 when the server refuses or cannot be reached; 2 usage.`;

const WATCH_MS = 5000;

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The status document with the roster beside it, as --json prints it. */
export interface DeliveriesDocument extends GroupStatus {
  at: string;
  roster: RosterEntry[];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function renderDeliveries(d: DeliveriesDocument, nowMs: number): string {
  const out: string[] = [`group ${d.group}: ${count(d.torrents.filter((t) => !t.retired).length, 'DCP')}, ${count(d.roster.length, 'cinema')} on the roster   (${new Date(nowMs).toISOString()})`];
  const notes: string[] = [];
  if (d.torrents.length === 0) out.push('', 'no DCP has been published in this group yet');
  for (const t of d.torrents) {
    const sum = totals(t);
    out.push('', `${t.name}  ${bytes(t.size)}${t.retired ? `  ${t.retired.reason} ${t.retired.at}` : ''}  —  ${sum.text}`);
    const seeders = t.peers.filter(isSeeder);
    out.push(seeders.length ? `  seeders: ${seeders.map((s) => `${who(s)} ${s.state} up ${rate(s.uploadBps ?? 0)} (${ago(sinceLastReport(s, nowMs))})`).join(', ')}` : '  seeders: none reporting');
    const cinemas = t.peers.filter((p) => !isSeeder(p));
    const rows = [['  CINEMA', 'STATE', 'PROGRESS', 'RATE', 'ETA', 'LAST SEEN', 'FLAG', 'VERIFY']];
    for (const p of cinemas) {
      const down = ['downloading', 'checking', 'queued'].includes(p.state) && p.downloadBps ? `down ${rate(p.downloadBps)}` : '';
      const up = p.state !== 'retired' && p.uploadBps ? `up ${rate(p.uploadBps)}` : '';
      rows.push([
        `  ${who(p)}`,
        stateWords(p),
        `${(p.progress * 100).toFixed(1)}%`,
        [down, up].filter(Boolean).join(' ') || '–',
        p.state === 'downloading' ? duration(p.etaSeconds) : '–',
        ago(sinceLastReport(p, nowMs)),
        p.flag,
        p.verify?.state === 'failed' ? `failed (${p.verify.failed.length} files)` : verifyWords(p.verify),
      ]);
      const n = attention(t, p, nowMs, d.group);
      if (n) notes.push(n);
    }
    out.push(cinemas.length ? table(rows) : '  no cinema has reported on it, and the roster is empty');
  }
  if (notes.length) out.push('', 'needs attention:', ...notes.map((n) => `  - ${n}`));
  return out.join('\n');
}

async function read(client: ServerClient, owner: GroupAuth): Promise<DeliveriesDocument> {
  const [status, roster] = await Promise.all([client.groupStatus(owner), client.roster(owner)]);
  return { ...status, at: new Date().toISOString(), roster };
}

function fail(message: string, code: number): number {
  process.stderr.write(`cineswarm deliveries: ${message}\n`);
  return code;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { server: { type: 'string' }, group: { type: 'string' }, ...secretOptions('owner-password'), json: { type: 'boolean' }, watch: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    return fail(`${(err as Error).message}\n${HELP}`, 2);
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  for (const k of ['server', 'group'] as const) if (!values[k]) return fail(`--${k} is required\n${HELP}`, 2);
  let password: string | undefined;
  try {
    password = await readSecret({ flag: 'owner-password', value: values['owner-password'], file: values['owner-password-file'], env: 'CINESWARM_OWNER_PASSWORD' });
  } catch (err) {
    if (err instanceof SecretError) return fail(err.message, 2);
    throw err;
  }
  if (!password) return fail('--owner-password is required (or --owner-password-file F, or CINESWARM_OWNER_PASSWORD)', 2);
  if (!/^https?:\/\/[^/]+/.test(values.server!)) return fail(`--server must be an http(s) URL such as http://seed.example:8600, not '${values.server}'`, 2);
  const client = new ServerClient(values.server!.replace(/\/+$/, ''));
  const owner = { id: values.group!, password };
  const print = (d: DeliveriesDocument, redraw: boolean) => {
    const text = values.json ? JSON.stringify(d, null, 2) : renderDeliveries(d, Date.now());
    // On a terminal --watch redraws the screen; piped, each picture follows the last.
    process.stdout.write(`${redraw ? '\x1b[H\x1b[2J' : ''}${text}\n`);
  };
  const tty = Boolean(process.stdout.isTTY);
  try {
    print(await read(client, owner), Boolean(values.watch) && tty);
  } catch (err) {
    return fail(err instanceof ApiError ? err.message : (err as Error).message, 1);
  }
  if (!values.watch) return 0;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout;
    const stop = () => {
      clearTimeout(timer);
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const again = async () => {
      try {
        print(await read(client, owner), tty);
      } catch (err) {
        // A refused password will not come right by itself; a server that is away may.
        if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(fail(err.message, 1));
          return;
        }
        process.stderr.write(`cineswarm deliveries: ${(err as Error).message}; trying again in ${WATCH_MS / 1000} s\n`);
      }
      timer = setTimeout(() => void again(), WATCH_MS);
    };
    timer = setTimeout(() => void again(), WATCH_MS);
  });
}
