// Bandwidth schedule: cron rules from the config set the session's rate limits (slow during
// shows, full speed at night). At start the rule whose cron fired most recently is in force.
import schedule from 'node-schedule';
import cronParser from 'cron-parser';
import type { BandwidthRule } from './config.js';

export interface RateLimits {
  downloadBytesPerSecond: number;
  uploadBytesPerSecond: number;
}

export function limitsOf(rule: BandwidthRule): RateLimits {
  return { downloadBytesPerSecond: Math.round(rule.downloadKiBps * 1024), uploadBytesPerSecond: Math.round(rule.uploadKiBps * 1024) };
}

/** The rule in force at `now`: the one whose cron fired last (none when the list is empty). */
export function ruleInForce(rules: BandwidthRule[], now: Date = new Date()): BandwidthRule | undefined {
  let best: { rule: BandwidthRule; at: number } | undefined;
  for (const rule of rules) {
    // A cron that fires less than once a year still has a previous occurrence; cron-parser finds it.
    const prev = cronParser.parseExpression(rule.cron, { currentDate: now }).prev().getTime();
    if (!best || prev > best.at) best = { rule, at: prev };
  }
  return best?.rule;
}

/** A rule with the moment it takes (or took) effect. */
export interface TimedRule extends BandwidthRule {
  at: string;
}

/** What the page and `cineswarm status` show: the rule in force since when, and the next change. */
export interface BandwidthView {
  inForce: TimedRule | null;
  next: TimedRule | null;
  rules: BandwidthRule[];
}

export function bandwidthView(rules: BandwidthRule[], now: Date = new Date()): BandwidthView {
  let inForce: TimedRule | null = null;
  let next: TimedRule | null = null;
  for (const rule of rules) {
    const cron = cronParser.parseExpression(rule.cron, { currentDate: now });
    const prev = cron.prev().getTime();
    if (!inForce || prev > Date.parse(inForce.at)) inForce = { ...rule, at: new Date(prev).toISOString() };
    const upcoming = cronParser.parseExpression(rule.cron, { currentDate: now }).next().getTime();
    if (!next || upcoming < Date.parse(next.at)) next = { ...rule, at: new Date(upcoming).toISOString() };
  }
  return { inForce, next, rules: rules.map((r) => ({ ...r })) };
}

export class BandwidthSchedule {
  private jobs: schedule.Job[] = [];

  constructor(
    private readonly rules: BandwidthRule[],
    private readonly apply: (limits: RateLimits, rule: BandwidthRule) => void,
  ) {}

  start(now: Date = new Date()): BandwidthRule | undefined {
    const current = ruleInForce(this.rules, now);
    if (current) this.apply(limitsOf(current), current);
    for (const rule of this.rules) {
      this.jobs.push(schedule.scheduleJob(rule.cron, () => this.apply(limitsOf(rule), rule)));
    }
    return current;
  }

  stop(): void {
    for (const j of this.jobs) j.cancel();
    this.jobs = [];
  }
}
