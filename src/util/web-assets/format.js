// How figures read for a person, shared by the agent status page and the distributor console
// (served as a module) and the CLI (imported), so all say "3 min 23 s" and "2.40 MB/s" alike.

/** Sizes as drives are sold: 1.50 GB, 820 MB (decimal units). */
export function bytes(n) {
  const u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${u[i]}`;
}

export const rate = (bps) => `${bytes(bps)}/s`;

/** 203 → "3 min 23 s"; null or undefined (unknown) → "–". */
export function duration(s) {
  if (s === null || s === undefined) return '–';
  s = Math.round(s);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** A bandwidth limit in KiB/s as the config gives it; 0 is no limit. */
export const limit = (kibps) => (kibps ? `${kibps} KiB/s` : 'unlimited');

const clock = (iso) => new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
const limits = (r) => `down ${limit(r.downloadKiBps)}, up ${limit(r.uploadKiBps)}`;

/**
 * The bandwidth rule in force and the next change, e.g. 'down 2000 KiB/s, up unlimited since
 * 01/12/2026, 09:00 (rule "0 9 * * *"); next: down unlimited, up unlimited at 01/12/2026, 23:00 ("0 23 * * *")'.
 */
export function bandwidthLine(b) {
  if (!b.inForce) return 'unlimited (no bandwidth rules in the config)';
  const now = `${limits(b.inForce)} since ${clock(b.inForce.at)} (rule "${b.inForce.cron}")`;
  const next = b.next && b.rules.length > 1 ? `; next: ${limits(b.next)} at ${clock(b.next.at)} ("${b.next.cron}")` : '';
  return now + next;
}

/** Time since something happened, for a person: 42000 → "42 s ago", 190000 → "3 min ago". */
export function ago(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'never';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
