// What the verification steps hand one another (asset-map entries with their resolved paths,
// loaded packing lists) and the size limit they share; kept apart from verify.ts, which runs the
// steps, so that no step imports the module that imports it.
import type { AssetMapEntry } from './assetmap.js';
import type { PathResult } from './paths.js';
import type { PackingList } from './pkl.js';

export const MAX_XML_BYTES = 64 * 1024 * 1024; // no DCP XML document comes near this; protects memory

export interface AmItem { entry: AssetMapEntry; where: PathResult }
export interface LoadedPkl { rel: string; pkl: PackingList }
