// `cineswarm leave --group ID [--delete] [--config FILE]`: the running agent drops the group from
// its config and retires its DCPs (files kept, or removed with --delete; a DCP another joined group
// offers stays); with no agent running, the config file (and the deletion intent) is written here.
import { parseArgs } from 'node:util';
import { loadConfig } from '../agent/config/config.js';
import { editConfigGroups, leaveGroup, markGroupForDeletion } from '../agent/config/membership.js';
import { DEFAULT_CONFIG } from './join.js';
import { callAgent, runningAgentUrl } from './local-agent.js';

const HELP = `usage: cineswarm leave --group ID [--delete] [--config FILE]

Leaves a group: the agent stops polling it and its DCPs become retired (seeding stops; the files
stay, exempt from retention.keepDays, until removed by hand). A DCP another joined group offers stays.

  --group ID          the group to leave
  --delete            remove the group's DCPs (download and ingest copies) instead of keeping them;
                      never one another group offers or one marked in use
  --config FILE       the agent config (default /etc/cineswarm/agent.json)`;

export async function run(argv: string[]): Promise<number> {
  const fail = (m: string, code = 1) => {
    process.stderr.write(`cineswarm leave: ${m}\n`);
    return code;
  };
  let v: { group?: string; config?: string; delete?: boolean; help?: boolean };
  try {
    ({ values: v } = parseArgs({ args: argv, options: { group: { type: 'string' }, config: { type: 'string' }, delete: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
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
      const r = await callAgent(agent.url, config.web?.password, 'DELETE', `/api/groups/${encodeURIComponent(id)}${v.delete ? '?delete=true' : ''}`);
      if (r.status !== 200) return fail(r.body.message ?? `the agent answered ${r.status}`);
      process.stdout.write(`${r.body.message}\n`);
      return 0;
    }
    await editConfigGroups(file, (groups) => leaveGroup(groups, id));
    if (v.delete) {
      const n = await markGroupForDeletion(config.dataDir, id);
      process.stdout.write(`Left group ${id} in ${file}; no agent runs now. Its ${n} DCP${n === 1 ? ' is' : 's are'} removed when the agent next starts.\n`);
      return 0;
    }
    process.stdout.write(`Left group ${id} in ${file}; no agent runs now.\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
