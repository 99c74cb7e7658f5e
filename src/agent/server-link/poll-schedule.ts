// When the agent polls the server: every intervalSeconds plus a random jitter of up to
// jitterSeconds (claim 6, so a thousand cinemas do not hit the server in the same second),
// with exponential backoff, capped, while the server cannot be reached.
import schedule from 'node-schedule';

export interface PollTiming {
  intervalSeconds: number;
  jitterSeconds: number;
  maxBackoffSeconds: number;
}

/** Seconds until the next poll; `failures` counts consecutive polls that found the server unreachable. */
export function nextDelaySeconds(t: PollTiming, failures: number, random: () => number = Math.random): number {
  const base = failures <= 0 ? t.intervalSeconds : Math.min(t.intervalSeconds * 2 ** failures, t.maxBackoffSeconds);
  return Math.max(base, t.intervalSeconds) + random() * t.jitterSeconds;
}

export type PollOutcome = 'ok' | 'unreachable';

export class PollSchedule {
  private job: schedule.Job | null = null;
  private failures = 0;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** when the next poll is due (for status) */
  nextAt: Date | null = null;

  constructor(
    /** a function reads the runtime config's current timing at every re-arm */
    private readonly timing: PollTiming | (() => PollTiming),
    private readonly tick: () => Promise<PollOutcome>,
    private readonly random: () => number = Math.random,
  ) {}

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Polls at once, then keeps the schedule going. */
  start(): void {
    this.stopped = false;
    void this.pollNow();
  }

  /** Runs a poll now (or joins the one in progress) and re-arms the schedule from its outcome. */
  pollNow(): Promise<void> {
    if (this.running) return this.running;
    this.job?.cancel();
    this.job = null;
    this.running = (async () => {
      let outcome: PollOutcome;
      try {
        outcome = await this.tick();
      } catch {
        outcome = 'unreachable';
      }
      this.failures = outcome === 'ok' ? 0 : this.failures + 1;
    })().finally(() => {
      this.running = null;
      this.arm();
    });
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    const timing = typeof this.timing === 'function' ? this.timing() : this.timing;
    const delay = nextDelaySeconds(timing, this.failures, this.random);
    this.nextAt = new Date(Date.now() + delay * 1000);
    this.job = schedule.scheduleJob(this.nextAt, () => {
      this.job = null;
      void this.pollNow();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.job?.cancel();
    this.job = null;
    this.nextAt = null;
    if (this.running) await this.running;
  }
}
