// The owner's status document of one group (GET /api/groups/:id/status and the console): every
// torrent, listed and retired, × every peer that reported or is on the roster, flagged.
import type { GroupStatus } from '../protocol/index.js';
import type { ServerContext } from './context.js';
import { deliveryStatus } from './delivery-status.js';

export async function readGroupStatus(ctx: ServerContext, group: string): Promise<GroupStatus> {
  const [view, reports, tombstones, roster] = await Promise.all([
    ctx.catalog.list(group),
    ctx.store.listReports(group),
    ctx.store.listTombstones(group),
    ctx.store.readRoster(group),
  ]);
  const rules = { stalledAfterMinutes: ctx.stalledAfterMinutes, silentAfterMinutes: ctx.silentAfterMinutes };
  return { group, torrents: deliveryStatus(view.entries, tombstones, reports, roster, rules, ctx.now().getTime()) };
}
