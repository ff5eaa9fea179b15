import type { SourceLocation } from '../core/index.js';

/**
 * Which input files gave anything. A file with some damaged records skipped was read; a file from
 * which not one event came and about which a problem was told (empty, not a log, every record
 * damaged, unreadable) was not, and a command that met one must not say all went well.
 */
export class ReadTally {
  private readonly events = new Map<string, number>();
  private readonly troubled = new Set<string>();

  /** Events read from a file (called once per unit of work). */
  add(file: string, events: number): void {
    this.events.set(file, (this.events.get(file) ?? 0) + events);
  }

  problem(location: SourceLocation): void {
    if (location.file !== undefined) this.troubled.add(location.file);
  }

  /** The files, of those given, that gave no event and were reported. */
  unread(files: readonly string[]): string[] {
    return files.filter((file) => this.troubled.has(file) && !this.events.get(file));
  }
}
