// Names asset-map paths that are not plain relative paths with '/' separators. Such a map may
// verify here and still fail on a server that reads the path another way, so the report says
// how the path was read; where the file is not there as written, the missing-file error of the
// asset checks stands, and this note tells what is on disk instead.
import path from 'node:path';
import type { VerifyContext } from './context.js';
import { inspectFile } from './paths.js';
import type { AmItem } from './verify-items.js';

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

/** The ways `raw` departs from a plain relative path, in words. */
export function pathFormIssues(raw: string): string[] {
  const out: string[] = [];
  const p = raw.trim();
  if (p !== raw) out.push('has spaces around it');
  if (/^file:\/\//i.test(p)) out.push("starts with 'file://'");
  if (p.includes('\\')) out.push("uses '\\' as a separator");
  if (/^[A-Za-z]:/.test(p.replace(/^file:\/\//i, ''))) out.push('starts with a drive letter');
  else if (p.replace(/^file:\/\//i, '').startsWith('/')) out.push('is absolute');
  if (PERCENT_ESCAPE.test(p)) out.push('holds a percent-escape');
  return out;
}

function decodePercent(rel: string): string | null {
  try {
    const decoded = decodeURIComponent(rel);
    return decoded === rel ? null : decoded;
  } catch {
    return null;
  }
}

/** Adds one warning per asset-map entry whose path is written in an unusual form. Paths the
 * resolver refused (absolute, escaping) already carry their error and are not noted twice. */
export async function notePathForms(ctx: VerifyContext, amIndex: Map<string, AmItem>): Promise<void> {
  for (const { entry, where } of amIndex.values()) {
    if (entry.path === null || !where.ok) continue;
    const issues = pathFormIssues(entry.path);
    if (issues.length === 0) continue;
    let onDisk = '';
    if (PERCENT_ESCAPE.test(where.rel)) {
      const asWritten = await inspectFile(ctx.rootReal, where.abs);
      const decoded = decodePercent(where.rel);
      if (asWritten.state === 'missing' && decoded !== null) {
        const st = await inspectFile(ctx.rootReal, path.join(ctx.rootReal, ...decoded.split('/')));
        if (st.state === 'file') onDisk = `; the folder holds "${decoded}", which is what the escape decodes to, but DCP paths are read literally`;
      }
    }
    ctx.warn(where.rel, 'PATH_NOT_PLAIN', `the asset map path "${entry.path}" ${issues.join(' and ')}: read here as "${where.rel}"; a plain relative path with '/' separators is what every server reads the same way${onDisk}`);
  }
}
