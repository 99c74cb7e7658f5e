// Composition playlist reader (SMPTE ST 429-7 and Interop): title, reels and the track files each reel plays.
import { DcpError } from './errors.js';
import { flavourOf, type Flavour } from './namespaces.js';
import { child, childText, normalizeId, parseXml } from './xml.js';

// Reel entries that carry an Id but name no file: they must never be looked up in the ASSETMAP.
const NOT_TRACK_FILES = new Set(['MainMarkers', 'CompositionMetadataAsset']);

export interface CplTrackFile {
  kind: string;               // element local name: MainPicture, MainSound, MainSubtitle, AuxData, ...
  id: string;
  reel: number;               // 1-based reel number
  hash: string | null;        // CPL <Hash>, optional unless encrypted
  keyId: string | null;       // present ⇒ the track file is encrypted
  intrinsicDuration: number | null;
  editRate: string | null;
}

export interface CplReel { id: string | null; trackFiles: CplTrackFile[] }

export interface CompositionPlaylist {
  id: string | null;
  flavour: Flavour;
  namespace: string;
  title: string | null;
  kind: string | null;
  annotation: string | null;
  reels: CplReel[];
  encrypted: boolean;
  signed: boolean;
}

export function parseCpl(source: string | Buffer, label: string): CompositionPlaylist {
  const root = parseXml(source, label);
  if (root.name !== 'CompositionPlaylist') {
    throw new DcpError('CPL_WRONG_ROOT', `${label} is not a composition playlist (its root element is <${root.name}>)`, label);
  }
  const flavour = flavourOf('cpl', root.ns);
  if (!flavour) {
    throw new DcpError('CPL_NAMESPACE',
      `${label} uses an unknown namespace (${root.ns ?? 'none'}); it is neither an SMPTE nor an Interop composition`, label);
  }
  const reelList = child(root, 'ReelList');
  if (!reelList) throw new DcpError('CPL_INVALID', `${label} has no <ReelList>`, label);
  const reels = reelList.children.filter((r) => r.name === 'Reel').map((reel, i): CplReel => {
    const assetList = child(reel, 'AssetList');
    const trackFiles: CplTrackFile[] = [];
    for (const a of assetList?.children ?? []) {
      if (NOT_TRACK_FILES.has(a.name)) continue;
      const id = normalizeId(childText(a, 'Id'));
      if (!id) continue; // extension elements without an Id name no file
      trackFiles.push({
        kind: a.name,
        id,
        reel: i + 1,
        hash: childText(a, 'Hash'),
        keyId: normalizeId(childText(a, 'KeyId')),
        intrinsicDuration: lenientInt(childText(a, 'IntrinsicDuration')),
        editRate: childText(a, 'EditRate'),
      });
    }
    return { id: normalizeId(childText(reel, 'Id')), trackFiles };
  });
  const signature = child(root, 'Signature');
  return {
    id: normalizeId(childText(root, 'Id')),
    flavour,
    namespace: root.ns!,
    title: childText(root, 'ContentTitleText'),
    kind: childText(root, 'ContentKind'),
    annotation: childText(root, 'AnnotationText'),
    reels,
    encrypted: reels.some((r) => r.trackFiles.some((t) => t.keyId !== null)),
    signed: signature !== undefined && signature.children.length > 0,
  };
}

// Durations are informative here (verification never depends on them), so an odd value is dropped, not fatal.
function lenientInt(t: string | null): number | null {
  return t !== null && /^\d+$/.test(t) ? Number(t) : null;
}
