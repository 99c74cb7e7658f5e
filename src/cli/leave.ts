// `cineswarm leave --group ID [--config FILE]`: the running agent drops the group from its config
// and retires its DCPs (files kept; a DCP another joined group offers stays); with no agent
// running, the config file is written here.
import { parseArgs } from 'node:util';
import { loadConfig } from '../agent/config/config.js';
import { editConfigGroups, leaveGroup } from '../agent/config/membership.js';
import { DEFAULT_CONFIG } from './join.js';
import { callAgent, runningAgentUrl } from './local-agent.js';

const HELP = `usage: cineswarm leave --group ID [--config FILE]

Leaves a group: the agent stops polling it and its DCPs become retired (seeding stops; the files
stay until the retention of the config removes them). A DCP another joined group offers stays.

  --group ID          the group to leave
  --config FILE       the agent config (default /etc/cineswarm/agent.json)`;

export async function run(argv: string[]): Promise<number> {
  const fail = (m: string, code = 1) => {
    process.stderr.write(`cineswarm leave: ${m}\n`);
    return code;
  };
  let v: { group?: string; config?: string; help?: boolean };
  try {
    ({ values: v } = parseArgs({ args: argv, options: { group: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!v.group) return fail('--group ID is required', 2);
  const file = v.config ?? DEFAULT_CONFIG;
  const id = v.group;
  try {
    const config = await loadConfig(file);
    const agent = await runningAgentUrl(config);
    if (agent) {
      if (!agent.url) return fail(`the agent runs (pid ${agent.pid}) without its local API (no "web" in ${file}); remove the group from ${file} and send it SIGHUP`);
      const r = await callAgent(agent.url, config.web?.password, 'DELETE', `/api/groups/${encodeURIComponent(id)}`);
      if (r.status !== 200) return fail(r.body.message ?? `the agent answered ${r.status}`);
      process.stdout.write(`${r.body.message}\n`);
      return 0;
    }
    await editConfigGroups(file, (groups) => leaveGroup(groups, id));
    process.stdout.write(`Left group ${id} in ${file}; no agent runs now.\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
