// Checks a KDM's XML-DSig signature with Debian's xmlsec1 (a child process, so the event loop never
// waits on RSA maths), trusting the chain the KDM carries, and says which chain signed it.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { certificateFacts, certificateFromBase64, sameName, type CertificateFacts } from './certificates.js';
import type { KdmFacts } from './kdm.js';

export interface ChainCertificate extends CertificateFacts {
  /** inside its validity window at the clock given to the check */
  validAtClock: boolean;
}

export interface SignatureCheck {
  state: 'valid' | 'invalid' | 'not-checked';
  message: string;
  /** the signing chain, signer first; empty when the KDM carries no readable certificates */
  chain: ChainCertificate[];
  /** every certificate of the chain is inside its window at the clock (information only: a chain that
   * expired after the KDM was issued does not make the signature wrong) */
  chainValidAtClock: boolean;
}

export interface SignatureOptions {
  clock: Date;
  /** the xmlsec1 program; default `xmlsec1` on PATH */
  xmlsec1?: string;
}

const XMLSEC_TIMEOUT_MS = 60_000;

export async function checkKdmSignature(xml: Buffer | string, kdm: KdmFacts, opts: SignatureOptions): Promise<SignatureCheck> {
  let certs: X509Certificate[];
  try {
    certs = kdm.certificates.map(certificateFromBase64);
  } catch (err) {
    return { state: 'invalid', message: `a certificate in its signature cannot be read (${(err as Error).message})`, chain: [], chainValidAtClock: false };
  }
  const ordered = orderChain(certs, kdm);
  const chain = ordered.map((c): ChainCertificate => {
    const f = certificateFacts(c);
    const t = opts.clock.getTime();
    return { ...f, validAtClock: Date.parse(f.notBefore) <= t && t <= Date.parse(f.notAfter) };
  });
  const chainValidAtClock = chain.length > 0 && chain.every((c) => c.validAtClock);
  const done = (state: SignatureCheck['state'], message: string): SignatureCheck => ({ state, message, chain, chainValidAtClock });

  if (!kdm.signed) return done('invalid', 'it carries no signature; a KDM must be signed by its issuer');
  if (chain.length === 0) return done('invalid', 'its signature carries no certificate, so nobody can be named as its signer');
  const refs = new Set(kdm.references);
  for (const [part, id] of [['AuthenticatedPublic', kdm.publicId], ['AuthenticatedPrivate', kdm.privateId]] as const) {
    if (id === null || !refs.has(`#${id}`)) return done('invalid', `its signature does not cover the ${part} part`);
  }

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-kdm-'));
  try {
    const file = path.join(dir, 'kdm.xml');
    await fs.writeFile(file, xml);
    const args = ['--verify', '--enabled-reference-uris', 'empty,same-doc',
      '--id-attr:Id', 'AuthenticatedPublic', '--id-attr:Id', 'AuthenticatedPrivate',
      // The chain is judged when the KDM was issued: the signer's certificates ending later is no fault.
      '--verification-time', xmlsecTime(new Date(kdm.issueDate))];
    const anchors = ordered.filter((c) => c.checkIssued(c));
    const anchorSet = new Set(anchors.length > 0 ? anchors : [ordered[ordered.length - 1]!]);
    for (const [i, c] of ordered.entries()) {
      const pem = path.join(dir, `cert-${i}.pem`);
      await fs.writeFile(pem, c.toString());
      args.push(anchorSet.has(c) ? '--trusted-pem' : '--untrusted-pem', pem);
    }
    args.push(file);
    const run = await runXmlsec(opts.xmlsec1 ?? 'xmlsec1', args);
    if (run.kind === 'absent') return done('not-checked', `the signature was not checked: ${run.reason}`);
    const signer = chain[0]!.subject;
    if (run.kind === 'ok') {
      const note = chainValidAtClock ? '' : `; note: ${expiryNote(chain, opts.clock)}`;
      return done('valid', `signed by ${signer} (chain: ${chain.map((c) => cn(c.subject)).join(' <- ')})${note}`);
    }
    return done('invalid', `its signature does not verify (${run.reason}); claimed signer ${signer}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Signer first (the certificate the KDM's <Signer> names, else the one that issued no other), then up. */
function orderChain(certs: X509Certificate[], kdm: KdmFacts): X509Certificate[] {
  if (certs.length === 0) return [];
  const named = kdm.signer
    ? certs.find((c) => {
        const f = certificateFacts(c);
        return /^\d+$/.test(kdm.signer!.serial) && BigInt(kdm.signer!.serial) === BigInt(f.serial) && sameName(kdm.signer!.issuer, f.issuer);
      })
    : undefined;
  const leaf = named ?? certs.find((c) => !certs.some((o) => o !== c && o.checkIssued(c))) ?? certs[0]!;
  const out = [leaf];
  for (;;) {
    const top = out[out.length - 1]!;
    if (top.checkIssued(top)) break;
    const up = certs.find((c) => !out.includes(c) && top.checkIssued(c));
    if (!up) break;
    out.push(up);
  }
  return out.concat(certs.filter((c) => !out.includes(c)));
}

type XmlsecRun = { kind: 'ok' } | { kind: 'failed'; reason: string } | { kind: 'absent'; reason: string };

function runXmlsec(program: string, args: string[]): Promise<XmlsecRun> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: XMLSEC_TIMEOUT_MS, env: { ...process.env, TZ: 'UTC' } }, (err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      if (!err && /^OK$/m.test(out)) return resolve({ kind: 'ok' });
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') return resolve({ kind: 'absent', reason: `${program} is not installed (Debian package xmlsec1)` });
      if (err && (err as { killed?: boolean }).killed) return resolve({ kind: 'absent', reason: `${program} did not finish in time` });
      resolve({ kind: 'failed', reason: failureReason(out) });
    });
  });
}

// xmlsec1 reports on stderr in its own terms; the few causes a person can act on are put in words.
function failureReason(out: string): string {
  if (/data and digest do not match/i.test(out)) return 'the signed content was changed after signing: its digest does not match';
  if (/certificate has expired/i.test(out)) return 'a certificate of the signing chain had expired when the KDM was issued';
  if (/certificate is not yet valid/i.test(out)) return 'a certificate of the signing chain was not yet valid when the KDM was issued';
  if (/unable to get local issuer|self signed certificate in certificate chain|certificate verify failed|X509_verify_cert/i.test(out)) {
    return 'the signing certificate does not chain to the root the KDM carries';
  }
  if (/SignatureValue|signature do not match|RSA/i.test(out) && /verif/i.test(out)) return 'the signature value does not match';
  const refs = /SignedInfo References \(ok\/all\): (\d+)\/(\d+)/.exec(out);
  if (refs) return `${refs[1]} of ${refs[2]} signed references check out`;
  return 'xmlsec1 refused it';
}

function expiryNote(chain: ChainCertificate[], clock: Date): string {
  const bad = chain.filter((c) => !c.validAtClock);
  return bad
    .map((c) => (Date.parse(c.notAfter) < clock.getTime() ? `${cn(c.subject)} expired ${c.notAfter.slice(0, 10)}` : `${cn(c.subject)} valid only from ${c.notBefore.slice(0, 10)}`))
    .join(', ') + ' (after the KDM was issued; information only)';
}

function cn(dn: string): string {
  return /(?:^|,)CN=((?:\\.|[^,\\])*)/.exec(dn)?.[1] ?? dn;
}

function xmlsecTime(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19);
}
