// Which peers of a group a KDM is for: those that registered a certificate its Recipient names
// (issuer, serial and subject).
import { certificateFacts, parsePemCertificates, recipientMatches, type KdmRecipient } from '../../dcp/index.js';
import type { KdmStore } from '../group-store.js';

export async function peersForRecipient(store: KdmStore, group: string, recipient: KdmRecipient, only?: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const { peer, certificates } of await store.listPeerCertificates(group)) {
    if (only && !only.includes(peer)) continue;
    const certs = certificates.flatMap((pem) => {
      try {
        return parsePemCertificates(pem, peer).map(certificateFacts);
      } catch {
        return []; // checked when registered; a damaged entry routes nothing
      }
    });
    if (certs.some((c) => recipientMatches(recipient, c))) out.push(peer);
  }
  return out.sort();
}
