// The compositions (CPLs) of a DCP folder with what KDM checks need: encrypted or not, and the KeyIds
// its encrypted track files carry. Reads only the asset map and the small XML files, never hashes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAssetMap } from './assetmap.js';
import { parseCpl, type CompositionPlaylist } from './cpl.js';
import { DcpError } from './errors.js';
import type { CompositionKeys } from './kdm-check.js';
import { isInside, resolveAssetPath } from './paths.js';

const MAX_CPL_BYTES = 16 * 1024 * 1024;

export function compositionKeys(cpl: CompositionPlaylist): CompositionKeys | null {
  if (cpl.id === null) return null;
  const keyIds = [...new Set(cpl.reels.flatMap((r) => r.trackFiles).map((t) => t.keyId).filter((k): k is string => k !== null))];
  return { id: cpl.id, title: cpl.title, encrypted: cpl.encrypted, keyIds };
}

/** Every readable CPL of the DCP in `dir`; a folder that is not (yet) a readable DCP yields none. */
export async function readCompositions(dir: string): Promise<CompositionKeys[]> {
  let root: string;
  let names: string[];
  try {
    root = await fs.realpath(dir);
    names = await fs.readdir(root);
  } catch {
    return [];
  }
  const mapName = names.find((n) => n === 'ASSETMAP.xml') ?? names.find((n) => n === 'ASSETMAP');
  if (!mapName) return [];
  let entries;
  try {
    entries = parseAssetMap(await fs.readFile(path.join(root, mapName)), mapName).assets;
  } catch (err) {
    if (err instanceof DcpError) return [];
    throw err;
  }
  const out: CompositionKeys[] = [];
  for (const e of entries) {
    if (e.packingList || e.path === null || !/\.xml$/i.test(e.path)) continue;
    const where = resolveAssetPath(root, e.path);
    if (!where.ok) continue;
    try {
      const real = await fs.realpath(where.abs);
      if (!isInside(root, real)) continue;
      const st = await fs.stat(real);
      if (!st.isFile() || st.size > MAX_CPL_BYTES) continue;
      const keys = compositionKeys(parseCpl(await fs.readFile(real), where.rel));
      if (keys) out.push(keys);
    } catch {
      continue; // absent (still downloading), or another kind of XML document
    }
  }
  return out;
}
