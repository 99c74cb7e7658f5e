// Looks at what is in the folder beyond the packing lists: asset-map entries no PKL covers, packing lists
// or compositions the asset map does not list, and foreign or hidden files.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { VerifyContext } from './context.js';
import { inspectFile } from './paths.js';
import { parseXml } from './xml.js';
import type { AmItem, LoadedPkl } from './verify-items.js';

const SNIFF_LIMIT = 4 * 1024 * 1024;
const MAX_DEPTH = 8;
const MAX_ENTRIES = 20000;

export async function scanFolder(
  ctx: VerifyContext, amIndex: Map<string, AmItem>, pkls: LoadedPkl[], playedBy: Map<string, string>,
): Promise<void> {
  const inPkl = new Set(pkls.flatMap((p) => p.pkl.assets.map((a) => a.id)));
  await checkAssetMapExtras(ctx, amIndex, inPkl, playedBy);
  const listed = new Set<string>();
  for (const { where } of amIndex.values()) if (where.ok) listed.add(where.rel);
  const own = new Set(['ASSETMAP', 'ASSETMAP.xml', 'VOLINDEX', 'VOLINDEX.xml']);
  const foreign: string[] = [];
  for (const rel of await walk(ctx.rootReal)) {
    if (listed.has(rel) || own.has(rel)) continue;
    const kind = /\.xml$/i.test(rel) ? await sniff(path.join(ctx.rootReal, rel)) : null;
    if (kind === 'PackingList') {
      ctx.error(rel, 'PKL_NOT_IN_ASSETMAP', `${rel} is a packing list that the asset map does not list: the package is inconsistent (an extra or leftover PKL)`);
    } else if (kind === 'CompositionPlaylist') {
      ctx.error(rel, 'CPL_NOT_IN_ASSETMAP', `${rel} is a composition playlist that the asset map does not list: the package is inconsistent`);
    } else foreign.push(rel);
  }
  for (const rel of foreign) {
    if (path.basename(rel).startsWith('.')) ctx.warn(rel, 'HIDDEN_FILE', `${rel} is a hidden file that is not part of the DCP; some servers refuse folders holding extra files`);
    else ctx.warn(rel, 'FOREIGN_FILE', `${rel} is not part of the DCP (not in the asset map); some servers refuse folders holding extra files`);
  }
}

async function checkAssetMapExtras(
  ctx: VerifyContext, amIndex: Map<string, AmItem>, inPkl: Set<string>, playedBy: Map<string, string>,
): Promise<void> {
  for (const { entry, where } of amIndex.values()) {
    if (entry.packingList || inPkl.has(entry.id) || !where.ok) continue;
    const rel = where.rel;
    const disk = await inspectFile(ctx.rootReal, where.abs);
    if (disk.state === 'escapes') {
      ctx.error(rel, 'PATH_ESCAPES', `${rel} is a link that leads outside the DCP folder (to ${disk.target}); it was not opened`);
      continue;
    }
    if (disk.state === 'file' && /\.xml$/i.test(rel)) {
      const kind = await sniff(disk.real);
      if (kind === 'CompositionPlaylist') {
        ctx.error(rel, 'CPL_NOT_IN_PKL', `${rel} is a composition playlist that no packing list covers, so it cannot be checked; the package is inconsistent`);
        continue;
      }
      if (kind === 'PackingList') {
        ctx.error(rel, 'PKL_NOT_FLAGGED', `${rel} is a packing list, but the asset map does not mark it as one; the assets it lists were not checked`);
        continue;
      }
    }
    const cpl = playedBy.get(entry.id);
    if (cpl !== undefined) {
      if (disk.state === 'file') {
        ctx.warn(rel, 'TRACK_NOT_IN_PKL', `${rel} is played by ${cpl} but no packing list covers it, so its contents could not be checked`);
      } else {
        ctx.error(rel, 'ASSET_MISSING', `${rel} is missing: ${cpl} plays it and the asset map places it in this folder; the package is incomplete`);
      }
      continue;
    }
    let detail: string;
    if (disk.state !== 'file') detail = 'and it is not in the folder';
    else if (entry.length !== null && entry.length !== disk.size) {
      detail = `and its size on disk (${disk.size} bytes) differs from the asset map's length (${entry.length})`;
    } else detail = 'so it cannot be checked';
    ctx.warn(rel, 'NOT_IN_PKL', `${rel} is in the asset map but in no packing list, ${detail}; it is not needed to play this package`);
  }
}

/** Relative paths of every entry below root that is not a directory; symlinks are listed, never followed. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const queue: { dir: string; depth: number }[] = [{ dir: '', depth: 0 }];
  while (queue.length > 0 && out.length < MAX_ENTRIES) {
    const { dir, depth } = queue.shift()!;
    const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) queue.push({ dir: rel, depth: depth + 1 });
      } else out.push(rel);
    }
  }
  return out;
}

/** Root element name of a small regular file (symlinks are not read), or null. */
async function sniff(file: string): Promise<string | null> {
  try {
    const st = await fs.lstat(file);
    if (!st.isFile() || st.size > SNIFF_LIMIT) return null;
    return parseXml(await fs.readFile(file), path.basename(file)).name;
  } catch {
    return null;
  }
}
