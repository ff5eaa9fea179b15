/** Where a problem was found: enough for a user to open the file and look. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field inside the document, e.g. `detection.selection.Image|foo`. */
  field?: string;
  /** Record number inside a log file (1-based). */
  record?: number;
}

/**
 * Every error Vigil reports on purpose carries a stable `code` (tests assert on it, the CLI prints it)
 * and the place it refers to. Unexpected exceptions are everything else.
 */
export class VigilError extends Error {
  readonly code: string;
  readonly location: SourceLocation;

  constructor(code: string, message: string, location: SourceLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
    this.location = location;
  }

  /** `file:line: field: message` with the parts that are known. */
  describe(): string {
    const where = formatLocation(this.location);
    return where ? `${where}: ${this.message}` : this.message;
  }
}

export function formatLocation(location: SourceLocation): string {
  const parts: string[] = [];
  if (location.file) {
    let place = location.file;
    if (location.line !== undefined) place += `:${location.line}`;
    if (location.column !== undefined && location.line !== undefined) place += `:${location.column}`;
    parts.push(place);
  }
  if (location.record !== undefined) parts.push(`record ${location.record}`);
  if (location.field) parts.push(location.field);
  return parts.join(': ');
}

/** Turns anything thrown into a one-line description, keeping locations of our own errors. */
export function describeError(error: unknown): string {
  if (error instanceof VigilError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}
