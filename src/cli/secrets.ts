// Passwords and tokens on the command line: each has a flag, a `…-file` twin and (for the
// passwords) an environment variable, since argv is visible to every local user.
import fs from 'node:fs/promises';

export class SecretError extends Error {}

export interface SecretSource {
  /** the flag's name without dashes, e.g. 'owner-password' */
  flag: string;
  value?: string;
  file?: string;
  env?: string;
}

/** The secret from the flag, else its file (first line), else the environment variable; undefined if none is given. */
export async function readSecret(s: SecretSource): Promise<string | undefined> {
  if (s.value !== undefined && s.file !== undefined) throw new SecretError(`give --${s.flag} or --${s.flag}-file, not both`);
  if (s.value !== undefined) {
    if (s.value === '') throw new SecretError(`--${s.flag} must not be empty`);
    return s.value;
  }
  if (s.file !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(s.file, 'utf8');
    } catch (err) {
      throw new SecretError(`cannot read --${s.flag}-file ${s.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') throw new SecretError(`--${s.flag}-file ${s.file} is empty`);
    return line;
  }
  const fromEnv = s.env ? process.env[s.env] : undefined;
  return fromEnv === '' ? undefined : fromEnv;
}

/** parseArgs option entries for a secret flag and its file twin. */
export function secretOptions<F extends string>(flag: F): Record<F | `${F}-file`, { type: 'string' }> {
  return { [flag]: { type: 'string' }, [`${flag}-file`]: { type: 'string' } } as Record<F | `${F}-file`, { type: 'string' }>;
}

/** readSecret for a secret the command cannot do without: a missing one is a usage error naming every way to give it. */
export async function requireSecret(s: SecretSource): Promise<string> {
  const secret = await readSecret(s);
  if (secret === undefined) throw new SecretError(`--${s.flag} is required (or --${s.flag}-file F${s.env ? `, or ${s.env}` : ''})`);
  return secret;
}
