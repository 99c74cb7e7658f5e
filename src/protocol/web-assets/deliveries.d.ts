// Types of deliveries.js for the TypeScript that imports it (the CLI).
import type { PeerStatus, ReportKdm, ReportVerify, TorrentStatus } from '../reports.js';

export function isSeeder(p: PeerStatus): boolean;
export function stateWords(p: PeerStatus): string;
export function sinceLastReport(p: PeerStatus, nowMs: number): number | null;
export function who(p: PeerStatus): string;
export function verifyWords(v: ReportVerify | undefined): string;
export function kdmWords(k: ReportKdm | undefined): string;
export function totals(t: TorrentStatus): { cinemas: number; ready: number; retired: number; failed: number; notStarted: number; text: string };
export function attention(t: TorrentStatus, p: PeerStatus, nowMs: number, group: string): string | null;
