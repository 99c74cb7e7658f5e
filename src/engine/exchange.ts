// Swaps two directory entries in one step (Linux renameat2 RENAME_EXCHANGE, in the native core):
// the agent's ingest swap to a re-release, so the name always holds one whole version.
import { addon } from './addon.js';
import { native } from './errors.js';

/** After it, `a` holds what `b` held and `b` what `a` held; both must exist on one filesystem. */
export function exchangePaths(a: string, b: string): void {
  native(() => addon.exchangePaths(a, b));
}
