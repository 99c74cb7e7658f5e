// Public face of DCP parsing and verification; the rest of cineswarm imports from here only.
export { verifyDcp } from './verify.js';
export type { AssetCheck, Finding, Flavour, Verdict, VerifyOptions, VerifyReport } from './types.js';
export { DcpError } from './errors.js';
export { parseAssetMap, type AssetMap, type AssetMapEntry } from './assetmap.js';
export { parseVolIndex, type VolIndex } from './volindex.js';
export { parsePkl, type PackingList, type PklAsset } from './pkl.js';
export { parseCpl, type CompositionPlaylist, type CplReel, type CplTrackFile } from './cpl.js';
export { parseXml, type XmlElement } from './xml.js';
export { resolveAssetPath, type PathResult } from './paths.js';
export { renderSummary, formatBytes } from './summary.js';
