// Verifies a DCP folder against its ASSETMAP and packing lists (rules R1–R15, R19, R20 of our DCP
// verification notes): every asset present, inside the folder, right size, right SHA-1. Read-only.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAssetMap, type AssetMap } from './assetmap.js';
import { checkPklAssets } from './check-assets.js';
import { checkCompositions } from './check-cpl.js';
import { VerifyContext } from './context.js';
import { DcpError } from './errors.js';
import { inspectFile, resolveAssetPath } from './paths.js';
import { notePathForms } from './path-forms.js';
import { parsePkl } from './pkl.js';
import { scanFolder } from './scan.js';
import type { VerifyOptions, VerifyReport } from './types.js';
import { MAX_XML_BYTES, type AmItem, type LoadedPkl } from './verify-items.js';
import { parseVolIndex } from './volindex.js';

export async function verifyDcp(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const ctx = new VerifyContext(path.resolve(dir));
  try {
    await run(ctx, opts);
  } catch (err) {
    if (err instanceof DcpError) ctx.error(err.file ?? path.basename(ctx.root), err.code, err.message);
    else ctx.error(path.basename(ctx.root), 'VERIFY_ERROR', `verification stopped: ${(err as Error).message}`);
  }
  return ctx.finish();
}

async function run(ctx: VerifyContext, opts: VerifyOptions): Promise<void> {
  try {
    ctx.rootReal = await fs.realpath(ctx.root);
    if (!(await fs.stat(ctx.rootReal)).isDirectory()) throw new Error('not a directory');
  } catch {
    ctx.error(ctx.root, 'DCP_NOT_FOUND', `${ctx.root} is not a folder that can be read`);
    return;
  }
  const map = await loadAssetMap(ctx);
  if (!map) return;
  ctx.flavour = map.flavour;
  await checkVolIndex(ctx, map);
  const amIndex = indexAssetMap(ctx, map);
  await notePathForms(ctx, amIndex);
  const pkls = await loadPkls(ctx, amIndex);
  const { states, hashing } = await checkPklAssets(ctx, pkls, amIndex);
  const playedButUnpacked = await checkCompositions(ctx, amIndex, states);
  await scanFolder(ctx, amIndex, pkls, playedButUnpacked);
  await hashing(opts);
}

async function loadAssetMap(ctx: VerifyContext): Promise<AssetMap | null> {
  const names = await fs.readdir(ctx.rootReal);
  const found = names.filter((n) => n === 'ASSETMAP' || n === 'ASSETMAP.xml');
  if (found.length === 0) {
    const odd = names.find((n) => /^assetmap(\.xml)?$/i.test(n));
    const hint = odd ? ` (there is a file "${odd}", but the name must be ASSETMAP or ASSETMAP.xml)` : '';
    ctx.error('ASSETMAP', 'ASSETMAP_MISSING', `no ASSETMAP or ASSETMAP.xml in the folder${hint}: this is not a complete DCP`);
    return null;
  }
  if (found.length > 1) {
    ctx.error('ASSETMAP', 'ASSETMAP_MULTIPLE', 'the folder holds both ASSETMAP and ASSETMAP.xml; a DCP has exactly one asset map');
  }
  const name = found.includes('ASSETMAP.xml') ? 'ASSETMAP.xml' : 'ASSETMAP';
  const text = await readSmallFile(ctx, name, 'ASSETMAP_INVALID');
  if (text === null) return null;
  let map: AssetMap;
  try {
    map = parseAssetMap(text, name);
  } catch (err) {
    if (!(err instanceof DcpError)) throw err;
    ctx.error(name, err.code, `${err.message}; the package cannot be checked without a readable asset map`);
    return null;
  }
  const expected = map.flavour === 'smpte' ? 'ASSETMAP.xml' : 'ASSETMAP';
  if (name !== expected) {
    ctx.warn(name, 'ASSETMAP_NAME', `${name} is a${map.flavour === 'smpte' ? 'n SMPTE' : 'n Interop'} asset map; its usual name is ${expected}, some servers may not find it`);
  }
  return map;
}

async function checkVolIndex(ctx: VerifyContext, map: AssetMap): Promise<void> {
  const names = await fs.readdir(ctx.rootReal);
  const name = ['VOLINDEX.xml', 'VOLINDEX'].find((n) => names.includes(n));
  if (!name) {
    ctx.warn('VOLINDEX', 'VOLINDEX_MISSING', 'no VOLINDEX file; most servers ingest without it, some older ones want it');
    return;
  }
  const text = await readSmallFile(ctx, name, 'VOLINDEX_INVALID', 'warning');
  if (text === null) return;
  try {
    const vol = parseVolIndex(text, name);
    if (vol.flavour !== map.flavour) ctx.warn(name, 'VOLINDEX_FLAVOUR', `${name} is ${vol.flavour} while the asset map is ${map.flavour}`);
    if (vol.index !== null && vol.index !== 1) ctx.warn(name, 'VOLINDEX_INDEX', `${name} says volume ${vol.index}; a DCP should be volume 1`);
  } catch (err) {
    if (!(err instanceof DcpError)) throw err;
    ctx.warn(name, err.code, err.message);
  }
}

