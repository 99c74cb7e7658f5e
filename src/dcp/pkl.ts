// Packing list reader (SMPTE ST 429-8 and Interop): the manifest giving each asset's size, SHA-1 and type.
import { DcpError } from './errors.js';
import { NS, flavourOf, type Flavour } from './namespaces.js';
import { child, childText, children, intField, normalizeId, parseXml } from './xml.js';

export interface PklAsset {
  id: string;
  hash: string | null;        // base64 SHA-1; optional in Interop
  size: number | null;
  type: string | null;
  originalFileName: string | null;
  annotation: string | null;
}

export interface PackingList {
  id: string | null;
  flavour: Flavour;
  namespace: string;
  annotation: string | null;
  issuer: string | null;
  creator: string | null;
  signed: boolean;
  assets: PklAsset[];
  /** Accepted but non-DCP namespace (IMF's 2067-2, as DaVinci Resolve writes): worth a warning. */
  unusualNamespace: boolean;
}

export function parsePkl(source: string | Buffer, label: string): PackingList {
  const root = parseXml(source, label);
  if (root.name !== 'PackingList') {
    throw new DcpError('PKL_INVALID', `${label} is not a packing list (its root element is <${root.name}>)`, label);
  }
  const flavour = flavourOf('pkl', root.ns);
  if (!flavour) {
    throw new DcpError('PKL_NAMESPACE',
      `${label} uses an unknown namespace (${root.ns ?? 'none'}); it is neither an SMPTE nor an Interop packing list`, label);
  }
  const list = child(root, 'AssetList');
  if (!list) throw new DcpError('PKL_INVALID', `${label} has no <AssetList>`, label);
  const assets = children(list, 'Asset').map((a, i): PklAsset => {
    const id = normalizeId(childText(a, 'Id'));
    if (!id) throw new DcpError('PKL_INVALID', `${label}: asset ${i + 1} has no <Id>`, label);
    return {
      id,
      hash: childText(a, 'Hash'),
      size: intField(a, 'Size', label),
      type: childText(a, 'Type'),
      originalFileName: childText(a, 'OriginalFileName'),
      annotation: childText(a, 'AnnotationText'),
    };
  });
  const signature = child(root, 'Signature');
  return {
    id: normalizeId(childText(root, 'Id')),
    flavour,
    namespace: root.ns!,
    annotation: childText(root, 'AnnotationText'),
    issuer: childText(root, 'Issuer'),
    creator: childText(root, 'Creator'),
    signed: signature !== undefined && signature.children.length > 0,
    assets,
    unusualNamespace: root.ns === NS.imfPkl,
  };
}

/** True when the PKL Type says the asset is a composition playlist (Interop kind, or SMPTE's plain text/xml). */
export function maybeCpl(type: string | null): boolean {
  if (type === null) return false;
  const t = type.toLowerCase().replace(/\s+/g, '');
  if (t.includes('asdcpkind=cpl')) return true;
  return t === 'text/xml' || t === 'application/xml';
}
