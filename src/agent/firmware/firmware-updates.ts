// The agent's firmware auto-update timer: asks the central server every few minutes for a newer
// signed bundle and stages it for the root updater. It never installs and never stops the agent.
import path from 'node:path';
import type { Logger } from 'pino';
import type { ServerClient } from '../../protocol/index.js';
import { fetchFirmware, FirmwareFetchError, type FirmwareFetchResult } from './firmware-fetch.js';

/** The outcome of the last check, as shown in the agent status. */
export interface FirmwareCheckView {
  at: string;
  state: FirmwareFetchResult['state'] | 'failed';
  version?: string;
  message?: string;
}

export interface FirmwareUpdatesOptions {
  /** the agent's client of the central server */
  client: ServerClient;
  currentVersion: string;
  dataDir: string;
  checkMinutes: number;
  publicKey: string;
  logger: Logger;
  /** delay before the first check; default 5 s, so the agent's start is not slowed */
  firstCheckMs?: number;
}

export class FirmwareUpdates {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private etag: string | undefined;
  private lastError: string | null = null;
  private lastOutcome = '';
  private stopped = false;
  private readonly abort = new AbortController();
  last: FirmwareCheckView | null = null;

  constructor(private readonly opts: FirmwareUpdatesOptions) {}

  get stagingDir(): string {
    return path.join(this.opts.dataDir, 'firmware');
  }

  start(): void {
    this.schedule(this.opts.firstCheckMs ?? 5000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // The next check is planned only once this one has finished, so two never overlap.
      void this.checkNow().finally(() => this.schedule(this.opts.checkMinutes * 60_000));
    }, ms);
  }

  /** One check; when one is already running, waits for it instead of starting another. */
  checkNow(): Promise<void> {
    if (!this.running) {
      this.running = this.check().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async check(): Promise<void> {
    const o = this.opts;
    const at = new Date().toISOString();
    try {
      const r = await fetchFirmware({
        client: o.client,
        currentVersion: o.currentVersion,
        stagingDir: this.stagingDir,
        publicKeyFile: o.publicKey,
        etag: this.etag,
        logger: o.logger,
        signal: this.abort.signal,
      });
      if ('etag' in r && r.etag) this.etag = r.etag;
      // 304: the server's offer is what we saw last time, so the last outcome still stands.
      if (r.state === 'unchanged' && this.last && this.last.state !== 'failed') this.last = { ...this.last, at };
      else this.last = { at, state: r.state, ...('version' in r ? { version: r.version } : {}) };
      if (this.lastError) o.logger.info('firmware check works again');
      this.lastError = null;
      this.report(r);
    } catch (err) {
      if (this.stopped) return;
      const message = err instanceof FirmwareFetchError ? err.message : `firmware check failed: ${(err as Error).message}`;
      this.last = { at, state: 'failed', message };
      // The same failure every hour is one line in the journal, not one per check.
      if (message !== this.lastError) o.logger.warn({ code: (err as FirmwareFetchError).code }, `${message}; the agent keeps running its current version and will try again`);
      this.lastError = message;
    }
  }

  private report(r: FirmwareFetchResult): void {
    const l = this.opts.logger;
    const cur = this.opts.currentVersion;
    if (r.state === 'unchanged') return;
    // An outcome that repeats at every check (waiting for the updater, a refused version) is said once.
    const key = `${r.state} ${'version' in r ? r.version : ''}`;
    if (key === this.lastOutcome) return;
    this.lastOutcome = key;
    if (r.state === 'staged') l.info({ version: r.version }, `new firmware ${r.version} downloaded and checked; the updater installs it now (running ${cur}, downloads resume after the restart)`);
    else if (r.state === 'pending') l.info({ version: r.version }, `firmware ${r.version} is waiting for the updater`);
    else if (r.state === 'rejected') l.warn({ version: r.version }, `firmware ${r.version} was rolled back on this server before (${r.reason}); staying on ${cur}`);
    else if (r.state === 'none') l.debug('the server offers no firmware');
    else if (r.state === 'up-to-date') l.info(`firmware ${cur} is the latest the server offers`);
  }

  /** Stops the timer and any download in progress; a staged bundle stays for the updater. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}
