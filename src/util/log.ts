// One pino root logger for the whole process: JSON lines, pretty when stdout is a terminal.
import { pino, type Logger } from 'pino';

function makeRoot(): Logger {
  const level = process.env.CINESWARM_LOG_LEVEL ?? 'info';
  if (process.stdout.isTTY && process.env.CINESWARM_LOG_JSON !== '1') {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 1 } } });
  }
  return pino({ level });
}

export const log: Logger = makeRoot();
export type { Logger };
