// LISTEN_PORT_TAKEN: libtorrent moves to the next free port when the configured one is taken by
// another program, silently; peers and firewalls that expect the configured port then miss us.
import { ALARM_CODES, type AlarmBook } from './alarms.js';

/**
 * Raises the alarm when the engine listens elsewhere than `listen.port` (0 in the config means
 * "any port": nothing to compare), and clears it once it listens there again.
 */
export function checkListenPort(alarms: AlarmBook, listen: { host: string; port: number }, actualPort: number): void {
  if (listen.port === 0 || actualPort === listen.port) {
    alarms.clear(ALARM_CODES.LISTEN_PORT_TAKEN);
    return;
  }
  const where = actualPort > 0 ? `listening for peers on port ${actualPort} instead` : 'not listening for peers at all';
  alarms.raise(
    ALARM_CODES.LISTEN_PORT_TAKEN,
    actualPort > 0 ? 'warning' : 'critical',
    `Port ${listen.port} on ${listen.host} (listen.port in the config) is taken by another program; the agent is ${where}. ` +
      'Peers that only reach the configured port (firewall or port forwarding) cannot connect: free the port or change listen.port, then restart the agent.',
  );
}
