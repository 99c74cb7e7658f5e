// EngineError: the one error type the engine throws or rejects with; `code` is stable, the message is for people.
export class EngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

const ERRNO_CODES: Record<string, string> = {
  ENOENT: 'NOT_FOUND',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EROFS: 'PERMISSION_DENIED',
  ENOTDIR: 'NOT_A_DIRECTORY',
  EISDIR: 'IS_A_DIRECTORY',
  ENOSPC: 'DISK_FULL',
  EINVAL: 'INVALID_ARGUMENT',
};

/** Any thrown value (native error with `code`, Node fs error with errno code, anything else) as an EngineError. */
export function toEngineError(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return new EngineError(ERRNO_CODES[code] ?? code, e.message);
    return new EngineError('INTERNAL', e.message);
  }
  return new EngineError('INTERNAL', String(e));
}

/** Runs a native call, rethrowing its failure as an EngineError. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toEngineError(e);
  }
}

/** Awaits a native promise, rejecting with an EngineError. */
export async function nativeAsync<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw toEngineError(e);
  }
}
