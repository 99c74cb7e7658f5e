// Test certificate material made with openssl in a test's temp dir (never production keys):
// certificate authorities and media-block recipients in the SMPTE ST 430-2 naming style.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCert { cert: string; key: string; pem: string }

export interface CertSpec {
  dir: string;
  /** file stem inside dir */
  name: string;
  /** openssl -subj form, e.g. /O=example.org/CN=CS.test.LEAF/dnQualifier=…; `+` and `/` escaped with `\` */
  subject: string;
  /** signs the new certificate; absent: self-signed */
  issuer?: TestCert;
  /** an existing private key (PEM file) to certify; absent: a new 2048-bit RSA key */
  key?: string;
  serial?: number;
  days?: number;
  /** basicConstraints CA:TRUE */
  ca?: boolean;
}

const run = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export function makeCertificate(spec: CertSpec): TestCert {
  const key = spec.key ?? path.join(spec.dir, `${spec.name}.key`);
  if (!spec.key) run(['genrsa', '-out', key, '2048']);
  const cert = path.join(spec.dir, `${spec.name}.pem`);
  const ext = path.join(spec.dir, `${spec.name}.ext`);
  fs.writeFileSync(ext, spec.ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' : 'basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n');
  const csr = path.join(spec.dir, `${spec.name}.csr`);
  run(['req', '-new', '-key', key, '-subj', spec.subject, '-out', csr]);
  const days = String(spec.days ?? 3650);
  const serial = String(spec.serial ?? 1);
  if (spec.issuer) {
    run(['x509', '-req', '-in', csr, '-CA', spec.issuer.cert, '-CAkey', spec.issuer.key, '-set_serial', serial, '-days', days, '-extfile', ext, '-out', cert]);
  } else {
    run(['x509', '-req', '-in', csr, '-signkey', key, '-set_serial', serial, '-days', days, '-extfile', ext, '-out', cert]);
  }
  return { cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

/** The openssl -subj form of a name written the KDM way (`dnQualifier=…,CN=…,O=…`). */
export function subjFromDn(dn: string): string {
  const parts = dn.split(/(?<!\\),/).reverse();
  return parts.map((p) => '/' + p.replace(/\\\+/g, '+').replace(/\+/g, '\\+').replace(/\//g, '\\/')).join('');
}
