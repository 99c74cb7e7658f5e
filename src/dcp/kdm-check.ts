// Judges one KDM for one cinema server: its composition, its window at a clock, its recipient, its
// keys, its signature. The first failing check (in DESIGN.md's order) names the state.
import type { CertificateFacts } from './certificates.js';
import { recipientMatches } from './certificates.js';
import type { KdmFacts } from './kdm.js';
import type { SignatureCheck } from './kdm-signature.js';

/** DESIGN.md's order: checks run in this order and, among several KDMs for one DCP, the earliest wins. */
export const KDM_STATES = [
  'valid', 'waiting-for-dcp', 'not-yet-valid', 'expired', 'not-for-this-server', 'keys-missing',
  'signature-invalid', 'signature-not-checked', 'missing',
] as const;
export type KdmState = (typeof KDM_STATES)[number];

/** What a server knows about one composition (CPL) of a DCP it has or is downloading. */
export interface CompositionKeys {
  id: string;
  title: string | null;
  encrypted: boolean;
  /** KeyIds the CPL's encrypted track files carry (lower-case UUIDs) */
  keyIds: string[];
}

export interface KdmCheckInput {
  kdm: KdmFacts;
  signature: SignatureCheck;
  clock: Date;
  /** this server's certificates; undefined = the recipient is not judged (e.g. inspecting a file) */
  certificates?: CertificateFacts[];
  /** compositions of the DCPs on this server; undefined = the composition is not judged */
  compositions?: CompositionKeys[];
}

export interface KdmProblem { state: Exclude<KdmState, 'valid' | 'missing'>; message: string }

export interface KdmVerdict {
  state: Exclude<KdmState, 'missing'>;
  message: string;
  /** every failing check, in order; the first one is the state */
  problems: KdmProblem[];
  /** the certificate of this server the KDM is addressed to */
  recipient: CertificateFacts | null;
  composition: CompositionKeys | null;
}

export function checkKdm(input: KdmCheckInput): KdmVerdict {
  const { kdm, signature, clock } = input;
  const problems: KdmProblem[] = [];
  const now = clock.getTime();
  const name = kdm.title ?? kdm.cplId;

  let composition: CompositionKeys | null = null;
  if (input.compositions) {
    composition = input.compositions.find((c) => c.id === kdm.cplId) ?? null;
    if (!composition) {
      problems.push({ state: 'waiting-for-dcp', message: `its composition ${kdm.cplId} (${name}) is in no DCP on this server yet; it is checked again when the DCP arrives` });
    }
  }
  if (now < Date.parse(kdm.notValidBefore)) {
    problems.push({ state: 'not-yet-valid', message: `its keys are valid only from ${kdm.notValidBefore} (until ${kdm.notValidAfter})` });
  } else if (now > Date.parse(kdm.notValidAfter)) {
    problems.push({ state: 'expired', message: `its keys expired on ${kdm.notValidAfter} (valid from ${kdm.notValidBefore})` });
  }
  let recipient: CertificateFacts | null = null;
  if (input.certificates) {
    recipient = input.certificates.find((c) => recipientMatches(kdm.recipient, c)) ?? null;
    if (!recipient) {
      problems.push({ state: 'not-for-this-server', message: `it is addressed to ${kdm.recipient.subject} (serial ${kdm.recipient.serial}), which is none of this server's ${input.certificates.length} certificate${input.certificates.length === 1 ? '' : 's'}` });
    } else if (kdm.recipient.dnQualifier !== null && kdm.recipient.dnQualifier !== recipient.dnQualifier) {
      problems.push({ state: 'not-for-this-server', message: `its recipient dnQualifier ${kdm.recipient.dnQualifier} is not the digest of this server's public key (${recipient.dnQualifier})` });
    }
  }
  if (composition) {
    const have = new Set(kdm.keys.map((k) => k.id));
    const missing = composition.keyIds.filter((id) => !have.has(id));
    if (missing.length > 0) {
      problems.push({ state: 'keys-missing', message: `it lacks ${missing.length} of the ${composition.keyIds.length} keys the composition needs (first missing: ${missing[0]})` });
    }
  }
  if (signature.state === 'invalid') problems.push({ state: 'signature-invalid', message: signature.message });
  if (signature.state === 'not-checked') problems.push({ state: 'signature-not-checked', message: signature.message });

  const first = problems[0];
  if (!first) {
    const keys = composition ? `all ${composition.keyIds.length} keys of the composition` : `${kdm.keys.length} keys`;
    return {
      state: 'valid',
      message: `valid until ${kdm.notValidAfter} for ${name}: ${keys}; ${signature.message}`,
      problems, recipient, composition,
    };
  }
  const others = problems.slice(1).map((p) => p.message);
  return {
    state: first.state,
    message: first.message + (others.length > 0 ? `; also ${others.join('; ')}` : ''),
    problems, recipient, composition,
  };
}

/** The state that stands for several KDMs of one DCP: the earliest in DESIGN.md's order. */
export function bestKdmState(states: KdmState[]): KdmState {
  let best: KdmState = 'missing';
  for (const s of states) if (KDM_STATES.indexOf(s) < KDM_STATES.indexOf(best)) best = s;
  return best;
}
