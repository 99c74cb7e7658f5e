// Checks every packing-list asset: listed in the ASSETMAP, safely inside the folder, present, right size
// (cheap, first), then right SHA-1 (all files hashed in parallel by the engine).
import { hashFiles, type FileHash } from '../engine/index.js';
import { typeFromPklType } from './asset-types.js';
import type { VerifyContext } from './context.js';
import { inspectFile } from './paths.js';
import type { PklAsset } from './pkl.js';
import type { AssetCheck, VerifyOptions } from './types.js';
import type { AmItem, LoadedPkl } from './verify-items.js';

const BASE64_SHA1 = /^[A-Za-z0-9+/]{27}=$/;

export interface PklAssetState {
  check: AssetCheck;
  asset: PklAsset;
  pkl: LoadedPkl;
  real: string | null;        // the file on disk, once it has passed the path and existence checks
}

interface Pending { real: string; size: number; checks: PklAssetState[] }

export async function checkPklAssets(ctx: VerifyContext, pkls: LoadedPkl[], amIndex: Map<string, AmItem>): Promise<{
  states: Map<string, PklAssetState>;
  hashing: (opts: VerifyOptions) => Promise<void>;
}> {
  const states = new Map<string, PklAssetState>();
  const pending = new Map<string, Pending>(); // by real path: a file shared by two PKLs is hashed once
  for (const loaded of pkls) {
    const seen = new Set<string>();
    for (const asset of loaded.pkl.assets) {
      if (seen.has(asset.id)) {
        ctx.error(loaded.rel, 'PKL_DUPLICATE_ID', `${loaded.rel} lists asset ${asset.id} more than once`);
        continue;
      }
      seen.add(asset.id);
      const state = await checkOne(ctx, loaded, asset, amIndex.get(asset.id));
      if (!states.has(asset.id)) states.set(asset.id, state);
      ctx.assets.push(state.check);
      if (state.real !== null && state.check.verdict === 'ok' && asset.hash !== null) { // size already right
        const p = pending.get(state.real) ?? { real: state.real, size: state.check.actualSize ?? 0, checks: [] };
        p.checks.push(state);
        pending.set(state.real, p);
      }
    }
  }
  return { states, hashing: (opts) => hashAll(ctx, [...pending.values()], opts) };
}

async function checkOne(ctx: VerifyContext, loaded: LoadedPkl, asset: PklAsset, item: AmItem | undefined): Promise<PklAssetState> {
  const check: AssetCheck = {
    id: asset.id, path: null, type: typeFromPklType(asset.type), pkl: loaded.pkl.id,
    expectedSize: asset.size, actualSize: null, expectedHash: asset.hash, actualHash: null,
    verdict: 'ok', message: '',
  };
  const state: PklAssetState = { check, asset, pkl: loaded, real: null };
  const name = asset.originalFileName ?? asset.id;
  if (!item) {
    check.verdict = 'unlisted';
    check.message = `${name} is in the packing list ${loaded.rel} but not in the asset map, so it cannot be found; the package is incomplete or inconsistent`;
    ctx.error(name, 'NOT_IN_ASSETMAP', check.message);
    return state;
  }
  if (!item.where.ok) {
    // The path itself was already reported when the asset map was read.
    check.verdict = item.where.code === 'PATH_EMPTY' ? 'missing' : 'escapes';
    check.message = `${name}: ${item.where.reason}; it was not opened`;
    return state;
  }
  const rel = item.where.rel;
  check.path = rel;
  const disk = await inspectFile(ctx.rootReal, item.where.abs);
  if (disk.state === 'missing' || disk.state === 'not-file') {
    check.verdict = 'missing';
    check.message = disk.state === 'missing'
      ? `${rel} is missing: the packing list needs it but it is not in the folder; the download is incomplete`
      : `${rel} is not a regular file; the packing list needs a file there`;
    ctx.error(rel, 'ASSET_MISSING', check.message);
    return state;
  }
  if (disk.state === 'escapes') {
    check.verdict = 'escapes';
    check.message = `${rel} is a link that leads outside the DCP folder (to ${disk.target}); it was not opened`;
    ctx.error(rel, 'PATH_ESCAPES', check.message);
    return state;
  }
  check.actualSize = disk.size;
  state.real = disk.real; // readable from here on (a damaged CPL is still parsed, to say what is wrong in it)
  if (asset.size === null) {
    ctx.warn(rel, 'PKL_NO_SIZE', `the packing list gives no size for ${rel}`);
  } else if (asset.size !== disk.size) {
    check.verdict = 'size-mismatch';
    const what = disk.size < asset.size ? 'the file is incomplete (cut short)' : 'the file has extra bytes';
    check.message = `${rel} has the wrong size: ${disk.size} bytes on disk, the packing list says ${asset.size}; ${what}; re-download needed`;
    ctx.error(rel, 'SIZE_MISMATCH', check.message);
    return state;
  }
  // Only worth its own finding when the file itself is right: a short file already failed above.
  if (item.entry.length !== null && item.entry.length !== disk.size) {
    ctx.error(rel, 'ASSETMAP_LENGTH', `the asset map gives ${rel} a length of ${item.entry.length} bytes, but the file has ${disk.size}; the asset map is wrong`);
  }
  if (asset.hash === null) {
    check.message = `${rel} has the right size; the packing list gives no checksum for it (allowed in Interop), so its contents were not compared`;
    ctx.warn(rel, 'PKL_NO_HASH', check.message);
  } else if (!BASE64_SHA1.test(asset.hash)) {
    ctx.error(rel, 'PKL_BAD_HASH', `the packing list's checksum for ${rel} ("${asset.hash}") is not a valid SHA-1; the packing list is damaged`);
  }
  return state;
}

