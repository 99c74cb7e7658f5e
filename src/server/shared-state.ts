// What replicas of the server share beside the store: change notices (a group's torrent list,
// a group's passwords) and a lock for once-per-cluster jobs. This file holds the interface and
// the in-process form used without Redis; redis-state.ts holds the shared form.

/** What changed in a group's torrent list, when it is one torrent: replicas then update their
 * list by that one torrent instead of reading the whole group again. */
export type CatalogChange = { op: 'add'; name: string; createdAt: string } | { op: 'remove'; name: string };

/** `remote`: the change was made by another replica (this one already applied its own). */
export type ChangeListener = (group: string, change: CatalogChange | undefined, remote: boolean) => void;

export interface SharedState {
  /** Tells every replica, this one included, that a group's torrent list changed. */
  catalogChanged(group: string, change?: CatalogChange): void;
  /** Tells every replica that a group's passwords changed, so cached verifications are dropped. */
  authChanged(group: string): void;
  /** Listeners run for changes made here and on other replicas (long polls wake on these). */
  onCatalogChanged(listener: ChangeListener): void;
  onAuthChanged(listener: ChangeListener): void;
  /** Runs when a notice may have been missed (Redis came back): every cache must be dropped. */
  onResync(listener: () => void): void;
  /** Runs fn unless another replica holds the named lock; false when it did not run. */
  withLock(name: string, ttlMs: number, fn: () => Promise<unknown>): Promise<boolean>;
  close(): Promise<void>;
}

/** One process alone: notices go straight to the local listeners, every lock is free. */
export class LocalState implements SharedState {
  private readonly catalog: ChangeListener[] = [];
  private readonly auth: ChangeListener[] = [];
  private readonly held = new Set<string>();

  catalogChanged(group: string, change?: CatalogChange): void {
    for (const l of this.catalog) l(group, change, false);
  }

  authChanged(group: string): void {
    for (const l of this.auth) l(group, undefined, false);
  }

  onCatalogChanged(listener: ChangeListener): void {
    this.catalog.push(listener);
  }

  onAuthChanged(listener: ChangeListener): void {
    this.auth.push(listener);
  }

  onResync(): void {
    // nothing is ever missed within one process
  }

  async withLock(name: string, _ttlMs: number, fn: () => Promise<unknown>): Promise<boolean> {
    if (this.held.has(name)) return false;
    this.held.add(name);
    try {
      await fn();
      return true;
    } finally {
      this.held.delete(name);
    }
  }

  async close(): Promise<void> {}
}
