// Passwords for the command line: a flag, its `-file` twin, or an environment variable, since argv
// is visible to every local user.
import fs from 'node:fs/promises';

export interface SecretSource { value?: string; file?: string; env: string; flag: string }

export async function readSecret(s: SecretSource): Promise<string> {
  if (s.value !== undefined && s.file !== undefined) throw new Error(`give ${s.flag} or ${s.flag}-file, not both`);
  let secret = s.value;
  if (s.file !== undefined) {
    const text = await fs.readFile(s.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${s.flag}-file ${s.file}: ${err.code ?? err.message}`);
    });
    secret = text.replace(/\r?\n$/, '');
  }
  secret ??= process.env[s.env];
  if (!secret) throw new Error(`${s.flag} is required (or ${s.flag}-file F, or ${s.env})`);
  return secret;
}
