import { auditSerial } from './auditd.js';
import { isCsvTypeLine, splitCsvLine } from './csv.js';
import type { TextFormat } from './formats.js';
import { readMessageTrackingDirective } from './message-tracking.js';
import { readW3cDirective, type W3cHeader } from './w3c.js';
import { readZeekDirective, type ZeekHeader } from './zeek-tsv.js';

/**
 * What reading a record needs besides its text, as plain data (it crosses to worker threads):
 * the header of Zeek, W3C, message tracking and CSV files, the file's time for syslog dates
 * without a year.
 */
export interface TextContext {
  format: TextFormat;
  zeek?: ZeekHeader;
  w3c?: W3cHeader;
  /** The columns of a CSV file (its first line) or of an Exchange message tracking log (`#Fields:`). */
  columns?: string[];
  /** When the file was last written (ms): RFC 3164 dates are read in the year before it. */
  receivedAt?: number;
}

/** A record of a text log (one line, or the lines of one audit event) and where it is. */
export interface AssembledRecord {
  text: string;
  /** Its first line, 1.. in the file. */
  line: number;
  /** The byte offset where its first line starts, and where its last line ends. */
  start: number;
  end: number;
  context: TextContext;
}

interface Line {
  text: string;
  line: number;
  start: number;
  end: number;
}

/** Formats with `#` header lines before (and between) their records. */
const HEADED = new Set<TextFormat>(['zeek-tsv', 'w3c', 'message-tracking']);

/**
 * Turns the lines of a text log into its records: header lines (`#fields`, `#Fields:`, a CSV's
 * first line) change the context the next records are read in, and the consecutive lines of one
 * audit serial are one record. The same for `vigil hunt` (a whole file) and the folder watch (a
 * file as it grows, from where it stopped): an audit event whose closing record may still be on
 * its way is held until `finish`.
 */
export class TextRecordAssembler {
  private audit: Line[] = [];
  private serial: string | undefined;

  constructor(public context: TextContext) {}

  /** One line (without its line end); the records it completes. */
  feed(raw: string, line: number, start: number, end: number): AssembledRecord[] {
    const text = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return [];
    const format = this.context.format;
    if (HEADED.has(format) && text.charCodeAt(0) === 0x23) {
      const done = this.finish();
      this.context = readDirective(text, this.context);
      return done;
    }
    if (format === 'csv' && this.context.columns === undefined) {
      // The header (after Export-Csv's `#TYPE` line): a header that cannot be split leaves every
      // record to be reported as coming before one.
      if (!isCsvTypeLine(text)) this.context = { ...this.context, columns: splitCsvLine(text) ?? [] };
      return [];
    }
    if (format !== 'auditd') return [{ text, line, start, end, context: this.context }];
    const id = auditSerial(text);
    const done = !id || id.serial !== this.serial ? this.finish() : [];
    this.audit.push({ text, line, start, end });
    this.serial = id?.serial;
    if (!id || id.last) done.push(...this.finish());
    return done;
  }

  /** Where the audit event held back starts (a byte offset), if one is. */
  get heldFrom(): number | undefined {
    return this.audit[0]?.start;
  }

  /** The audit event held back, as complete. */
  finish(): AssembledRecord[] {
    const lines = this.audit;
    if (lines.length === 0) return [];
    this.audit = [];
    this.serial = undefined;
    return [
      {
        text: lines.map((l) => l.text).join('\n'),
        line: lines[0]!.line,
        start: lines[0]!.start,
        end: lines.at(-1)!.end,
        context: this.context,
      },
    ];
  }
}

function readDirective(text: string, context: TextContext): TextContext {
  switch (context.format) {
    case 'zeek-tsv':
      return { ...context, zeek: readZeekDirective(text, context.zeek) };
    case 'w3c':
      return { ...context, w3c: readW3cDirective(text, context.w3c) };
    default:
      return { ...context, columns: readMessageTrackingDirective(text, context.columns) };
  }
}
