// The agent's one reconcile loop: every trigger (poll result, engine alert, operator action,
// config reload, timer) only marks "something changed"; the loop then plans (planner.ts), runs the
// steps (step-runner.ts) and plans again until no step is left. Long steps run beside it, one
// torrent at a time. Events let logs and tests follow it instead of sleeping:
//   'step' (a step starts), 'step-done' ({step, ok, error}), 'pass' (a plan and its quick steps
//   ran), 'idle' (a plan came back empty and no long step is running).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { plan, type PlanInput } from './planner.js';
import { LONG_STEPS, describeStep, stepTarget, type Step } from './steps.js';

export interface StepOutcome {
  step: Step;
  ok: boolean;
  error?: string;
}

export interface LoopEvents {
  step: [Step];
  'step-done': [StepOutcome];
  pass: [number];
  idle: [];
}

/** What the loop itself knows and the planner needs. */
export interface LoopState {
  busy: ReadonlySet<string>;
  verifying: boolean;
}

/** Passes in one go before the loop waits for the next trigger: a step that keeps failing the
 * same way must not spin; the timer brings it round again. */
const MAX_PASSES = 20;

export class PipelineLoop extends EventEmitter<LoopEvents> {
  private dirty = false;
  private draining: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  private passSeq = 0;
  private readonly busy = new Map<string, { step: Step; done: Promise<void> }>();

  constructor(
    private readonly input: (s: LoopState) => PlanInput,
    private readonly runner: { run(step: Step): Promise<void> },
    private readonly log: Logger,
  ) {
    super();
  }

  /** Something changed: plan again soon. Cheap; callers never wait on it. */
  markChanged(reason: string): void {
    if (this.stopped) return;
    this.dirty = true;
    this.log.trace({ reason }, 'changed');
    if (this.started && !this.draining) this.draining = this.drain().finally(() => (this.draining = null));
  }

  /** Begins planning (changes marked before were kept and are planned now). */
  start(): void {
    this.started = true;
    this.markChanged('start');
  }

  /** Marks a change and resolves when a pass that started after this call has ended. */
  afterNextPass(reason: string): Promise<void> {
    const want = this.passSeq + 1;
    const done = new Promise<void>((resolve) => {
      const check = (seq: number) => {
        if (seq < want) return;
        this.off('pass', check);
        resolve();
      };
      this.on('pass', check);
    });
    this.markChanged(reason);
    return done;
  }

  /** Resolves when the loop has nothing left to do (at once when it is idle already). */
  settled(): Promise<void> {
    if (!this.draining && !this.dirty && this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  /** Resolves when the next step matching `match` has ended. */
  waitForStep(match: (s: Step) => boolean): Promise<StepOutcome> {
    return new Promise((resolve) => {
      const on = (o: StepOutcome) => {
        if (!match(o.step)) return;
        this.off('step-done', on);
        resolve(o);
      };
      this.on('step-done', on);
    });
  }

  isBusy(infoHash: string): boolean {
    return this.busy.has(infoHash);
  }

  /** Stops planning; waits for long steps under way (an ingest rename must not be cut in half). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.draining;
    await Promise.all([...this.busy.values()].map((b) => b.done));
  }

  private async drain(): Promise<void> {
    let passes = 0;
    while (this.dirty && !this.stopped) {
      if (++passes > MAX_PASSES) {
        this.log.warn('the plan keeps giving steps; waiting for the next trigger');
        break;
      }
      this.dirty = false;
      const seq = ++this.passSeq;
      let steps: Step[] = [];
      try {
        steps = plan(this.input({ busy: new Set(this.busy.keys()), verifying: [...this.busy.values()].some((b) => b.step.kind === 'verify') }));
        for (const step of steps) {
          if (this.stopped) break;
          if (LONG_STEPS.has(step.kind)) this.startLong(step);
          else await this.exec(step);
        }
      } catch (err) {
        this.log.error({ err }, 'planning failed');
      }
      // Plan again until a plan comes back empty: the steps just run changed what the planner sees.
      if (steps.length) this.dirty = true;
      this.emit('pass', seq);
    }
    if (!this.dirty && this.busy.size === 0 && !this.stopped) this.emit('idle');
  }

  private startLong(step: Step): void {
    const ih = stepTarget(step)!;
    const done = this.exec(step).finally(() => {
      this.busy.delete(ih);
      this.markChanged(`done: ${step.kind}`);
    });
    this.busy.set(ih, { step, done });
  }

  private async exec(step: Step): Promise<void> {
    this.emit('step', step);
    const level = step.kind === 'report' || step.kind === 'save-resume' ? 'debug' : 'info';
    this.log[level]({ step }, `step: ${describeStep(step)}`);
    try {
      await this.runner.run(step);
      this.emit('step-done', { step, ok: true });
    } catch (err) {
      this.log.warn({ err, step }, `step failed: ${describeStep(step)}`);
      this.emit('step-done', { step, ok: false, error: (err as Error).message });
    }
  }
}
