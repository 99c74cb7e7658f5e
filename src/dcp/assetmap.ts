// ASSETMAP reader (SMPTE ST 429-9 `ASSETMAP.xml` and Interop `ASSETMAP`): which file holds which asset UUID,
// and which of them are packing lists.
import { DcpError } from './errors.js';
import { flavourOf, type Flavour } from './namespaces.js';
import { child, childText, children, intField, normalizeId, parseXml } from './xml.js';

export interface AssetMapEntry {
  id: string;                 // lower-case UUID without urn:uuid:
  path: string | null;        // first chunk's Path exactly as written (may be unsafe; see paths.ts)
  packingList: boolean;
  length: number | null;      // first chunk's Length (bytes)
  offset: number | null;
  volumeIndex: number | null;
  chunkCount: number;
}

export interface AssetMap {
  id: string | null;
  flavour: Flavour;
  namespace: string;
  annotation: string | null;
  creator: string | null;
  volumeCount: number | null;
  assets: AssetMapEntry[];
}

export function parseAssetMap(source: string | Buffer, label: string): AssetMap {
  const root = parseXml(source, label);
  if (root.name !== 'AssetMap') {
    throw new DcpError('ASSETMAP_INVALID', `${label} is not an asset map (its root element is <${root.name}>)`, label);
  }
  const flavour = flavourOf('assetmap', root.ns);
  if (!flavour) {
    throw new DcpError('ASSETMAP_NAMESPACE',
      `${label} uses an unknown namespace (${root.ns ?? 'none'}); it is neither an SMPTE nor an Interop asset map`, label);
  }
  const list = child(root, 'AssetList');
  if (!list) throw new DcpError('ASSETMAP_INVALID', `${label} has no <AssetList>`, label);
  const assets = children(list, 'Asset').map((a, i): AssetMapEntry => {
    const id = normalizeId(childText(a, 'Id'));
    if (!id) throw new DcpError('ASSETMAP_INVALID', `${label}: asset ${i + 1} has no <Id>`, label);
    const flag = child(a, 'PackingList');
    // Interop marks a PKL by the element's presence (<PackingList/>), SMPTE by xs:boolean "true".
    const packingList = flag !== undefined && !['false', '0'].includes(flag.text.toLowerCase());
    const chunks = children(child(a, 'ChunkList') ?? a, 'Chunk');
    const first = chunks[0];
    return {
      id,
      path: first ? (childText(first, 'Path') ?? '') : null,
      packingList,
      length: first ? intField(first, 'Length', label) : null,
      offset: first ? intField(first, 'Offset', label) : null,
      volumeIndex: first ? intField(first, 'VolumeIndex', label) : null,
      chunkCount: chunks.length,
    };
  });
  return {
    id: normalizeId(childText(root, 'Id')),
    flavour,
    namespace: root.ns!,
    annotation: childText(root, 'AnnotationText'),
    creator: childText(root, 'Creator'),
    volumeCount: intField(root, 'VolumeCount', label),
    assets,
  };
}
