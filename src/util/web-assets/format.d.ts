// Types of format.js for the TypeScript that imports it (the CLI).
export function bytes(n: number): string;
export function rate(bps: number): string;
export function duration(s: number | null | undefined): string;
export function limit(kibps: number): string;
export interface BandwidthRuleText {
  cron: string;
  downloadKiBps: number;
  uploadKiBps: number;
}
export function bandwidthLine(b: {
  inForce: (BandwidthRuleText & { at: string }) | null;
  next: (BandwidthRuleText & { at: string }) | null;
  rules: BandwidthRuleText[];
}): string;
export function ago(ms: number | null | undefined): string;
