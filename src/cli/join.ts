// `cineswarm join --group ID --password PW [--config FILE]`: checks the member password against
// the server, then has the running agent add the group (it owns its config file); with no agent
// running, writes the config file itself. A refusal changes nothing.
import { parseArgs } from 'node:util';
import { loadConfig } from '../agent/config/config.js';
import { checkGroupCredentials, editConfigGroups, joinGroup } from '../agent/config/membership.js';
import { callAgent, runningAgentUrl } from './local-agent.js';
import { requireSecret } from './secrets.js';

const HELP = `usage: cineswarm join --group ID (--password PW | --password-file F) [--config FILE]

Joins a group: its DCPs download with the agent's next poll, without a restart.
The password is checked against the server first; a refusal changes nothing.

  --group ID          the group id the distributor gave you
  --password PW       the group's member password (or --password-file F, or CINESWARM_PASSWORD)
  --config FILE       the agent config (default /etc/cineswarm/agent.json)`;

export const DEFAULT_CONFIG = '/etc/cineswarm/agent.json';

export async function run(argv: string[]): Promise<number> {
  const fail = (m: string, code = 1) => {
    process.stderr.write(`cineswarm join: ${m}\n`);
    return code;
  };
  let v: { group?: string; password?: string; 'password-file'?: string; config?: string; help?: boolean };
  try {
    ({ values: v } = parseArgs({ args: argv, options: { group: { type: 'string' }, password: { type: 'string' }, 'password-file': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!v.group) return fail('--group ID is required', 2);
  const file = v.config ?? DEFAULT_CONFIG;
  try {
    const password = await requireSecret({ flag: 'password', value: v.password, file: v['password-file'], env: 'CINESWARM_PASSWORD' });
    const config = await loadConfig(file);
    const g = { id: v.group, password };
    await checkGroupCredentials(config.server, g);
    const agent = await runningAgentUrl(config);
    if (agent) {
      if (!agent.url) return fail(`the agent runs (pid ${agent.pid}) without its local API (no "web" in ${file}); add the group to ${file} and send it SIGHUP`);
      const r = await callAgent(agent.url, config.web?.password, 'POST', '/api/groups', g);
      if (r.status !== 200) return fail(r.body.message ?? `the agent answered ${r.status}`);
      process.stdout.write(`${r.body.message}\n`);
      return 0;
    }
    await editConfigGroups(file, (groups) => joinGroup(groups, g));
    process.stdout.write(`Joined group ${g.id} in ${file}; no agent runs now, it follows the group when it starts.\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
