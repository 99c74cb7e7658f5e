// One call for the whole KDM judgement: read the facts, check the signature, judge it for a server.
import { parseKdm, type KdmFacts } from './kdm.js';
import { checkKdm, type KdmCheckInput, type KdmVerdict } from './kdm-check.js';
import { checkKdmSignature, type SignatureCheck } from './kdm-signature.js';

export interface KdmExamination { facts: KdmFacts; signature: SignatureCheck; verdict: KdmVerdict }

export type ExamineOptions = Omit<KdmCheckInput, 'kdm' | 'signature'> & { xmlsec1?: string };

/** Throws DcpError when the bytes are not a well-formed KDM; otherwise always a verdict. */
export async function examineKdm(xml: Buffer, label: string, opts: ExamineOptions): Promise<KdmExamination> {
  const facts = parseKdm(xml, label);
  const signature = await checkKdmSignature(xml, facts, { clock: opts.clock, xmlsec1: opts.xmlsec1 });
  const verdict = checkKdm({ kdm: facts, signature, clock: opts.clock, certificates: opts.certificates, compositions: opts.compositions });
  return { facts, signature, verdict };
}
