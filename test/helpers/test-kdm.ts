// TEST MATERIAL ONLY: a throwaway certificate authority, a KDM signer and a media-block recipient made
// with openssl in a test's temp dir, KDMs whose content keys are RSA-OAEP-encrypted to that recipient
// (ST 430-1 key blocks) and signed with xmlsec1, and signatures for generated CPLs and PKLs.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeCertificate, type TestCert } from './test-pki.js';

export interface TestPki { dir: string; root: TestCert; signer: TestCert; recipient: TestCert; recipientDn: { subject: string; issuer: string; serial: string } }

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

function dnQualifierOfKey(keyFile: string): string {
  const pub = crypto.createPublicKey(fs.readFileSync(keyFile));
  return crypto.createHash('sha1').update(pub.export({ type: 'pkcs1', format: 'der' })).digest('base64');
}

function newKey(dir: string, name: string): string {
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  return key;
}

const esc = (v: string): string => v.replace(/\+/g, '\\+').replace(/\//g, '\\/');

/** Root CA, a signer and a recipient, all with ST 430-2 style names (dnQualifier = public key digest). */
export function makeTestPki(dir: string): TestPki {
  const rootKey = newKey(dir, 'root');
  const rootQ = dnQualifierOfKey(rootKey);
  const root = makeCertificate({ dir, name: 'root', key: rootKey, ca: true, serial: 1, subject: `/O=cineswarm-test/OU=TEST-ONLY/CN=.cineswarm-test.ROOT/dnQualifier=${esc(rootQ)}` });
  const signerKey = newKey(dir, 'signer');
  const signer = makeCertificate({ dir, name: 'signer', key: signerKey, issuer: root, serial: 2, subject: `/O=cineswarm-test/OU=TEST-ONLY/CN=CS.cineswarm-test.SIGNER/dnQualifier=${esc(dnQualifierOfKey(signerKey))}` });
  const recipientKey = newKey(dir, 'recipient');
  const rq = dnQualifierOfKey(recipientKey);
  const recipient = makeCertificate({ dir, name: 'recipient', key: recipientKey, issuer: root, serial: 3, subject: `/O=cineswarm-test/OU=TEST-ONLY/CN=CS.cineswarm-test.MEDIA-BLOCK/dnQualifier=${esc(rq)}` });
  const rootDn = `dnQualifier=${rootQ.replace(/\+/g, '\\+')},CN=.cineswarm-test.ROOT,OU=TEST-ONLY,O=cineswarm-test`;
  return {
    dir, root, signer, recipient,
    recipientDn: { subject: `dnQualifier=${rq.replace(/\+/g, '\\+')},CN=CS.cineswarm-test.MEDIA-BLOCK,OU=TEST-ONLY,O=cineswarm-test`, issuer: rootDn, serial: '3' },
  };
}

function xmlsecSign(pki: TestPki, xml: string, idAttrs: string[]): string {
  const input = path.join(pki.dir, `sign-${crypto.randomBytes(4).toString('hex')}.xml`);
  fs.writeFileSync(input, xml);
  const args = ['--sign', ...idAttrs.flatMap((n) => ['--id-attr:Id', n]), '--privkey-pem', `${pki.signer.key},${pki.signer.cert},${pki.root.cert}`, input];
  const out = execFileSync('xmlsec1', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  fs.rmSync(input);
  return out;
}

function signatureTemplate(references: string[], enveloped: boolean): string {
  const transforms = enveloped ? `<ds:Transforms><ds:Transform Algorithm="${DSIG}enveloped-signature"/></ds:Transforms>` : '';
  const refs = references.map((uri) => `<ds:Reference URI="${uri}">${transforms}<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>`).join('');
  return `<ds:Signature xmlns:ds="${DSIG}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>${refs}</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`;
}

/** Signs a generated CPL or PKL (enveloped signature over the whole document), for `generateDcp({signXml})`. */
export function dcpSigner(pki: TestPki): (xml: string) => string {
  return (xml) => {
    const close = xml.lastIndexOf('</');
    return xmlsecSign(pki, xml.slice(0, close) + signatureTemplate([''], true) + '\n' + xml.slice(close), []);
  };
}

export interface KdmSpec { cplId: string; title: string; keyIds: string[]; notValidBefore: string; notValidAfter: string; messageId?: string }

/** A signed SMPTE KDM for `spec.cplId`, addressed to the PKI's recipient. */
export function makeTestKdm(pki: TestPki, spec: KdmSpec): { xml: string; messageId: string } {
  const messageId = spec.messageId ?? crypto.randomUUID();
  const recipientCert = new crypto.X509Certificate(pki.recipient.pem);
  const signerCert = new crypto.X509Certificate(pki.signer.pem);
  const thumb = crypto.createHash('sha1').update(signerCert.raw).digest();
  const uuidBytes = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');
  const keys = spec.keyIds.map((id, i) => {
    const type = i % 2 === 0 ? 'MDIK' : 'MDAK';
    // ST 430-1 key block: structure id, signer thumbprint, CPL id, key type, key id, window, AES key.
    const block = Buffer.concat([
      Buffer.from('f1dc124460169a0e85bc300642f866ab', 'hex'), thumb, uuidBytes(spec.cplId), Buffer.from(type, 'ascii'),
      uuidBytes(id), Buffer.from(spec.notValidBefore, 'ascii'), Buffer.from(spec.notValidAfter, 'ascii'), crypto.randomBytes(16),
    ]);
    const cipher = crypto.publicEncrypt({ key: recipientCert.publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, block);
    return { type, id, cipher: cipher.toString('base64') };
  });
  const signerSerial = BigInt(`0x${signerCert.serialNumber}`).toString();
  const issuerOf = (c: crypto.X509Certificate) => c.issuer.split('\n').reverse().join(',');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!-- TEST MATERIAL: made by cineswarm's test suite with a throwaway certificate authority; never a real KDM -->
<DCinemaSecurityMessage xmlns="http://www.smpte-ra.org/schemas/430-3/2006/ETM" xmlns:ds="${DSIG}" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<AuthenticatedPublic Id="ID_AuthenticatedPublic">
<MessageId>urn:uuid:${messageId}</MessageId>
<MessageType>http://www.smpte-ra.org/430-1/2006/KDM#kdm-key-type</MessageType>
<AnnotationText>TEST KDM for ${spec.title}</AnnotationText>
<IssueDate>${new Date().toISOString().slice(0, 19)}+00:00</IssueDate>
<Signer><ds:X509IssuerName>${issuerOf(signerCert)}</ds:X509IssuerName><ds:X509SerialNumber>${signerSerial}</ds:X509SerialNumber></Signer>
<RequiredExtensions><KDMRequiredExtensions xmlns="http://www.smpte-ra.org/schemas/430-1/2006/KDM">
<Recipient><X509IssuerSerial><ds:X509IssuerName>${pki.recipientDn.issuer}</ds:X509IssuerName><ds:X509SerialNumber>${pki.recipientDn.serial}</ds:X509SerialNumber></X509IssuerSerial>
<X509SubjectName>${pki.recipientDn.subject}</X509SubjectName></Recipient>
<CompositionPlaylistId>urn:uuid:${spec.cplId}</CompositionPlaylistId>
<ContentTitleText>${spec.title}</ContentTitleText>
<ContentKeysNotValidBefore>${spec.notValidBefore}</ContentKeysNotValidBefore>
<ContentKeysNotValidAfter>${spec.notValidAfter}</ContentKeysNotValidAfter>
<AuthorizedDeviceInfo><DeviceListIdentifier>urn:uuid:${crypto.randomUUID()}</DeviceListIdentifier><DeviceList><CertificateThumbprint>2jmj7l5rSw0yVb/vlWAYkK/YBwk=</CertificateThumbprint></DeviceList></AuthorizedDeviceInfo>
<KeyIdList>${keys.map((k) => `<TypedKeyId><KeyType scope="http://www.smpte-ra.org/430-1/2006/KDM#kdm-key-type">${k.type}</KeyType><KeyId>urn:uuid:${k.id}</KeyId></TypedKeyId>`).join('')}</KeyIdList>
</KDMRequiredExtensions></RequiredExtensions>
<NonCriticalExtensions/>
</AuthenticatedPublic>
<AuthenticatedPrivate Id="ID_AuthenticatedPrivate">${keys.map((k) => `<enc:EncryptedKey><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></enc:EncryptionMethod><enc:CipherData><enc:CipherValue>${k.cipher}</enc:CipherValue></enc:CipherData></enc:EncryptedKey>`).join('')}</AuthenticatedPrivate>
${signatureTemplate(['#ID_AuthenticatedPublic', '#ID_AuthenticatedPrivate'], false)}
</DCinemaSecurityMessage>
`;
  return { xml: xmlsecSign(pki, xml, ['AuthenticatedPublic', 'AuthenticatedPrivate']), messageId };
}
