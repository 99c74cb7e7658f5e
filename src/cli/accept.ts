// `cineswarm accept NAME [--agent URL] [--config FILE]`: accepts the re-release of a DCP a group
// offers under a name this agent already has. The running agent (found by the pid file in the
// config's dataDir, or at --agent) downloads it into its own folder, verifies it, and swaps the
// name in ingest to it; the old version is retired and the decision reported to the server.
import { parseArgs } from 'node:util';
import { loadConfig, type AgentConfig } from '../agent/config/config.js';
import { DEFAULT_CONFIG } from './join.js';
import { callAgent, runningAgentUrl } from './local-agent.js';

const HELP = `usage: cineswarm accept NAME [--agent URL] [--config FILE]

Accepts the re-release of NAME: a group offers a DCP of that name with other content than the one
here (cineswarm status lists it under "re-releases"). The new version downloads beside the old
one, is verified, and then takes the name in the ingest folder in one step; the old version is
retired, and the server is told of the decision.

  --agent URL     the agent's web address (default: the running agent of the config)
  --config FILE   the agent config, for its dataDir and web password (default /etc/cineswarm/agent.json);
                  with --agent and no readable config, the web password comes from CINESWARM_WEB_PASSWORD`;

export async function run(argv: string[]): Promise<number> {
  const fail = (m: string, code = 1) => {
    process.stderr.write(`cineswarm accept: ${m}\n`);
    return code;
  };
  let v: { agent?: string; config?: string; help?: boolean };
  let names: string[];
  try {
    ({ values: v, positionals: names } = parseArgs({ args: argv, options: { agent: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (names.length !== 1 || !names[0]) return fail('give the name of one DCP: cineswarm accept NAME', 2);
  const file = v.config ?? DEFAULT_CONFIG;
  try {
    let config: AgentConfig | undefined;
    try {
      config = await loadConfig(file);
    } catch (err) {
      if (!v.agent || v.config) throw err;
    }
    let url = v.agent?.replace(/\/+$/, '');
    if (!url) {
      const agent = await runningAgentUrl(config!);
      if (!agent) return fail(`no agent runs on ${config!.dataDir}; start it first (accepting needs the running agent)`);
      if (!agent.url) return fail(`the agent runs (pid ${agent.pid}) without its local API (no "web" in ${file})`);
      url = agent.url;
    }
    const password = config?.web?.password ?? process.env.CINESWARM_WEB_PASSWORD;
    const r = await callAgent(url, password, 'POST', '/api/accept', { name: names[0] });
    if (r.status !== 200) return fail(r.body.message ?? `the agent answered ${r.status}`);
    process.stdout.write(`${r.body.message}\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
