// Key Delivery Message reader (SMPTE ST 430-1 in the ST 430-3 envelope): the facts a cinema and a
// distributor need (which composition, for whom, when, which keys, who signed). Reads, never decrypts.
import { DcpError } from './errors.js';
import { child, childText, children, normalizeId, parseXml, type XmlElement } from './xml.js';

export const KDM_NS = {
  etm: 'http://www.smpte-ra.org/schemas/430-3/2006/ETM',
  kdm: 'http://www.smpte-ra.org/schemas/430-1/2006/KDM',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

/** Real KDMs are 10–40 KB even with hundreds of keys; anything near this is not a KDM. */
export const MAX_KDM_BYTES = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface KdmRecipient {
  subject: string;            // X509SubjectName as written
  issuer: string;             // X509IssuerSerial/X509IssuerName as written
  serial: string;             // decimal, as written
  dnQualifier: string | null; // the subject's dnQualifier: base64 SHA-1 of the recipient's public key
}

export interface KdmKey { type: string; id: string }

export interface KdmFacts {
  messageId: string;          // lower-case UUID without urn:uuid: (safe as a file name)
  messageType: string | null;
  annotation: string | null;
  issueDate: string;
  cplId: string;              // lower-case UUID without urn:uuid:
  title: string | null;
  notValidBefore: string;     // as written (ISO 8601 with offset)
  notValidAfter: string;
  recipient: KdmRecipient;
  keys: KdmKey[];
  signer: { issuer: string; serial: string } | null;
  /** the Id attributes of the two authenticated parts, and the URIs the signature's references cover */
  publicId: string | null;
  privateId: string | null;
  signed: boolean;
  references: string[];
  /** base64 DER of each ds:X509Certificate in ds:KeyInfo, in document order */
  certificates: string[];
  encryptedKeys: number;
}

/**
 * Parses KDM bytes; throws DcpError (KDM_TOO_LARGE, KDM_DOCTYPE, XML_MALFORMED, KDM_NOT_KDM,
 * KDM_MISSING_FIELD, KDM_BAD_VALUE) with a message naming `label`.
 */
export function parseKdm(source: string | Buffer, label: string): KdmFacts {
  const size = typeof source === 'string' ? Buffer.byteLength(source) : source.length;
  if (size > MAX_KDM_BYTES) {
    throw new DcpError('KDM_TOO_LARGE', `${label} is ${size} bytes; a KDM is at most ${MAX_KDM_BYTES} bytes`, label);
  }
  const text = typeof source === 'string' ? source : source.toString('utf8');
  // A document type declaration is the only way to define entities; KDMs never carry one, so refusing
  // it rules out entity expansion (and external fetches) in our parser and in xmlsec1 alike.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new DcpError('KDM_DOCTYPE', `${label} declares a document type or entities; a KDM never does, so it is refused`, label);
  }
  const root = parseXml(text, label);
  if (root.name !== 'DCinemaSecurityMessage' || root.ns !== KDM_NS.etm) {
    throw new DcpError('KDM_NOT_KDM',
      `${label} is not a KDM: its root element is <${root.name}> in ${root.ns ?? 'no namespace'}, not an SMPTE DCinemaSecurityMessage`, label);
  }
  const pub = need(root, 'AuthenticatedPublic', label);
  const ext = child(child(pub, 'RequiredExtensions') ?? pub, 'KDMRequiredExtensions');
  if (!ext || ext.ns !== KDM_NS.kdm) {
    throw new DcpError('KDM_NOT_KDM', `${label} is a security message but carries no SMPTE KDMRequiredExtensions, so it is not a KDM`, label);
  }
  const recipientEl = need(ext, 'Recipient', label);
  const issuerSerial = need(recipientEl, 'X509IssuerSerial', label);
  const subject = needText(recipientEl, 'X509SubjectName', label);
  const recipient: KdmRecipient = {
    subject,
    issuer: needText(issuerSerial, 'X509IssuerName', label),
    serial: serialText(needText(issuerSerial, 'X509SerialNumber', label), label),
    dnQualifier: dnQualifierOf(subject),
  };
  const keys = children(child(ext, 'KeyIdList') ?? ext, 'TypedKeyId').map((k, i): KdmKey => ({
    type: childText(k, 'KeyType') ?? 'unknown',
    id: uuidField(k, 'KeyId', `${label}: key ${i + 1}`),
  }));
  if (keys.length === 0) throw new DcpError('KDM_MISSING_FIELD', `${label} lists no keys (<KeyIdList> is empty or absent)`, label);
  const signerEl = child(pub, 'Signer');
  const signature = child(root, 'Signature');
  const signedInfo = signature ? child(signature, 'SignedInfo') : undefined;
  const keyInfo = signature ? child(signature, 'KeyInfo') : undefined;
  const facts: KdmFacts = {
    messageId: uuidField(pub, 'MessageId', label),
    messageType: childText(pub, 'MessageType'),
    annotation: childText(pub, 'AnnotationText'),
    issueDate: dateField(pub, 'IssueDate', label),
    cplId: uuidField(ext, 'CompositionPlaylistId', label),
    title: childText(ext, 'ContentTitleText'),
    notValidBefore: dateField(ext, 'ContentKeysNotValidBefore', label),
    notValidAfter: dateField(ext, 'ContentKeysNotValidAfter', label),
    recipient,
    keys,
    signer: signerEl
      ? { issuer: childText(signerEl, 'X509IssuerName') ?? '', serial: childText(signerEl, 'X509SerialNumber') ?? '' }
      : null,
    publicId: pub.attrs.Id ?? null,
    privateId: child(root, 'AuthenticatedPrivate')?.attrs.Id ?? null,
    signed: signedInfo !== undefined,
    references: signedInfo ? children(signedInfo, 'Reference').map((r) => r.attrs.URI ?? '') : [],
    certificates: keyInfo ? collect(keyInfo, 'X509Certificate').map((c) => c.text.replace(/\s+/g, '')) : [],
    encryptedKeys: children(child(root, 'AuthenticatedPrivate') ?? root, 'EncryptedKey').length,
  };
  if (Date.parse(facts.notValidAfter) <= Date.parse(facts.notValidBefore)) {
    throw new DcpError('KDM_BAD_VALUE', `${label}: its keys stop being valid (${facts.notValidAfter}) before they start (${facts.notValidBefore})`, label);
  }
  return facts;
}

