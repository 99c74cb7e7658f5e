// The agent's KDM side: registers this server's public certificates with each group, fetches the
// KDMs addressed to it, judges each against its DCPs and a clock, writes accepted ones into kdm.dir,
// sends receipts, and keeps the per-DCP key state and the KDM_MISSING / KDM_EXPIRING alarms.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  bestKdmState, certificateFacts, checkKdm, checkKdmSignature, parseKdm, parsePemCertificates, readCompositions,
  type CertificateFacts, type CompositionKeys, type KdmFacts, type KdmState, type KdmVerdict, type SignatureCheck,
} from '../../dcp/index.js';
import { ServerClient } from '../../protocol/index.js';
import type { GroupCredentials } from '../config/config.js';
import type { AlarmBook } from '../monitoring/alarms.js';
import { writeFileAtomic } from '../../util/durable-write.js';
import type { KdmConfig } from './kdm-config.js';

export const KDM_ALARMS = { KDM_MISSING: 'KDM_MISSING', KDM_EXPIRING: 'KDM_EXPIRING' } as const;

/** A DCP the agent has or is downloading, as the keeper needs to see it. */
export interface KdmDcp { infoHash: string; name: string; dir: string }

/** Per encrypted DCP, as /api/status, the page, /metrics and SNMP show it (DESIGN.md). */
export interface DcpKdmView { state: KdmState; messageId?: string; notValidAfter?: string; message?: string }

export interface KdmKeeperOptions {
  agentId: string;
  server: string;
  groups: () => GroupCredentials[];
  config: KdmConfig | undefined;
  dcps: () => KdmDcp[];
  alarms: AlarmBook;
  logger: Logger;
  clock?: () => Date;
  /** the agent's one server client (it carries the peer key); default: a new one for `server` */
  client?: ServerClient;
  /** a DCP's key state changed (the agent reports it to the server) */
  changed?: (infoHash: string) => void;
  /** `Cineswarm-Peer` value for requests made as this peer, once the agent has a peer key */
  peerHeader?: () => string | undefined;
}

interface Held {
  group: string | null;       // null: found in kdm.dir at start
  xml: Buffer;
  facts: KdmFacts;
  signature: SignatureCheck;
  verdict?: KdmVerdict;
  receipt?: string;           // the state last acknowledged by the server
}

export class KdmKeeper {
  private certificates: CertificateFacts[] = [];
  private certificatePem = '';
  private readonly registered = new Set<string>();
  private readonly held = new Map<string, Held>();
  private readonly compositions = new Map<string, CompositionKeys[]>();
  private views = new Map<string, DcpKdmView>();
  private readonly clock: () => Date;
  private running: Promise<void> | null = null;
  private readonly api: ServerClient;

  constructor(private readonly o: KdmKeeperOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.api = o.client ?? new ServerClient(o.server);
  }

  /** Loads the certificates and the KDMs already accepted in kdm.dir (so a restart keeps its keys). */
  async start(): Promise<void> {
    const c = this.o.config;
    if (!c) return;
    await fs.mkdir(c.dir, { recursive: true });
    const pems: string[] = [];
    for (const file of c.certificates) {
      try {
        const text = await fs.readFile(file, 'utf8');
        const certs = parsePemCertificates(text, file);
        this.certificates.push(...certs.map(certificateFacts));
        pems.push(...certs.map((x) => x.toString()));
      } catch (err) {
        this.o.logger.error({ file }, `kdm.certificates: ${(err as Error).message}; KDMs for it cannot be matched`);
      }
    }
    this.certificatePem = pems.join('');
    for (const name of await fs.readdir(c.dir)) {
      if (!name.endsWith('.xml')) continue;
      try {
        const xml = await fs.readFile(path.join(c.dir, name));
        await this.hold(null, xml);
      } catch (err) {
        this.o.logger.warn({ file: name }, `ignoring ${name} in kdm.dir: ${(err as Error).message}`);
      }
    }
  }

