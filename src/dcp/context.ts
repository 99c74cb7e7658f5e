// Collects findings and per-asset results while a DCP is verified, then renders the final report.
import type { AssetCheck, Finding, Flavour, VerifyReport } from './types.js';
import { renderSummary } from './summary.js';

export class VerifyContext {
  readonly failures: Finding[] = [];
  readonly warnings: Finding[] = [];
  readonly assets: AssetCheck[] = [];
  readonly cpls: VerifyReport['cpls'] = [];
  readonly pkls: VerifyReport['pkls'] = [];
  flavour: Flavour | null = null;
  title: string | null = null;
  bytesHashed = 0;
  rootReal: string;

  constructor(readonly root: string) {
    this.rootReal = root;
  }

  error(path: string, code: string, reason: string): void {
    this.failures.push({ path, code, reason, severity: 'error' });
  }

  warn(path: string, code: string, reason: string): void {
    this.warnings.push({ path, code, reason, severity: 'warning' });
  }

  info(path: string, code: string, reason: string): void {
    this.warnings.push({ path, code, reason, severity: 'info' });
  }

  finish(): VerifyReport {
    const externalAssets = this.assets.filter((a) => a.verdict === 'external').length;
    const report: VerifyReport = {
      dir: this.root,
      flavour: this.flavour,
      ok: this.failures.length === 0,
      title: this.title,
      failures: this.failures,
      warnings: this.warnings,
      assets: this.assets,
      bytesHashed: this.bytesHashed,
      summary: '',
      cpls: this.cpls,
      pkls: this.pkls,
      externalAssets,
    };
    report.summary = renderSummary(report);
    return report;
  }
}