/** The dnQualifier attribute of a distinguished name as KDMs write it (`dnQualifier=…,CN=…`), unescaped. */
export function dnQualifierOf(dn: string): string | null {
  const m = /(?:^|,)\s*dnQualifier=((?:\\.|[^,\\])*)/i.exec(dn);
  return m ? m[1]!.replace(/\\(.)/g, '$1').trim() : null;
}

function need(el: XmlElement, name: string, label: string): XmlElement {
  const c = child(el, name);
  if (!c) throw new DcpError('KDM_MISSING_FIELD', `${label} has no <${name}> in <${el.name}>`, label);
  return c;
}

function needText(el: XmlElement, name: string, label: string): string {
  const t = childText(el, name);
  if (t === null) throw new DcpError('KDM_MISSING_FIELD', `${label} has no <${name}> in <${el.name}>`, label);
  return t;
}

function uuidField(el: XmlElement, name: string, label: string): string {
  const id = normalizeId(needText(el, name, label))!;
  if (!UUID.test(id)) throw new DcpError('KDM_BAD_VALUE', `${label}: <${name}> is not a UUID ("${id}")`, label);
  return id;
}

function dateField(el: XmlElement, name: string, label: string): string {
  const t = needText(el, name, label);
  // xs:dateTime; one without a zone cannot be judged against a clock, so it is refused rather than guessed.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(t) || Number.isNaN(Date.parse(t))) {
    throw new DcpError('KDM_BAD_VALUE', `${label}: <${name}> is not a date and time with a time zone ("${t}")`, label);
  }
  return t;
}

function serialText(t: string, label: string): string {
  if (!/^\d+$/.test(t)) throw new DcpError('KDM_BAD_VALUE', `${label}: the recipient serial number is not a decimal number ("${t}")`, label);
  return BigInt(t).toString();
}

function collect(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    else out.push(...collect(c, name));
  }
  return out;
}
