// Checks each composition playlist in the packing lists: its track files are in this package (or reported
// as external, as in a supplemental VF), its checksums agree with the PKL, encrypted files carry one.
import fs from 'node:fs/promises';
import { describe, typeFromCplKind } from './asset-types.js';
import type { PklAssetState } from './check-assets.js';
import type { VerifyContext } from './context.js';
import { compositionKeys } from './compositions.js';
import { parseCpl, type CompositionPlaylist } from './cpl.js';
import { DcpError } from './errors.js';
import { maybeCpl } from './pkl.js';
import type { AssetCheck } from './types.js';
import { MAX_XML_BYTES, type AmItem } from './verify-items.js';

export async function checkCompositions(
  ctx: VerifyContext, amIndex: Map<string, AmItem>, states: Map<string, PklAssetState>,
): Promise<Map<string, string>> {
  const externals = new Map<string, AssetCheck>();
  const inFolderOnly = new Map<string, string>(); // track-file id → CPL playing it, for ids in the ASSETMAP but no PKL
  for (const state of states.values()) {
    if (!maybeCpl(state.asset.type) || state.real === null) continue;
    const rel = state.check.path!;
    const explicit = /asdcpkind=cpl/i.test(state.asset.type ?? '');
    if ((state.check.actualSize ?? 0) > MAX_XML_BYTES) continue;
    let cpl: CompositionPlaylist;
    try {
      cpl = parseCpl(await fs.readFile(state.real), rel);
    } catch (err) {
      if (!(err instanceof DcpError)) throw err;
      if (err.code === 'CPL_WRONG_ROOT' && !explicit) continue; // some other XML document, not a composition
      ctx.error(rel, err.code, `${err.message}; the composition cannot be checked`);
      continue;
    }
    state.check.type = 'composition';
    ctx.title ??= cpl.title;
    ctx.cpls.push({ id: cpl.id, path: rel, title: cpl.title, encrypted: cpl.encrypted, reels: cpl.reels.length, keyIds: compositionKeys(cpl)?.keyIds ?? [] });
    if (cpl.flavour !== ctx.flavour) {
      ctx.error(rel, 'MIXED_FLAVOUR', `${rel} is an ${cpl.flavour === 'smpte' ? 'SMPTE' : 'Interop'} composition in a${ctx.flavour === 'smpte' ? 'n SMPTE' : 'n Interop'} package; the package mixes standards`);
    }
    if (cpl.id !== null && cpl.id !== state.asset.id) {
      ctx.error(rel, 'CPL_ID_MISMATCH', `${rel} has id ${cpl.id}, but the packing list lists it as ${state.asset.id}`);
    }
    if (cpl.encrypted) {
      // R16: encrypted content must come signed. Only the signature's presence is checked here, not its maths.
      if (!cpl.signed) ctx.error(rel, 'ENCRYPTED_UNSIGNED', `${rel} plays encrypted content but carries no signature; servers refuse unsigned encrypted compositions`);
      const pkl = state.pkl;
      if (!pkl.pkl.signed) ctx.error(pkl.rel, 'ENCRYPTED_UNSIGNED', `${pkl.rel} lists encrypted content but carries no signature; servers refuse unsigned packing lists for encrypted content`);
    }
    const externalHere = new Set<string>();
    for (const tf of cpl.reels.flatMap((r) => r.trackFiles)) {
      const type = typeFromCplKind(tf.kind);
      if (tf.keyId !== null && tf.hash === null) {
        ctx.error(rel, 'ENCRYPTED_WITHOUT_HASH',
          `${rel}: the encrypted ${describe(type, tf.id)} (reel ${tf.reel}) has no checksum in the composition; servers require one for encrypted content`);
      }
      const local = states.get(tf.id);
      if (local) {
        local.check.type = type; // the reel element says more than the PKL's MIME type
        const pklHash = local.asset.hash;
        if (tf.hash !== null && pklHash !== null && tf.hash !== pklHash) {
          ctx.error(local.check.path ?? tf.id, 'CPL_HASH_MISMATCH',
            `the composition ${rel} and the packing list disagree about the checksum of ${describe(type, local.check.path ?? tf.id)}; the package is inconsistent`);
        }
        continue;
      }
      if (amIndex.has(tf.id)) { // in the folder but in no packing list: the folder scan reports it
        if (!inFolderOnly.has(tf.id)) inFolderOnly.set(tf.id, rel);
        continue;
      }
      externalHere.add(tf.id);
      if (!externals.has(tf.id)) {
        const check: AssetCheck = {
          id: tf.id, path: null, type, pkl: null, expectedSize: null, actualSize: null,
          expectedHash: tf.hash, actualHash: null, verdict: 'external',
          message: `${describe(type, tf.id)} (reel ${tf.reel}) is not in this package: it is expected from the original version (OV) already on the server`,
        };
        externals.set(tf.id, check);
        ctx.assets.push(check);
      }
    }
    const external = externalHere.size;
    if (external > 0) {
      ctx.warn(rel, 'EXTERNAL_ASSETS',
        `${rel} plays ${external} track file${external === 1 ? '' : 's'} that ${external === 1 ? 'is' : 'are'} not in this package; this looks like a supplemental package (VF): the original version (OV) must already be on the server`);
    }
  }
  return inFolderOnly;
}
