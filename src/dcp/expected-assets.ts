// What each file of a DCP must hash to, from its ASSETMAP and packing lists alone: lets a
// download check each asset the moment it is complete, before the rest of the DCP is there.
// It judges nothing about the package (verify.ts does, in full); an unreadable map gives null.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAssetMap } from './assetmap.js';
import { parsePkl } from './pkl.js';
import { resolveAssetPath } from './paths.js';
import { MAX_XML_BYTES } from './verify-items.js';

export interface ExpectedAsset {
  /** path relative to the DCP folder, '/'-separated, as resolveAssetPath gives it */
  rel: string;
  size: number | null;
  /** base64 SHA-1 from the packing list */
  hash: string;
}

async function readXml(file: string): Promise<Buffer | null> {
  try {
    const st = await fs.lstat(file);
    if (!st.isFile() || st.size > MAX_XML_BYTES) return null;
    return await fs.readFile(file);
  } catch {
    return null;
  }
}

/**
 * The assets with a checksum in the DCP's packing lists, by relative path; null while the
 * ASSETMAP or a packing list it names is missing or unreadable (the full verification says why).
 */
export async function expectedAssets(dcpDir: string, opts: { isComplete?: (rel: string) => boolean } = {}): Promise<Map<string, ExpectedAsset> | null> {
  // During a download a file may exist with holes in it: only files said to be complete are read.
  const complete = opts.isComplete ?? (() => true);
  const mapName = ['ASSETMAP.xml', 'ASSETMAP'];
  let text: Buffer | null = null;
  let label = '';
  for (const n of mapName) {
    if (!complete(n)) continue;
    text = await readXml(path.join(dcpDir, n));
    if (text) {
      label = n;
      break;
    }
  }
  if (!text) return null;
  try {
    const map = parseAssetMap(text, label);
    const where = new Map<string, string>();
    const pkls: string[] = [];
    for (const e of map.assets) {
      const r = resolveAssetPath(dcpDir, e.path ?? '');
      if (!r.ok) continue;
      where.set(e.id, r.rel);
      if (e.packingList) pkls.push(r.rel);
    }
    if (pkls.length === 0) return null;
    const out = new Map<string, ExpectedAsset>();
    const conflicting = new Set<string>();
    for (const rel of pkls) {
      if (!complete(rel)) return null;
      const pklText = await readXml(path.join(dcpDir, rel));
      if (!pklText) return null;
      for (const a of parsePkl(pklText, rel).assets) {
        const file = where.get(a.id);
        if (!file || a.hash === null) continue;
        // One file listed twice with different checksums cannot be judged early: leave it to the full check.
        const prev = out.get(file);
        if ((prev && prev.hash !== a.hash) || conflicting.has(file)) {
          conflicting.add(file);
          out.delete(file);
        } else out.set(file, { rel: file, size: a.size, hash: a.hash });
      }
    }
    return out;
  } catch {
    return null;
  }
}
