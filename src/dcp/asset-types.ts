// Friendly asset type names for reports, from the CPL reel element or the PKL <Type>.

const CPL_KINDS: Record<string, string> = {
  MainPicture: 'picture',
  MainStereoscopicPicture: 'picture-3d',
  MainSound: 'sound',
  MainSubtitle: 'subtitle',
  MainCaption: 'caption',
  ClosedCaption: 'closed-caption',
  MainClosedCaption: 'closed-caption',
  AuxData: 'aux-data',
};

export function typeFromCplKind(kind: string): string {
  return CPL_KINDS[kind] ?? kind.replace(/^Main/, '').toLowerCase();
}

export function typeFromPklType(type: string | null): string {
  if (type === null) return 'asset';
  const t = type.toLowerCase();
  const kind = /asdcpkind=([a-z0-9]+)/.exec(t)?.[1];
  if (kind === 'cpl') return 'composition';
  if (kind) return kind;
  if (t.startsWith('image/')) return 'image';
  if (t.includes('ttf') || t.includes('font')) return 'font';
  if (t.includes('mxf')) return 'track-file';
  if (t.includes('xml')) return 'xml';
  return 'asset';
}

/** "picture file video.mxf" style label for messages. */
export function describe(type: string, name: string): string {
  const words: Record<string, string> = {
    'picture-3d': '3D picture', 'aux-data': 'auxiliary data (e.g. Atmos)', 'closed-caption': 'closed caption',
    'track-file': 'track file', composition: 'composition playlist', asset: 'file', xml: 'XML file',
  };
  return `${words[type] ?? type} ${name}`;
}
