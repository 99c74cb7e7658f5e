// Wrong group passwords: failure-only limits per source and per group (429 + Retry-After, one log
// line per burst), known cinemas never locked out, and an unknown group indistinguishable from a
// wrong password (same 401, same scrypt work).
import test from 'ava';
import { basic, createGroup, startServer } from './helpers.js';
import { logSink } from '../helpers/log-sink.js';

const PW = 'right-password';

function list(app: Awaited<ReturnType<typeof startServer>>['app'], group: string, password: string, from = '127.0.0.1') {
  return app.inject({ url: `/api/groups/${group}/torrents`, headers: { authorization: basic(group, password) }, remoteAddress: from });
}

test('one source sending wrong passwords gets 429 with Retry-After after the limit, logged once; others are unaffected', async (t) => {
  let now = 1_000_000;
  const { logger, lines } = logSink();
  const { app } = await startServer(t, { logger, now: () => now, authLimits: { perSource: 5, perGroup: 1000, windowSeconds: 60 } });
  await createGroup(app, 'g', PW);
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await list(app, 'g', `guess-${i}`, '127.0.0.66')).statusCode);
  t.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
  const refused = await list(app, 'g', 'guess-x', '127.0.0.66');
  t.is(refused.json<{ error: string }>().error, 'TOO_MANY_FAILURES');
  t.regex(refused.json<{ message: string }>().message, /too many wrong passwords from your address; try again in \d+ s/);
  t.is(refused.headers['retry-after'], '60');
  const burst = lines.filter((l) => /too many wrong group passwords from 127\.0\.0\.66/.test(l.msg));
  t.is(burst.length, 1, 'one line for the burst, not one per refusal');
  // another cinema of the group is not touched
  t.is((await list(app, 'g', PW, '127.0.0.2')).statusCode, 200);
  // a password that verified before still works from the blocked address (one HMAC, no scrypt)
  t.is((await list(app, 'g', PW, '127.0.0.66')).statusCode, 200);
  now += 31_000;
  t.is((await list(app, 'g', 'guess-y', '127.0.0.66')).headers['retry-after'], '29');
  now += 30_000;
  t.is((await list(app, 'g', 'guess-z', '127.0.0.66')).statusCode, 401, 'the window passed: checked again');
});

test('a group under attack from many addresses refuses new guesses, never its cinemas', async (t) => {
  const { logger, lines } = logSink();
  const { app } = await startServer(t, { logger, authLimits: { perSource: 1000, perGroup: 8, windowSeconds: 60 } });
  await createGroup(app, 'g', PW);
  t.is((await list(app, 'g', PW, '127.0.1.1')).statusCode, 200, 'a cinema polls before the attack');
  const statuses: number[] = [];
  for (let i = 0; i < 16; i++) statuses.push((await list(app, 'g', `guess-${i}`, `127.0.2.${i + 1}`)).statusCode);
  t.deepEqual(statuses, [...Array(8).fill(401), ...Array(8).fill(429)]);
  t.is(lines.filter((l) => /too many wrong passwords for group 'g'/.test(l.msg)).length, 1);
  // the cinema that proved the password, and any address sending a password known good, get in
  t.is((await list(app, 'g', PW, '127.0.1.1')).statusCode, 200);
  t.is((await list(app, 'g', PW, '127.0.3.3')).statusCode, 200);
  // another group is not limited
  await createGroup(app, 'h', 'other');
  t.is((await list(app, 'h', 'nope', '127.0.2.50')).statusCode, 401);
});

test('1,000 agents polling from one address pass, also while one of them keeps a wrong password', async (t) => {
  const { app } = await startServer(t, { authLimits: { perSource: 20, perGroup: 100, windowSeconds: 60 } });
  await createGroup(app, 'g', PW);
  let ok = 0;
  for (let i = 0; i < 1000; i++) {
    if (i % 40 === 0) await list(app, 'g', 'stale-password');
    if ((await list(app, 'g', PW)).statusCode === 200) ok++;
  }
  t.is(ok, 1000);
});

// Serial: AVA runs serial tests before the concurrent ones, so the process's CPU below is this
// test's alone (the 1,000-agent test beside it does its own scrypt work when run alongside).
test.serial('an unknown group answers exactly as a wrong password does, after the same scrypt work', async (t) => {
  const { app } = await startServer(t);
  await createGroup(app, 'real', PW);
  const wrong = await list(app, 'real', 'nope');
  const ghost = await list(app, 'ghost', 'nope');
  t.is(ghost.statusCode, 401);
  t.is(ghost.statusCode, wrong.statusCode);
  t.deepEqual(ghost.json(), { error: 'BAD_CREDENTIALS', message: "wrong group id or password for group 'ghost'" });
  t.deepEqual(wrong.json(), { error: 'BAD_CREDENTIALS', message: "wrong group id or password for group 'real'" });
  t.is(ghost.headers['www-authenticate'], wrong.headers['www-authenticate']);
  const none = await app.inject({ url: '/api/groups/ghost/torrents' });
  t.is(none.statusCode, 401);
  t.is(none.json<{ error: string }>().error, 'AUTH_REQUIRED');
  // Work, not wall time: CPU spent by the process (scrypt runs on libuv's threads, counted too).
  const cpu = async (group: string): Promise<number> => {
    const start = process.cpuUsage();
    for (let i = 0; i < 8; i++) await list(app, group, `nope-${i}`, `127.0.5.${i}`);
    const d = process.cpuUsage(start);
    return d.user + d.system;
  };
  const wrongCpu = await cpu('real');
  const ghostCpu = await cpu('ghost');
  t.true(ghostCpu > wrongCpu * 0.5, `unknown group ${ghostCpu} µs vs wrong password ${wrongCpu} µs of CPU`);
});
