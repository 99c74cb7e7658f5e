// Ed25519 signing of firmware archives: the build machine signs the archive bytes, the
// appliance checks them against the public key it trusts before reading anything inside.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FirmwareError } from './errors.js';

export const PRIVATE_KEY_FILE = 'firmware-ed25519.pem';
export const PUBLIC_KEY_FILE = 'firmware-ed25519.pub.pem';

export interface KeyPairFiles {
  privateKey: string;
  publicKey: string;
}

/** Writes a new key pair into `dir` (private key 0600). Refuses to overwrite an existing key,
 * since every appliance in the field trusts the public half. */
export async function generateKeyFiles(dir: string): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const files = { privateKey: path.join(dir, PRIVATE_KEY_FILE), publicKey: path.join(dir, PUBLIC_KEY_FILE) };
  await fs.writeFile(files.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await fs.writeFile(files.publicKey, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  return files;
}

export function loadPrivateKey(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new FirmwareError('BAD_PUBLIC_KEY', 'the signing key is not an Ed25519 key');
  return key;
}

export function loadPublicKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new FirmwareError('BAD_PUBLIC_KEY', 'the firmware public key file is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new FirmwareError('BAD_PUBLIC_KEY', 'the firmware public key is not an Ed25519 key');
  return key;
}

/** The detached signature as stored beside the archive: base64 text, one line. */
export function signBytes(data: Buffer, privateKey: KeyObject): string {
  return sign(null, data, privateKey).toString('base64') + '\n';
}

export function verifyBytes(data: Buffer, signatureText: string, publicKey: KeyObject): boolean {
  const sig = Buffer.from(signatureText.trim(), 'base64');
  if (sig.length !== 64) return false;
  return verify(null, data, publicKey, sig);
}