  /** One round: register, fetch, judge, write, receipt. Rounds never overlap. */
  sync(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  /** Judges again without the network (a DCP changed state, the clock moved). */
  async evaluate(): Promise<void> {
    const c = this.o.config;
    const now = this.clock();
    const dcps = this.o.dcps();
    for (const d of dcps) {
      if ((this.compositions.get(d.infoHash)?.length ?? 0) === 0) this.compositions.set(d.infoHash, await readCompositions(d.dir));
    }
    const known = [...new Set(dcps.map((d) => d.infoHash))].flatMap((ih) => this.compositions.get(ih) ?? []);
    for (const [id, h] of this.held) {
      h.verdict = checkKdm({ kdm: h.facts, signature: h.signature, clock: now, certificates: this.certificates, compositions: known });
      if (c && h.verdict.state === 'valid') {
        const file = path.join(c.dir, `${id}.xml`);
        if (!(await fs.stat(file).then(() => true, () => false))) {
          await writeFileAtomic(file, h.xml);
          this.o.logger.info({ messageId: id, cplId: h.facts.cplId, file }, `KDM accepted for ${h.facts.title ?? h.facts.cplId}: ${file}`);
        }
      }
    }
    const views = new Map<string, DcpKdmView>();
    for (const d of dcps) {
      const cpls = (this.compositions.get(d.infoHash) ?? []).filter((x) => x.encrypted);
      if (cpls.length === 0) continue;
      views.set(d.infoHash, this.viewOf(cpls));
    }
    const before = this.views;
    this.views = views;
    this.updateAlarms(dcps, now);
    for (const [ih, v] of views) {
      const b = before.get(ih);
      if (!b || b.state !== v.state || b.notValidAfter !== v.notValidAfter) this.o.changed?.(ih);
    }
  }

  /** The key state of one DCP, or undefined when it is not (known to be) encrypted. */
  view(infoHash: string): DcpKdmView | undefined {
    const v = this.views.get(infoHash);
    return v && { ...v };
  }

  private viewOf(cpls: CompositionKeys[]): DcpKdmView {
    if (!this.o.config) return { state: 'missing', message: 'this agent has no kdm section in its config, so no KDM can be received' };
    const ids = new Set(cpls.map((c) => c.id));
    const mine = [...this.held.entries()].filter(([, h]) => ids.has(h.facts.cplId) && h.verdict);
    const best = bestKdmState(mine.map(([, h]) => h.verdict!.state));
    if (best === 'missing') return { state: 'missing', message: 'encrypted: no KDM for this DCP has arrived; it cannot be played without one' };
    // Among KDMs in the best state, the one valid longest is the one that counts.
    const [id, h] = mine.filter(([, x]) => x.verdict!.state === best).sort(([, a], [, b]) => Date.parse(b.facts.notValidAfter) - Date.parse(a.facts.notValidAfter))[0]!;
    return { state: best, messageId: id, notValidAfter: h.facts.notValidAfter, message: h.verdict!.message };
  }

  private updateAlarms(dcps: KdmDcp[], now: Date): void {
    const missing: string[] = [];
    const expiring: string[] = [];
    const warnMs = (this.o.config?.warnDays ?? 2) * 86_400_000;
    for (const d of dcps) {
      const v = this.views.get(d.infoHash);
      if (!v) continue;
      if (v.state !== 'valid') missing.push(`${d.name} (${v.state})`);
      else if (v.notValidAfter && Date.parse(v.notValidAfter) - now.getTime() < warnMs) expiring.push(`${d.name} (until ${v.notValidAfter})`);
    }
    if (missing.length) this.o.alarms.raise(KDM_ALARMS.KDM_MISSING, 'warning', `Encrypted DCP without a valid KDM: ${missing.join(', ')}.`);
    else this.o.alarms.clear(KDM_ALARMS.KDM_MISSING);
    if (expiring.length) this.o.alarms.raise(KDM_ALARMS.KDM_EXPIRING, 'warning', `KDM ends soon: ${expiring.join(', ')}.`);
    else this.o.alarms.clear(KDM_ALARMS.KDM_EXPIRING);
  }


  private async round(): Promise<void> {
    const c = this.o.config;
    if (c) {
      for (const g of this.o.groups()) {
        try {
          await this.pull(g);
        } catch (err) {
          this.o.logger.warn({ group: g.id }, `KDMs of group ${g.id} not fetched: ${(err as Error).message}`);
        }
      }
    }
    await this.evaluate();
    if (c) await this.sendReceipts();
  }

  private async pull(g: GroupCredentials): Promise<void> {
    const as = this.o.peerHeader?.();
    if (!this.registered.has(g.id) && this.certificatePem !== '') {
      await this.api.putCertificates(g, this.o.agentId, this.certificatePem, as);
      this.registered.add(g.id);
      this.o.logger.info({ group: g.id, certificates: this.certificates.length }, `certificates registered with group ${g.id}`);
    }
    const listed = await this.api.listKdms(g, this.o.agentId, as);
    const ids = new Set(listed.map((k) => k.messageId));
    for (const [id, h] of this.held) {
      if (h.group === g.id && !ids.has(id)) await this.withdraw(id, h);
    }
    for (const k of listed) {
      const h = this.held.get(k.messageId);
      if (h) {
        h.group ??= g.id;
        const d = k.deliveries.find((x) => x.peer === this.o.agentId);
        if (d && d.state !== 'routed') h.receipt ??= d.state;
        continue;
      }
      const xml = await this.api.fetchKdm(g, k.messageId, this.o.agentId, as);
      await this.hold(g.id, xml);
    }
  }

  /** The distributor withdrew it: it leaves kdm.dir (a TMS that ingested it keeps its own copy). */
  private async withdraw(id: string, h: Held): Promise<void> {
    this.held.delete(id);
    if (this.o.config) await fs.rm(path.join(this.o.config.dir, `${id}.xml`), { force: true });
    this.o.logger.info({ group: h.group, messageId: id }, `KDM ${id} for ${h.facts.title ?? h.facts.cplId} was withdrawn by the distributor`);
  }

  private async hold(group: string | null, xml: Buffer): Promise<void> {
    const facts = parseKdm(xml, 'KDM');
    // The signature check does not depend on the clock (judged at the issue date), so it runs once.
    const signature = await checkKdmSignature(xml, facts, { clock: this.clock() });
    this.held.set(facts.messageId, { group, xml, facts, signature });
    this.o.logger.info({ group, messageId: facts.messageId, signature: signature.state }, `KDM received for ${facts.title ?? facts.cplId}`);
  }

  private async sendReceipts(): Promise<void> {
    for (const [id, h] of this.held) {
      if (!h.verdict || h.group === null || h.receipt === h.verdict.state) continue;
      const g = this.o.groups().find((x) => x.id === h.group);
      if (!g) continue;
      try {
        await this.api.postKdmReceipt(g, id, { peer: this.o.agentId, state: h.verdict.state, message: h.verdict.message.slice(0, 1900) }, this.o.peerHeader?.());
        h.receipt = h.verdict.state;
      } catch (err) {
        this.o.logger.warn({ group: g.id, messageId: id }, `receipt for KDM ${id} not sent: ${(err as Error).message}`);
      }
    }
  }
}
