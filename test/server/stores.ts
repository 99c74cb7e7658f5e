// Both GroupStore backends for the contract tests: the directory store on a temp dir, and the
// S3 store on the file's throwaway radosgw, each test under its own key prefix.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { DirGroupStore } from '../../src/server/dir-store.js';
import type { GroupStore } from '../../src/server/group-store.js';
import { S3GroupStore, type S3StoreOptions } from '../../src/server/s3-store.js';
import type { Ceph } from '../helpers/ceph.js';
import { tempDir } from '../helpers/tmp.js';

export const STORE_KINDS = ['dir', 's3'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export const TEST_BUCKET = 'cineswarm-test';

export function s3Options(ceph: Ceph, prefix: string, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    bucket: TEST_BUCKET,
    prefix,
    endpoint: ceph.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
    // The shared test machine can be slow enough that 2 s is an outage; the outage test sets its own.
    requestTimeoutMs: 15_000,
    ...extra,
  };
}

/** Makes the test bucket once per cluster. */
export async function createTestBucket(ceph: Ceph): Promise<void> {
  const store = new S3GroupStore(s3Options(ceph, ''));
  try {
    await store.client.send(new CreateBucketCommand({ Bucket: TEST_BUCKET }));
  } finally {
    store.close();
  }
}

export interface TestStore {
  store: GroupStore;
  /** the server's DATA dir (firmware, and for 'dir' the groups too) */
  dataDir: string;
  /** the key prefix of an S3 store, so a second replica can open the same one */
  prefix: string;
}

export async function openTestStore(t: ExecutionContext, kind: StoreKind, ceph: () => Ceph, prefix?: string): Promise<TestStore> {
  const dataDir = await tempDir(t, 'cineswarm-server-');
  if (kind === 'dir') {
    const store = new DirGroupStore(dataDir);
    await store.init();
    return { store, dataDir, prefix: '' };
  }
  const p = prefix ?? `t-${randomBytes(6).toString('hex')}/`;
  const store = new S3GroupStore(s3Options(ceph(), p));
  await store.init();
  t.teardown(() => store.close());
  return { store, dataDir, prefix: p };
}
