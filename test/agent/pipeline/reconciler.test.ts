// Reconcile plans against a real history store: new names are added once, a name offered by
// two groups is downloaded once, a known name with other content is a conflict, and applying a
// plan then planning again yields nothing to do.
import test from 'ava';
import path from 'node:path';
import { planReconcile, type GroupTarget, type ReconcilePlan } from '../../../src/agent/pipeline/reconciler.js';
import { HistoryStore } from '../../../src/agent/pipeline/history-store.js';
import { tempDir } from '../../helpers/tmp.js';

const H1 = '1'.repeat(40);
const H2 = '2'.repeat(40);
const H3 = '3'.repeat(40);
const rt = (name: string, infoHash: string) => ({ name, infoHash, size: 1234, createdAt: '2026-01-01T00:00:00Z' });

async function apply(h: HistoryStore, offers: Map<string, Set<string>>, plan: ReconcilePlan): Promise<void> {
  for (const a of plan.add) await h.put({ name: a.name, infoHash: a.infoHash, group: a.group, sizeBytes: a.size, addedAt: 'x', state: 'queued', verify: { state: 'pending', failed: [] } });
  for (const c of plan.conflicts) await h.addConflict(c);
  for (const o of plan.offers) offers.set(o.name, new Set([...(offers.get(o.name) ?? []), o.group]));
}

test('plan, apply, plan again: the second plan is empty (idempotent)', async (t) => {
  const h = await HistoryStore.open(await tempDir(t));
  const offers = new Map<string, Set<string>>();
  const targets: GroupTarget[] = [
    { group: 'a', torrents: [rt('FTR_ONE', H1), rt('FTR_TWO', H2)] },
    { group: 'b', torrents: [rt('FTR_ONE', H1), rt('FTR_TWO', H3)] },
  ];
  const first = planReconcile(targets, h, offers);
  t.deepEqual(first.add.map((a) => [a.name, a.group]), [['FTR_ONE', 'a'], ['FTR_TWO', 'a']]);
  t.deepEqual(first.offers, [{ name: 'FTR_ONE', group: 'b' }]);
  t.is(first.conflicts.length, 1);
  t.like(first.conflicts[0], { name: 'FTR_TWO', group: 'b', knownInfoHash: H2, offeredInfoHash: H3 });
  await apply(h, offers, first);
  const second = planReconcile(targets, h, offers);
  t.deepEqual(second, { add: [], conflicts: [], offers: [] });
  t.is(h.all().length, 2, 'each name once in the history');
});

test('a name already in the history is never added again, whatever group offers it', async (t) => {
  const h = await HistoryStore.open(await tempDir(t));
  await h.put({ name: 'FTR_ONE', infoHash: H1, group: 'a', sizeBytes: 1, addedAt: 'x', state: 'seeding', verify: { state: 'passed', failed: [] } });
  const plan = planReconcile([{ group: 'c', torrents: [rt('FTR_ONE', H1.toUpperCase())] }], h, new Map());
  t.deepEqual(plan.add, []);
  t.deepEqual(plan.conflicts, []);
  t.deepEqual(plan.offers, [{ name: 'FTR_ONE', group: 'c' }]);
});

test('an accepted re-release is a second version of the name: neither a conflict nor a new download', async (t) => {
  const h = await HistoryStore.open(await tempDir(t));
  await h.put({ name: 'FTR_ONE', infoHash: H1, group: 'a', sizeBytes: 1, addedAt: 'x', state: 'retired', verify: { state: 'passed', failed: [] } });
  t.is(planReconcile([{ group: 'a', torrents: [rt('FTR_ONE', H2)] }], h, new Map()).conflicts.length, 1, 'before a decision: a conflict');
  await h.put({ name: 'FTR_ONE', infoHash: H2, group: 'a', sizeBytes: 1, addedAt: 'y', state: 'queued', verify: { state: 'pending', failed: [] }, replaces: H1 });
  t.deepEqual(planReconcile([{ group: 'a', torrents: [rt('FTR_ONE', H2)] }], h, new Map()), { add: [], conflicts: [], offers: [] });
  t.is(h.get('FTR_ONE')?.infoHash, H1, 'the version in ingest stays the one the name stands for until the swap');
  await h.updateByHash(H1, { supersededBy: H2 });
  t.is(h.get('FTR_ONE')?.infoHash, H2);
  t.deepEqual((await HistoryStore.open(path.dirname(h.file))).versions('FTR_ONE').map((e) => e.infoHash), [H1, H2]);
});