function indexAssetMap(ctx: VerifyContext, map: AssetMap): Map<string, AmItem> {
  const index = new Map<string, AmItem>();
  if (map.volumeCount !== null && map.volumeCount !== 1) {
    ctx.warn('ASSETMAP', 'ASSETMAP_VOLUMES', `the asset map says the package spans ${map.volumeCount} volumes; only single-volume DCPs are expected`);
  }
  for (const entry of map.assets) {
    const label = entry.path ?? entry.id;
    if (index.has(entry.id)) {
      ctx.error(label, 'ASSETMAP_DUPLICATE_ID', `the asset map lists asset ${entry.id} more than once (again for ${label})`);
      continue;
    }
    if (entry.chunkCount !== 1) {
      ctx.error(label, 'ASSETMAP_CHUNKS', `the asset map splits asset ${entry.id} into ${entry.chunkCount} chunks; exactly one is supported`);
    }
    const where = resolveAssetPath(ctx.rootReal, entry.path ?? '');
    if (!where.ok) ctx.error(entry.path || entry.id, where.code, `asset ${entry.id}: ${where.reason}; it was not opened, and the package must not be ingested as it is`);
    else if (!/^[A-Za-z0-9._\-/]{1,100}$/.test(where.rel) || where.rel.split('/').length > 10) {
      // ST 429-9 Annex A.2 path profile: some servers choke on other names.
      ctx.warn(where.rel, 'PATH_UNUSUAL', `${where.rel}: file names longer than 100 characters, deeper than 10 folders or with characters other than letters, digits, '.', '_' and '-' may not ingest everywhere`);
    }
    if (entry.offset !== null && entry.offset !== 0) ctx.warn(label, 'ASSETMAP_OFFSET', `the asset map gives ${label} an offset of ${entry.offset}; 0 is expected`);
    if (entry.volumeIndex !== null && entry.volumeIndex !== 1) ctx.warn(label, 'ASSETMAP_VOLUME_INDEX', `the asset map puts ${label} on volume ${entry.volumeIndex}; 1 is expected`);
    index.set(entry.id, { entry, where });
  }
  return index;
}

async function loadPkls(ctx: VerifyContext, amIndex: Map<string, AmItem>): Promise<LoadedPkl[]> {
  const loaded: LoadedPkl[] = [];
  const flagged = [...amIndex.values()].filter((i) => i.entry.packingList);
  if (flagged.length === 0) ctx.error('ASSETMAP', 'PKL_NONE', 'the asset map names no packing list, so nothing in the package can be checked');
  for (const { entry, where } of flagged) {
    if (!where.ok) continue; // already reported by indexAssetMap
    const text = await readSmallFile(ctx, where.rel, 'PKL_MISSING');
    if (text === null) continue;
    try {
      const pkl = parsePkl(text, where.rel);
      if (pkl.id !== null && pkl.id !== entry.id) {
        ctx.error(where.rel, 'PKL_ID_MISMATCH', `${where.rel} has id ${pkl.id}, but the asset map lists it as ${entry.id}`);
      }
      if (pkl.flavour !== ctx.flavour) {
        ctx.error(where.rel, 'MIXED_FLAVOUR', `${where.rel} is an ${pkl.flavour === 'smpte' ? 'SMPTE' : 'Interop'} packing list in a${ctx.flavour === 'smpte' ? 'n SMPTE' : 'n Interop'} package; the package mixes standards`);
      }
      if (pkl.unusualNamespace) ctx.warn(where.rel, 'PKL_NAMESPACE', `${where.rel} uses the IMF packing-list namespace (${pkl.namespace}), not the DCP one`);
      ctx.pkls.push({ id: pkl.id, path: where.rel, assets: pkl.assets.length });
      loaded.push({ rel: where.rel, pkl });
    } catch (err) {
      if (!(err instanceof DcpError)) throw err;
      ctx.error(where.rel, err.code, `${err.message}; the assets it lists cannot be checked`);
    }
  }
  return loaded;
}

/**
 * Reads a small XML file named by a safe relative path, refusing symlinks out of the folder.
 * Records an error (or a warning) with `code` and returns null when it cannot.
 */
export async function readSmallFile(
  ctx: VerifyContext, rel: string, code: string, severity: 'error' | 'warning' = 'error',
): Promise<Buffer | null> {
  const report = severity === 'error' ? ctx.error.bind(ctx) : ctx.warn.bind(ctx);
  const st = await inspectFile(ctx.rootReal, path.join(ctx.rootReal, rel));
  if (st.state === 'missing') report(rel, code, `${rel} is missing from the package`);
  else if (st.state === 'escapes') report(rel, 'PATH_ESCAPES', `${rel} is a link that leads outside the DCP folder; it was not opened`);
  else if (st.state === 'not-file') report(rel, code, `${rel} is not a regular file`);
  else if (st.size > MAX_XML_BYTES) report(rel, code, `${rel} is far too large (${st.size} bytes) to be a DCP XML document`);
  else return fs.readFile(st.real);
  return null;
}
