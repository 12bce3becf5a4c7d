import { OpenFuguError } from '@openfugu/schema';

/**
 * A model directory or file could not be loaded by a backbone: missing files (`code: 'not_found'`), or an
 * invalid or unsupported model, config or tokenizer (`code: 'config_error'`). `path` names the file or
 * directory at fault; `cause` holds the underlying error. (A missing optional peer dependency throws
 * `MissingPeerDependencyError` instead.)
 *
 * @example
 * ```ts
 * try { await createOnnxDecoderBackbone({ modelDir }) } catch (error) {
 *   if (BackboneLoadError.isBackboneLoadError(error) && error.code === 'not_found') console.error(error.path);
 * }
 * ```
 */
export class BackboneLoadError extends OpenFuguError {
  /** The file or directory at fault. */
  readonly path: string;
  constructor(options: {
    code: 'not_found' | 'config_error';
    path: string;
    message: string;
    cause?: unknown;
  }) {
    super({ code: options.code, message: options.message, cause: options.cause });
    this.name = 'BackboneLoadError';
    this.path = options.path;
  }

  /** True for a `BackboneLoadError`, even one from another installed copy of this package. */
  static isBackboneLoadError(value: unknown): value is BackboneLoadError {
    return OpenFuguError.isInstance(value) && value.name === 'BackboneLoadError';
  }
}
