// Transfer rates typed by people on the command line: bytes per second unless a unit is given
// (`25MB/s`, `2000KiB/s`, `1.5 MiB/s`, `500000`). Decimal prefixes are powers of 1000, binary ones of 1024.

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export class RateError extends Error {
  readonly code = 'BAD_RATE';
}

/** Bytes per second (a whole number) for a rate such as `25MB/s`; 0 means unlimited. Throws RateError. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:\/\s*s)?\s*$/i.exec(text);
  const unit = m ? (m[2] ?? '').toLowerCase() : '';
  const factor = unit === '' ? 1 : UNITS[unit];
  if (!m || factor === undefined) {
    throw new RateError(`"${text}" is not a rate: give bytes per second, or a number with a unit such as 25MB/s or 2000KiB/s`);
  }
  const bytes = Math.round(Number(m[1]) * factor);
  // libtorrent keeps rate limits in a signed 32-bit int.
  if (bytes > 2 ** 31 - 1) throw new RateError(`"${text}" is more than the largest rate limit (2 GiB/s)`);
  return bytes;
}
