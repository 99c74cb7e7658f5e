// Errors of the firmware update path: each refusal carries a stable `code` and a message
// that a projectionist or field engineer can act on.

export type FirmwareErrorCode =
  | 'BUNDLE_NOT_FOUND'
  | 'BUNDLE_TOO_LARGE'
  | 'SIGNATURE_MISSING'
  | 'PUBLIC_KEY_MISSING'
  | 'BAD_PUBLIC_KEY'
  | 'BAD_SIGNATURE'
  | 'BUNDLE_TRUNCATED'
  | 'BAD_MANIFEST'
  | 'UNSAFE_PATH'
  | 'MANIFEST_MISMATCH'
  | 'NOT_NEWER'
  | 'VERSION_REJECTED'
  | 'UPDATE_IN_PROGRESS'
  | 'INSTALL_FAILED'
  | 'HEALTH_CHECK_FAILED'
  | 'RESTART_FAILED'
  | 'BAD_STAGE'
  | 'BAD_MIB'
  | 'BAD_PEN';

export class FirmwareError extends Error {
  readonly code: FirmwareErrorCode;
  constructor(code: FirmwareErrorCode, message: string) {
    super(message);
    this.name = 'FirmwareError';
    this.code = code;
  }
}
