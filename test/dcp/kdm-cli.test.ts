// `cineswarm kdm inspect` and `kdm send` as a user runs them: real processes, a real server on
// 127.0.0.1, the fixture KDMs; one line per KDM sent.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KDM_FIXTURES } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { startCliServer } from '../server/cli-process.js';
import { runCli } from '../helpers/cli.js';

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, env);

const kdm = (n: string) => path.join(KDM_FIXTURES, n);

test('inspect tells the facts and the signer; --json carries them for scripts', async (t) => {
  const human = await cli(['kdm', 'inspect', kdm('libdcp_other_kdm_smpte.xml'), '--at', '2026-12-01T00:00:00Z']);
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /KDM 30b00f08-6fcf-414a-8924-831fd4daf05d: valid/);
  t.regex(human.stdout, /composition\s+67334526-342c-475d-bb64-d8fd8318f954/);
  t.regex(human.stdout, /keys\s+2 \(1 MDIK, 1 MDAK\)/);
  t.regex(human.stdout, /signer dnQualifier=Xui\/npr176RqhCWNhH5K\\\+kwD06U=,CN=CS\.dcpomatic\.smpte-430-2\.LEAF/);
  const json = await cli(['kdm', 'inspect', kdm('clairmeta_ECL29.xml'), '--json', '--at', '2026-12-01T00:00:00Z']);
  t.is(json.code, 1, 'an expired KDM exits 1');
  const facts = JSON.parse(json.stdout) as { state: string; cplId: string; keys: unknown[]; signature: { state: string; chain: unknown[] } };
  t.is(facts.state, 'expired');
  t.is(facts.cplId, '27f3b280-6b7b-4569-bd3c-c706b746027f');
  t.is(facts.keys.length, 12);
  t.is(facts.signature.state, 'valid');
  t.is(facts.signature.chain.length, 5);
  const bad = await cli(['kdm', 'inspect', kdm('broken_truncated_other_kdm.xml')]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^cineswarm kdm: .*not valid XML.*\n$/);
  t.is((await cli(['kdm', 'inspect'])).code, 2);
});

test('send prints one line per KDM: routed to whom, or why refused', async (t) => {
  const data = await tempDir(t);
  const server = await startCliServer(t, ['--data', data, '--open-groups']);
  const created = await fetch(`${server.url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'grp', password: 'pw', ownerPassword: 'opw' }) });
  t.is(created.status, 201);
  const cert = await fs.readFile(kdm('libdcp_other_kdm_smpte.target.pem'));
  const put = await fetch(`${server.url}/api/groups/grp/peers/cinema-a/certificates`, {
    method: 'PUT', body: cert, headers: { 'content-type': 'application/x-pem-file', authorization: `Basic ${Buffer.from('grp:opw').toString('base64')}` },
  });
  t.is(put.status, 204);
  const r = await cli(['kdm', 'send', kdm('libdcp_other_kdm_smpte.xml'), kdm('broken_truncated_other_kdm.xml'), kdm('libdcp_other_kdm_smpte.xml'),
    '--server', server.url, '--group', 'grp'], { CINESWARM_OWNER_PASSWORD: 'opw' });
  t.is(r.code, 1, 'one refusal makes the run fail');
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, 3);
  t.regex(lines[0]!, /libdcp_other_kdm_smpte\.xml: KDM 30b00f08-.* routed to cinema-a$/);
  t.regex(lines[1]!, /broken_truncated_other_kdm\.xml: refused: .*not valid XML/);
  t.regex(lines[2]!, /refused: .*already holds the KDM/);
  const wrong = await cli(['kdm', 'send', kdm('clairmeta_ECL29.xml'), '--server', server.url, '--group', 'grp', '--owner-password', 'nope']);
  t.is(wrong.code, 1);
  t.regex(wrong.stdout, /refused: .*(wrong group id or password|refused the credentials)/);
  t.is((await cli(['kdm', 'send', kdm('clairmeta_ECL29.xml'), '--server', server.url, '--group', 'grp'], { CINESWARM_OWNER_PASSWORD: '' })).code, 2);
});
