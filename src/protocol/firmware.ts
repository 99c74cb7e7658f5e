// Firmware distribution on the wire: the description of a published bundle, and how a bundle
// and its signature travel.

/** Content type of a firmware bundle (a signed .tar.gz). */
export const FIRMWARE_BUNDLE_TYPE = 'application/gzip';
/** Header carrying the bundle's base64 Ed25519 signature on upload. */
export const FIRMWARE_SIGNATURE_HEADER = 'x-cineswarm-signature';

export interface FirmwareInfo {
  version: string;
  size: number;
  sha256: string;
  createdAt: string;
  /** path on the server, relative to its base URL's origin */
  bundleUrl: string;
  signatureUrl: string;
}

export const firmwareInfoSchema = {
  type: 'object',
  required: ['version', 'size', 'sha256', 'createdAt', 'bundleUrl', 'signatureUrl'],
  properties: {
    version: { type: 'string' },
    size: { type: 'number' },
    sha256: { type: 'string' },
    createdAt: { type: 'string' },
    bundleUrl: { type: 'string' },
    signatureUrl: { type: 'string' },
  },
} as const;

export interface FirmwareVersionParams {
  version: string;
}

export const firmwareVersionParamsSchema = {
  type: 'object',
  required: ['version'],
  properties: { version: { type: 'string', maxLength: 64 } },
} as const;
