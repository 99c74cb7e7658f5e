// The agent's alarm book: conditions a person must see (low disk, server unreachable, ...),
// each with the time it was first seen, logged once when raised and once when cleared.
import { EventEmitter } from 'node:events';
import { log as rootLog, type Logger } from '../../util/log.js';
import type { Alarm } from './status-types.js';

export type AlarmSeverity = Alarm['severity'];

/** Codes used across the agent; other codes are allowed, these are the ones the docs name. */
export const ALARM_CODES = {
  LOW_DISK: 'LOW_DISK',
  DISK_FULL: 'DISK_FULL',
  CORRUPT_PEERS: 'CORRUPT_PEERS',
  SERVER_UNREACHABLE: 'SERVER_UNREACHABLE',
  TRACKER_ERROR: 'TRACKER_ERROR',
  VERIFY_FAILED: 'VERIFY_FAILED',
  STORAGE_DEGRADED: 'STORAGE_DEGRADED',
  LISTEN_PORT_TAKEN: 'LISTEN_PORT_TAKEN',
} as const;

export interface AlarmBookEvents {
  raised: [Alarm];
  cleared: [Alarm];
}

export class AlarmBook extends EventEmitter<AlarmBookEvents> {
  private readonly alarms = new Map<string, Alarm>();
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(opts: { logger?: Logger; now?: () => Date } = {}) {
    super();
    this.log = opts.logger ?? rootLog.child({ component: 'alarms' });
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Raises an alarm, or refreshes its message and severity when it is already up.
   * The first-seen time is kept, so "since" tells how long the condition has lasted.
   * Returns true when the alarm is new.
   */
  raise(code: string, severity: AlarmSeverity, message: string): boolean {
    const existing = this.alarms.get(code);
    if (existing) {
      // A worse (or better) severity is worth a log line; a changing figure in the message is not.
      if (existing.severity !== severity) {
        this.log.warn({ alarm: code, severity, since: existing.since }, `alarm ${code} is now ${severity}: ${message}`);
      }
      existing.severity = severity;
      existing.message = message;
      return false;
    }
    const alarm: Alarm = { code, severity, message, since: this.now().toISOString() };
    this.alarms.set(code, alarm);
    const line = `alarm ${code} (${severity}): ${message}`;
    if (severity === 'critical') this.log.error({ alarm: code, severity }, line);
    else this.log.warn({ alarm: code, severity }, line);
    this.emit('raised', { ...alarm });
    return true;
  }

  /** Clears an alarm when its cause has gone; returns false when it was not raised. */
  clear(code: string): boolean {
    const alarm = this.alarms.get(code);
    if (!alarm) return false;
    this.alarms.delete(code);
    const seconds = Math.round((this.now().getTime() - Date.parse(alarm.since)) / 1000);
    this.log.info({ alarm: code, since: alarm.since, lastedSeconds: seconds }, `alarm ${code} cleared after ${seconds} s`);
    this.emit('cleared', { ...alarm });
    return true;
  }

  has(code: string): boolean {
    return this.alarms.has(code);
  }

  /** Copies, oldest first, critical before warning at equal age. */
  list(): Alarm[] {
    return [...this.alarms.values()]
      .map((a) => ({ ...a }))
      .sort((a, b) => a.since.localeCompare(b.since) || (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  }
}
