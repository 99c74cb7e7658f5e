// Errors raised while reading DCP documents: each carries a stable `code` and names the file,
// so the verifier can turn it into a finding a projectionist can act on.

export class DcpError extends Error {
  readonly code: string;
  readonly file: string | null;

  constructor(code: string, message: string, file: string | null = null) {
    super(message);
    this.name = 'DcpError';
    this.code = code;
    this.file = file;
  }
}
