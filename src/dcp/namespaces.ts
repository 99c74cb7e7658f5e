// The XML namespaces of DCP documents and the flavour (SMPTE or Interop) each one implies.

export type Flavour = 'smpte' | 'interop';

export const NS = {
  interopAm: 'http://www.digicine.com/PROTO-ASDCP-AM-20040311#',
  interopVolIndex: 'http://www.digicine.com/PROTO-ASDCP-VL-20040311#',
  interopPkl: 'http://www.digicine.com/PROTO-ASDCP-PKL-20040311#',
  interopCpl: 'http://www.digicine.com/PROTO-ASDCP-CPL-20040511#',
  smpteAm: 'http://www.smpte-ra.org/schemas/429-9/2007/AM',
  smptePkl: 'http://www.smpte-ra.org/schemas/429-8/2007/PKL',
  smptePkl2006: 'http://www.smpte-ra.org/schemas/429-8/2006/PKL',
  imfPkl: 'http://www.smpte-ra.org/schemas/2067-2/2016/PKL',
  smpteCpl: 'http://www.smpte-ra.org/schemas/429-7/2006/CPL',
} as const;

// Interop VOLINDEX files are found in the wild with the asset-map namespace (DCP-o-matic 2.8), so both count.
const AM: Record<string, Flavour> = { [NS.interopAm]: 'interop', [NS.smpteAm]: 'smpte' };
const VOLINDEX: Record<string, Flavour> = { ...AM, [NS.interopVolIndex]: 'interop' };
const PKL: Record<string, Flavour> = {
  [NS.interopPkl]: 'interop',
  [NS.smptePkl]: 'smpte',
  [NS.smptePkl2006]: 'smpte',
  [NS.imfPkl]: 'smpte',
};
const CPL: Record<string, Flavour> = { [NS.interopCpl]: 'interop', [NS.smpteCpl]: 'smpte' };

const TABLES = { assetmap: AM, volindex: VOLINDEX, pkl: PKL, cpl: CPL } as const;

export function flavourOf(kind: keyof typeof TABLES, ns: string | null): Flavour | null {
  if (ns === null) return null;
  return TABLES[kind][ns] ?? null;
}
