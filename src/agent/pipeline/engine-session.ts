// The agent's libtorrent session, opened once at start with the settings libtorrent takes only
// then (listen address, storage backend, connection rules); a config reload does not reach these.
import type { Logger } from 'pino';
import { Session } from '../../engine/index.js';
import { followPieceRuns } from '../../engine/piece-runs.js';
import { agentSessionSettings, listenInterface } from '../../engine/settings.js';
import type { AgentConfig } from '../config/config.js';

export function openSession(c: AgentConfig, version: string, log: Logger): Session {
  const session = new Session(
    agentSessionSettings({
      listenInterfaces: listenInterface(c.listen.host, c.listen.port),
      version,
      allowMultipleConnectionsPerIp: c.engine.allowMultipleConnectionsPerIp,
      enableUtp: c.engine.enableUtp,
      storage: c.engine.storage,
    }),
  );
  followPieceRuns(session);
  session.on('listen-failed', (a: { message: string }) => log.error({ listen: c.listen }, `cannot listen for peers: ${a.message}`));
  return session;
}
