// The store a server config names, opened and checked, so a wrong bucket or an unreachable
// endpoint stops start-up with one line instead of failing the first request.
import type { ServerConfig } from './config.js';
import { DirGroupStore } from './dir-store.js';
import type { GroupStore } from './group-store.js';
import { S3GroupStore } from './s3-store.js';

export interface OpenedStore {
  store: GroupStore;
  /** Redis namespace of this store's deployment: replicas of one store share it, others do not */
  namespace: string;
  /** temp files and staging folders of an interrupted run that the directory store removed */
  swept?: number;
}

export async function openStore(config: ServerConfig, onRead?: () => void): Promise<OpenedStore> {
  const s = config.store;
  if (!s || s.kind === 'dir') {
    const store = new DirGroupStore(config.dataDir);
    const swept = await store.init();
    return { store, namespace: 'cineswarm:', swept };
  }
  const store = new S3GroupStore({ bucket: s.bucket, prefix: s.prefix, endpoint: s.endpoint, region: s.region, onRead });
  try {
    await store.init();
  } catch (err) {
    store.close();
    throw err;
  }
  return { store, namespace: `cineswarm:${s.bucket}/${s.prefix ?? ''}:` };
}
