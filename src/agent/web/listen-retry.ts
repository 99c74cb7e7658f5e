// The local status page's listen, tried again while its port is taken or its address not there yet
// (another process holding the port at boot, an interface still coming up): the page comes up by
// itself once it can, without an agent restart, and the log says so once, not once per try.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** Errors that go away by themselves; anything else (EACCES on a low port) is logged and left. */
const PASSING = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

export interface RetryingListen {
  /** resolves with the port once listening; never rejects (a lasting error is logged) */
  readonly listening: Promise<number | null>;
  /** no more tries (the agent stops) */
  stop(): void;
}

export function listenRetrying(app: FastifyInstance, at: { host: string; port: number }, log: Logger, retryMs = 10_000): RetryingListen {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  let tries = 0;
  const listening = (async (): Promise<number | null> => {
    for (;;) {
      try {
        await app.listen(at);
        const addr = app.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : at.port;
        if (tries > 0) log.info({ host: at.host, port, tries: tries + 1 }, `status page listening after ${tries} refused tries`);
        return port;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!PASSING.has(code)) {
          log.error({ err, host: at.host, port: at.port }, 'the local status page could not start; the agent keeps running without it');
          return null;
        }
        if (tries === 0) {
          const why = code === 'EADDRINUSE' ? 'is taken by another process' : 'is not available on this machine yet';
          log.warn({ host: at.host, port: at.port, code }, `status page: port ${at.port} on ${at.host} ${why}; trying again every ${Math.round(retryMs / 1000)} s`);
        }
        tries++;
      }
      if (stopped) return null;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, retryMs);
      });
      if (stopped) return null;
    }
  })();
  return {
    listening,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}