async function hashAll(ctx: VerifyContext, all: Pending[], opts: VerifyOptions): Promise<void> {
  const pending: Pending[] = [];
  for (const p of all) {
    const k = opts.known?.get(p.real);
    if (!k) pending.push(p);
    else for (const { check } of p.checks) settle(ctx, check, { path: p.real, size: k.size, sha1Base64: k.sha1Base64, sha1Hex: Buffer.from(k.sha1Base64, 'base64').toString('hex') });
  }
  if (pending.length === 0) return;
  const total = pending.reduce((s, p) => s + p.size, 0);
  // Progress only moves forward and ends exactly at the total, whatever order the engine's reports arrive in.
  let shown = 0;
  let finished = false;
  const onProgress = opts.onProgress && ((done: number): void => {
    if (finished || done < shown) return;
    shown = Math.min(done, total);
    opts.onProgress!(shown, total);
  });
  onProgress?.(0);
  let results: (FileHash | Error)[];
  try {
    results = await hashFiles(pending.map((p) => p.real), { concurrency: opts.concurrency, onProgress });
  } catch {
    // One unreadable file rejects the whole batch; hash one by one to say which file it was.
    results = [];
    for (const p of pending) {
      try {
        results.push((await hashFiles([p.real]))[0]!);
      } catch (err) {
        results.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
  if (shown < total) onProgress?.(total);
  finished = true;
  pending.forEach((p, i) => {
    const r = results[i]!;
    for (const { check } of p.checks) settle(ctx, check, r);
    if (!(r instanceof Error)) ctx.bytesHashed += r.size;
  });
}

function settle(ctx: VerifyContext, check: AssetCheck, r: FileHash | Error): void {
  const rel = check.path!;
  if (r instanceof Error) {
    check.verdict = 'missing';
    check.message = `${rel} could not be read (${r.message}); check the disk and re-download`;
    ctx.error(rel, 'ASSET_UNREADABLE', check.message);
    return;
  }
  check.actualHash = r.sha1Base64;
  if (check.expectedSize !== null && r.size !== check.expectedSize) {
    check.verdict = 'size-mismatch';
    check.message = `${rel} changed size while it was being checked (${r.size} bytes, the packing list says ${check.expectedSize}); re-download needed`;
    ctx.error(rel, 'SIZE_MISMATCH', check.message);
  } else if (r.sha1Base64 !== check.expectedHash) {
    check.verdict = 'hash-mismatch';
    check.message = `${rel} is damaged: its contents do not match the packing list (checksum differs); re-download needed`;
    ctx.error(rel, 'HASH_MISMATCH', check.message);
  } else {
    check.message = `${rel} matches the packing list (size and checksum)`;
  }
}
