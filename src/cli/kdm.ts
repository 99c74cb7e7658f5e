// `cineswarm kdm inspect FILE [--json]` and `cineswarm kdm send FILE... --server URL --group ID
// --owner-password OPW [--peer ID]`: read a KDM as a cinema would judge it, and hand KDMs to a group.
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DcpError, examineKdm, MAX_KDM_BYTES, type KdmExamination } from '../dcp/index.js';
import { sendKdm } from './kdm-send.js';
import { requireSecret } from './secrets.js';

const USAGE = `usage: cineswarm kdm inspect FILE [--json] [--at DATE]
       cineswarm kdm send FILE... --server URL --group ID --owner-password OPW [--peer ID]

inspect  prints what a KDM says: message id, composition, title, validity window,
         recipient, key ids, and which certificate chain signed it (checked with
         xmlsec1). --at DATE judges the window at another time (ISO 8601).
         Exit 0 when the KDM is signed and inside its window, 1 when not, 2 usage.
send     uploads each KDM to the group; the server routes it to the peer named by
         --peer, or to every peer whose registered certificate is its recipient.
         One line per file. The owner password may also come from
         --owner-password-file F or CINESWARM_OWNER_PASSWORD.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'inspect') return inspect(rest);
  if (sub === 'send') return send(rest);
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  process.stderr.write(`cineswarm kdm: ${sub ? `unknown sub-command '${sub}'` : 'give a sub-command'}\n${USAGE}\n`);
  return 2;
}

function fail(msg: string, code: number): number {
  process.stderr.write(`cineswarm kdm: ${msg}\n`);
  return code;
}

async function readKdmFile(file: string): Promise<Buffer> {
  const st = await fs.stat(file).catch(() => null);
  if (!st || !st.isFile()) throw new Error(`${file} is not a file that can be read`);
  if (st.size > MAX_KDM_BYTES) throw new Error(`${file} is ${st.size} bytes; a KDM is at most ${MAX_KDM_BYTES} bytes`);
  return fs.readFile(file);
}

async function inspect(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, at: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.positionals.length !== 1) return fail('kdm inspect takes exactly one file', 2);
  const clock = parsed.values.at === undefined ? new Date() : new Date(parsed.values.at);
  if (Number.isNaN(clock.getTime())) return fail(`--at '${parsed.values.at}' is not a date (use ISO 8601, e.g. 2026-12-01T00:00:00Z)`, 2);
  const file = parsed.positionals[0]!;
  let exam: KdmExamination;
  try {
    exam = await examineKdm(await readKdmFile(file), file, { clock });
  } catch (err) {
    return fail(err instanceof DcpError ? err.message : (err as Error).message, 1);
  }
  if (parsed.values.json) {
    const { facts, signature, verdict } = exam;
    process.stdout.write(JSON.stringify({ ...facts, signature, state: verdict.state, message: verdict.message, clock: clock.toISOString() }, null, 2) + '\n');
  } else {
    process.stdout.write(describe(exam) + '\n');
  }
  return exam.verdict.state === 'valid' ? 0 : 1;
}

function describe({ facts: k, signature, verdict }: KdmExamination): string {
  const types = new Map<string, number>();
  for (const key of k.keys) types.set(key.type, (types.get(key.type) ?? 0) + 1);
  const lines = [
    `KDM ${k.messageId}: ${verdict.state}: ${verdict.message}`,
    `  title        ${k.title ?? '(none)'}`,
    `  annotation   ${k.annotation ?? '(none)'}`,
    `  composition  ${k.cplId}`,
    `  valid        ${k.notValidBefore} .. ${k.notValidAfter}`,
    `  issued       ${k.issueDate}`,
    `  recipient    ${k.recipient.subject}`,
    `               issuer ${k.recipient.issuer}, serial ${k.recipient.serial}`,
    `               dnQualifier ${k.recipient.dnQualifier ?? '(none)'}`,
    `  keys         ${k.keys.length} (${[...types].map(([t, n]) => `${n} ${t}`).join(', ')})`,
    ...k.keys.map((key) => `               ${key.type} ${key.id}`),
    `  signature    ${signature.state}: ${signature.message}`,
    ...signature.chain.map((c, i) => `               ${i === 0 ? 'signer' : 'then  '} ${c.subject} (serial ${c.serial}, ${c.notBefore.slice(0, 10)} .. ${c.notAfter.slice(0, 10)}${c.validAtClock ? '' : ', not valid now'})`),
  ];
  return lines.join('\n');
}

async function send(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        server: { type: 'string' }, group: { type: 'string' }, peer: { type: 'string' },
        'owner-password': { type: 'string' }, 'owner-password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.positionals.length === 0) return fail('kdm send needs at least one KDM file', 2);
  for (const k of ['server', 'group'] as const) if (!v[k]) return fail(`--${k} is required`, 2);
  let password: string;
  try {
    password = await requireSecret({ flag: 'owner-password', value: v['owner-password'], file: v['owner-password-file'], env: 'CINESWARM_OWNER_PASSWORD' });
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  let failed = 0;
  for (const file of parsed.positionals) {
    let line: string;
    try {
      const r = await sendKdm({ server: v.server!, group: v.group!, password, peer: v.peer, xml: await readKdmFile(file) });
      line = r.peers.length > 0
        ? `${file}: KDM ${r.messageId} (${r.title ?? r.cplId}) routed to ${r.peers.join(', ')}`
        : `${file}: KDM ${r.messageId} (${r.title ?? r.cplId}) stored; no peer of the group has registered its recipient ${r.recipient.subject} yet`;
    } catch (err) {
      failed++;
      line = `${file}: refused: ${(err as Error).message}`;
    }
    process.stdout.write(line + '\n');
  }
  return failed === 0 ? 0 : 1;
}
