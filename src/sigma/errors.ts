import { type SourceLocation, VigilError } from '../core/index.js';

/** Stable codes for everything that can be wrong with a rule, so tests and tools can tell them apart. */
export type SigmaErrorCode =
  | 'SIGMA_YAML'
  | 'SIGMA_SCHEMA'
  | 'SIGMA_CONDITION'
  | 'SIGMA_MODIFIER'
  | 'SIGMA_VALUE'
  | 'SIGMA_REGEX'
  | 'SIGMA_PLACEHOLDER'
  | 'SIGMA_CORRELATION'
  | 'SIGMA_FILTER'
  | 'SIGMA_PIPELINE'
  | 'SIGMA_DUPLICATE';

export type YamlPath = readonly (string | number)[];

export class SigmaError extends VigilError {
  declare readonly code: SigmaErrorCode;
  /** Where in the YAML document the problem is, so the loader can name the line. */
  readonly path: YamlPath | undefined;

  constructor(code: SigmaErrorCode, message: string, location: SourceLocation = {}, path?: YamlPath) {
    super(code, message, location);
    this.name = 'SigmaError';
    this.path = path;
  }

  /** The same error, placed: fills in what the thrower did not know, keeping what it did. */
  at(location: SourceLocation, path?: YamlPath): SigmaError {
    return new SigmaError(
      this.code,
      this.message,
      { ...location, ...definedOnly(this.location) },
      this.path ?? path,
    );
  }
}

/** Places any error thrown by `fn` at `path` (the innermost placement wins). */
export function atPath<T>(path: YamlPath, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SigmaError) throw error.at({ field: error.location.field ?? path.join('.') }, path);
    throw error;
  }
}

function definedOnly(location: SourceLocation): SourceLocation {
  const out: SourceLocation = {};
  for (const [key, value] of Object.entries(location)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
