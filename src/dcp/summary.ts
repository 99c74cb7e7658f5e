// The few lines a projectionist reads: verdict first, then what is wrong and what to do.
import type { VerifyReport } from './types.js';
import { formatBytes } from '../util/bytes.js';

const MAX_LINES = 15;

export function renderSummary(r: VerifyReport): string {
  const lines: string[] = [];
  const flavour = r.flavour === 'smpte' ? 'SMPTE' : r.flavour === 'interop' ? 'Interop' : 'unknown standard';
  lines.push(`DCP ${r.title ?? '(title unknown)'} [${flavour}] in ${r.dir}`);
  const checked = r.assets.filter((a) => a.verdict !== 'external');
  const good = checked.filter((a) => a.verdict === 'ok').length;
  if (r.ok) {
    lines.push(`OK: all ${good} asset${good === 1 ? '' : 's'} of the packing list${r.pkls.length === 1 ? '' : 's'} are present and match (${formatBytes(r.bytesHashed)} checked).`);
  } else {
    lines.push(`FAILED: ${r.failures.length} problem${r.failures.length === 1 ? '' : 's'}; ${good} of ${checked.length} assets are fine. Do not ingest this package.`);
    for (const f of r.failures.slice(0, MAX_LINES)) lines.push(`  - ${f.reason}`);
    if (r.failures.length > MAX_LINES) lines.push(`  ... and ${r.failures.length - MAX_LINES} more (see --json)`);
  }
  if (r.externalAssets > 0) {
    lines.push(`Supplemental package (VF): ${r.externalAssets} track file${r.externalAssets === 1 ? '' : 's'} must come from the original version (OV).`);
  }
  const warnings = r.warnings.filter((w) => w.severity === 'warning' && w.code !== 'EXTERNAL_ASSETS');
  if (warnings.length > 0) {
    lines.push(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}:`);
    for (const w of warnings.slice(0, MAX_LINES)) lines.push(`  - ${w.reason}`);
    if (warnings.length > MAX_LINES) lines.push(`  ... and ${warnings.length - MAX_LINES} more (see --json)`);
  }
  return lines.join('\n');
}
