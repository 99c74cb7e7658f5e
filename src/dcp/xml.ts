// Small namespace-aware XML tree over fast-xml-parser, for the DCP documents (ASSETMAP, VOLINDEX,
// PKL, CPL). Elements carry their local name and resolved namespace URI, so `am:AssetMap` and a
// default-namespace `AssetMap` read the same way.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DcpError } from './errors.js';

export interface XmlElement {
  name: string;               // local name, prefix removed
  prefix: string | null;
  ns: string | null;          // resolved namespace URI
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;               // concatenated direct text content, trimmed
}

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Parses a whole document; throws DcpError XML_EMPTY / XML_MALFORMED naming `label`. */
export function parseXml(source: string | Buffer, label: string): XmlElement {
  let text = typeof source === 'string' ? source : decode(source);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte order mark
  if (text.trim() === '') throw new DcpError('XML_EMPTY', `${label} is empty`, label);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line } = valid.err;
    throw new DcpError('XML_MALFORMED', `${label} is not valid XML (line ${line}: ${msg})`, label);
  }
  const nodes = parser.parse(text) as OrderedNode[];
  const roots = nodes.map((n) => toElement(n, new Map())).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) throw new DcpError('XML_MALFORMED', `${label} has no single root element`, label);
  return roots[0]!;
}

// DCP XML is UTF-8 in practice; a UTF-16 byte order mark is honoured rather than misread as garbage.
function decode(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    const body = Buffer.from(b.subarray(2, b.length - (b.length % 2))); // a copy: swap16 works in place
    return body.swap16().toString('utf16le');
  }
  return b.toString('utf8');
}

function toElement(node: OrderedNode, scope: Map<string, string>): XmlElement | null {
  const tag = Object.keys(node).find((k) => k !== ':@');
  if (tag === undefined || tag === '#text' || tag.startsWith('?') || tag.startsWith('!')) return null;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  let local = scope;
  for (const [k, v] of Object.entries(rawAttrs)) {
    const value = String(v);
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (local === scope) local = new Map(scope);
      local.set(k === 'xmlns' ? '' : k.slice(6), value);
    } else {
      attrs[k] = value;
    }
  }
  const colon = tag.indexOf(':');
  const prefix = colon >= 0 ? tag.slice(0, colon) : null;
  const name = colon >= 0 ? tag.slice(colon + 1) : tag;
  const el: XmlElement = { name, prefix, ns: local.get(prefix ?? '') ?? null, attrs, children: [], text: '' };
  const texts: string[] = [];
  for (const child of (node[tag] ?? []) as OrderedNode[]) {
    if ('#text' in child) texts.push(String(child['#text']));
    else {
      const c = toElement(child, local);
      if (c) el.children.push(c);
    }
  }
  el.text = texts.join('').trim();
  return el;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Text of a direct child, or null when the child is absent or empty. */
export function childText(el: XmlElement, name: string): string | null {
  const c = child(el, name);
  return c && c.text !== '' ? c.text : null;
}

/** A UUID as DCP documents write it (`urn:uuid:…`, any case) in the canonical lower-case form. */
export function normalizeId(raw: string | null): string | null {
  if (raw === null) return null;
  return raw.trim().replace(/^urn:uuid:/i, '').toLowerCase();
}

/** Non-negative integer field, or null if absent; throws on garbage so a bad size is never guessed. */
export function intField(el: XmlElement, name: string, label: string): number | null {
  const t = childText(el, name);
  if (t === null) return null;
  if (!/^\d+$/.test(t)) throw new DcpError('XML_BAD_VALUE', `${label}: <${name}> is not a whole number ("${t}")`, label);
  return Number(t);
}
