// Public face of DCP parsing and verification; the rest of cineswarm imports from here only.
export { verifyDcp } from './verify.js';
export { expectedAssets, type ExpectedAsset } from './expected-assets.js';
export type { AssetCheck, Finding, Flavour, Verdict, VerifyOptions, VerifyReport } from './types.js';
export { DcpError } from './errors.js';
export { parseAssetMap, type AssetMap, type AssetMapEntry } from './assetmap.js';
export { parseVolIndex, type VolIndex } from './volindex.js';
export { parsePkl, type PackingList, type PklAsset } from './pkl.js';
export { parseCpl, type CompositionPlaylist, type CplReel, type CplTrackFile } from './cpl.js';
export { parseXml, type XmlElement } from './xml.js';
export { resolveAssetPath, type PathResult } from './paths.js';
export { renderSummary } from './summary.js';
export { parseKdm, dnQualifierOf, MAX_KDM_BYTES, type KdmFacts, type KdmKey, type KdmRecipient } from './kdm.js';
export { checkKdmSignature, type SignatureCheck, type ChainCertificate } from './kdm-signature.js';
export { checkKdm, bestKdmState, KDM_STATES, type KdmState, type KdmVerdict, type KdmProblem, type CompositionKeys } from './kdm-check.js';
export { examineKdm, type KdmExamination, type ExamineOptions } from './kdm-examine.js';
export {
  parsePemCertificates, certificateFacts, publicKeyDigest, recipientMatches, sameName, type CertificateFacts,
} from './certificates.js';
export { readCompositions, compositionKeys } from './compositions.js';
