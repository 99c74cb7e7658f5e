// `cineswarm agent --config FILE`: runs the cinema agent until SIGTERM/SIGINT, then stops cleanly
// (resume data saved, history flushed). SIGHUP re-reads the config: groups, poll timing, bandwidth
// rules and the free-space reserve apply at once; settings read at start wait for a restart.
import { parseArgs } from 'node:util';
import { loadConfig } from '../agent/config/config.js';
import { Agent } from '../agent/agent.js';
import { log } from '../util/log.js';
import { Membership } from '../agent/config/membership.js';
import { removePidFile, writePidFile } from '../agent/web/pid-file.js';

const HELP = `usage: cineswarm agent --config FILE

Runs the cinema agent: joins the groups in FILE, polls the server, downloads, verifies and
ingests DCPs, and keeps seeding them for the group.

  --config FILE   agent configuration (JSON), e.g. /etc/cineswarm/agent.json
  --help          this text

Signals: SIGTERM/SIGINT stop cleanly; SIGHUP re-reads FILE: groups (joined or left), poll,
bandwidth and minFreeBytes apply at once; the rest (listen, engine, directories, web, snmp,
server, id) waits for a restart and the log and status say so.`;

export async function run(argv: string[]): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`cineswarm agent: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!values.config) {
    process.stderr.write('cineswarm agent: --config FILE is required\n');
    return 2;
  }
  const file = values.config;
  let agent: Agent | undefined;
  try {
    agent = new Agent(await loadConfig(file));
    await agent.start();
  } catch (err) {
    process.stderr.write(`cineswarm agent: ${(err as Error).message}\n`);
    // A half-started agent holds timers and the engine: release them so the process can exit.
    await agent?.stop().catch(() => undefined);
    return 1;
  }
  const running = agent;
  const web = await startWeb(running, file).catch((err: unknown) => {
    log.error({ err }, 'the local status page could not start; the agent keeps running without it');
    return null;
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      void (async () => {
        await web?.close();
        await running.stop();
        resolve(0);
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      loadConfig(file).then(
        (c) => running.reload(c),
        (err: unknown) => log.error({ err: (err as Error).message }, 'config reload refused; keeping the running settings'),
      );
    });
  });
}

/** The local web page and JSON API, and the SNMP subagent, when the config asks for them. */
async function startWeb(agent: Agent, configFile: string): Promise<{ close(): Promise<unknown> } | null> {
  const { web, snmp, dataDir } = agent.config;
  const parts: { close(): Promise<unknown> }[] = [];
  let closed = false;
  // join/leave/accept on this machine reach the page through loopback, whatever it binds.
  const localUrl = (host: string, port: number): string => {
    const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
  };
  // join/leave/accept find the agent by this file; a page on port 0 gets its url once it listens.
  await writePidFile(dataDir, { pid: process.pid, url: web && web.port !== 0 ? localUrl(web.host, web.port) : null });
  parts.push({ close: () => removePidFile(dataDir) });
  if (web) {
    const { buildAgentApi } = await import('../agent/web/api.js');
    const { listenRetrying } = await import('../agent/web/listen-retry.js');
    // The agent owns its config file: a join or leave rewrites it and reloads, as SIGHUP would.
    const membership = new Membership({ configFile, server: () => agent.config.server, apply: (c) => agent.reload(c), markForDeletion: (id) => agent.markGroupForDeletion(id) });
    const webLog = log.child({ component: 'web' });
    const app = buildAgentApi({ getStatus: () => agent.getStatus(), control: agent, membership, password: web.password, logger: webLog });
    // A port taken at boot is tried again until it is free: the page must not stay away until a restart.
    const listen = listenRetrying(app, { host: web.host, port: web.port }, webLog);
    parts.unshift({
      close: async () => {
        listen.stop();
        await app.close();
      },
    });
    void listen.listening.then(async (port) => {
      if (port === null || closed) return;
      log.info({ url: `http://${web.host}:${port}/` }, 'status page listening');
      if (web.port === 0) await writePidFile(dataDir, { pid: process.pid, url: localUrl(web.host, port) });
    });
  }
  if (snmp) {
    const { SnmpSubagent } = await import('../agent/monitoring/snmp.js');
    const sub = new SnmpSubagent({ agentx: snmp.agentx, getStatus: () => agent.getStatus(), alarms: agent.alarms, logger: log.child({ component: 'snmp' }) });
    sub.start();
    parts.push({ close: () => sub.stop() });
  }
  return {
    close: async () => {
      closed = true;
      for (const p of parts) await p.close();
    },
  };
}
