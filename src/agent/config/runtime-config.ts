// The one owner of the agent's running config. Consumers read `current` (never a copy) or listen
// for 'changed'; a reload (SIGHUP) swaps in the new config for the settings that can change while
// running and names the ones that wait for a restart (libtorrent takes them at session start).
import { EventEmitter } from 'node:events';
import type { AgentConfig } from './config.js';

/** Settings applied while running: groups are joined or left, the rest is read where it is used. */
const LIVE_KEYS = ['groups', 'poll', 'bandwidth', 'minFreeBytes', 'resumeSaveSeconds', 'reportIntervalSeconds', 'retention'] as const satisfies readonly (keyof AgentConfig)[];
type LiveKey = (typeof LIVE_KEYS)[number];

export interface ReloadOutcome {
  /** live settings that changed and are now in force */
  applied: LiveKey[];
  /** settings that changed in the file but keep their running value until a restart */
  restartNeededFor: (keyof AgentConfig)[];
}

export interface RuntimeConfigEvents {
  changed: [next: AgentConfig, prev: AgentConfig, outcome: ReloadOutcome];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class RuntimeConfig extends EventEmitter<RuntimeConfigEvents> {
  private cfg: AgentConfig;
  /** the last reload, for the status */
  last: { reloadedAt: string; restartNeededFor: string[] } | null = null;

  constructor(initial: AgentConfig) {
    super();
    this.cfg = initial;
  }

  get current(): AgentConfig {
    return this.cfg;
  }

  /** Takes a validated config: live settings replace the running ones, the others wait. */
  reload(next: AgentConfig, now: Date = new Date()): ReloadOutcome {
    const prev = this.cfg;
    const applied = LIVE_KEYS.filter((k) => !same(prev[k], next[k]));
    const keys = new Set([...Object.keys(prev), ...Object.keys(next)] as (keyof AgentConfig)[]);
    const restartNeededFor = [...keys].filter((k) => !(LIVE_KEYS as readonly string[]).includes(k) && !same(prev[k], next[k]));
    // The running value of a restart-only setting stays what the session and listeners use.
    const merged = { ...prev } as AgentConfig;
    for (const k of LIVE_KEYS) (merged as unknown as Record<string, unknown>)[k] = next[k];
    this.cfg = merged;
    const outcome = { applied, restartNeededFor };
    this.last = { reloadedAt: now.toISOString(), restartNeededFor: [...restartNeededFor] };
    this.emit('changed', merged, prev, outcome);
    return outcome;
  }

  /** Changes one live setting (an operator action or a test), as a reload with it would. */
  set<K extends LiveKey>(key: K, value: AgentConfig[K]): ReloadOutcome {
    const last = this.last;
    const outcome = this.reload({ ...this.cfg, [key]: value });
    this.last = last; // what waits for a restart is still what the file says
    return outcome;
  }
}
