// X.509 facts for KDM work (SMPTE ST 430-2 certificates): names compared as KDMs write them, the
// dnQualifier a public key implies, and PEM bundles that must hold public certificates only.
import { X509Certificate, createHash } from 'node:crypto';
import { DcpError } from './errors.js';
import type { KdmRecipient } from './kdm.js';

export interface CertificateFacts {
  subject: string;            // one-line form, `dnQualifier=…,CN=…,OU=…,O=…` as KDMs write names
  issuer: string;
  serial: string;             // decimal
  dnQualifier: string;        // base64 SHA-1 of the public key (PKCS#1 form), as ST 430-2 defines it
  notBefore: string;          // ISO 8601
  notAfter: string;
  selfSigned: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The public certificates of a PEM text; refuses private keys and text without any certificate. */
export function parsePemCertificates(pem: string, label: string): X509Certificate[] {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new DcpError('PRIVATE_KEY', `${label} holds a private key; only public certificates may be given out, never the key`, label);
  }
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new DcpError('NO_CERTIFICATE', `${label} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, label);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new DcpError('BAD_CERTIFICATE', `${label}: certificate ${i + 1} cannot be read (${(err as Error).message})`, label);
    }
  });
}

export function certificateFromBase64(der: string): X509Certificate {
  return new X509Certificate(Buffer.from(der, 'base64'));
}

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serial: BigInt(`0x${cert.serialNumber}`).toString(),
    dnQualifier: publicKeyDigest(cert),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    selfSigned: cert.subject === cert.issuer && cert.checkIssued(cert),
  };
}

export function publicKeyDigest(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'pkcs1', format: 'der' });
  return createHash('sha1').update(der).digest('base64');
}

/** A KDM's Recipient names this certificate: same issuer, serial and subject. */
export function recipientMatches(r: KdmRecipient, cert: CertificateFacts): boolean {
  return BigInt(r.serial) === BigInt(cert.serial) && sameName(r.issuer, cert.issuer) && sameName(r.subject, cert.subject);
}

/**
 * Distinguished names compared attribute by attribute, whatever their order (writers differ: easyDCP
 * puts O first, Doremi dnQualifier first) and whatever escaping was used for `+` or `,`.
 */
export function sameName(a: string, b: string): boolean {
  const x = nameParts(a);
  const y = nameParts(b);
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

function nameParts(dn: string): string[] {
  const sep = dn.includes('\n') ? '\n' : ',';
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      cur += dn[++i];
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? p.trim() : `${p.slice(0, eq).trim().toLowerCase()}=${p.slice(eq + 1).trim()}`;
    })
    .filter((p) => p !== '')
    .sort();
}

// Node writes names one attribute per line, most significant first; KDMs write them on one line,
// least significant first, with `,` and `+` escaped.
function oneLine(nodeName: string): string {
  return nodeName.split('\n').reverse().join(',');
}
