/**
 * Splits JSON bytes into top-level records without holding the file in memory: one JSON value
 * per line (JSONL), objects written one after another with or without newlines (as several
 * EVTX-to-JSON dumps write them), or the elements of one top-level array. Works on bytes: the
 * structural characters are ASCII, and UTF-8 never uses ASCII bytes inside other characters,
 * so only whole records are decoded.
 */
export interface RecordText {
  text: string;
  /** 1-based line where the record starts. */
  line: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COMMA = 0x2c;

export class JsonRecordSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Whether the input is one top-level array whose elements are the records. */
  private arrayMode: boolean | undefined;
  /** Bytes of the current record from earlier chunks. */
  private pending: Buffer[] = [];
  private recordLine = 0;
  private line = 1;
  /** Text between records that is not whitespace or a separator (reported as garbage). */
  stray: { line: number; text: string }[] = [];

  feed(chunk: Buffer): RecordText[] {
    const out: RecordText[] = [];
    const recordDepth = this.arrayMode ? 1 : 0;
    let start = this.depth > recordDepth ? 0 : -1; // where the current record starts in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === NEWLINE) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c <= 0x20 || c === COMMA) continue;
      if (this.arrayMode === undefined) {
        this.arrayMode = c === OPEN_BRACKET;
        if (this.arrayMode) {
          this.depth = 1;
          return [...out, ...this.feed(chunk.subarray(i + 1))];
        }
      }
      const level = this.arrayMode ? 1 : 0;
      if (c === QUOTE) {
        this.inString = true;
        if (this.depth === level)
          this.stray.push({ line: this.line, text: chunk.toString('utf8', i, i + 20) });
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.depth === level) {
          start = i;
          this.recordLine = this.line;
        }
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.arrayMode && this.depth === 1) {
          this.depth = 0;
          continue;
        }
        this.depth--;
        if (this.depth === level && start >= 0) {
          const tail = chunk.subarray(start, i + 1);
          const bytes = this.pending.length ? Buffer.concat([...this.pending, tail]) : tail;
          out.push({ text: bytes.toString('utf8'), line: this.recordLine });
          this.pending = [];
          start = -1;
        } else if (this.depth < level) {
          this.stray.push({ line: this.line, text: String.fromCharCode(c) });
          this.depth = level;
        }
      } else if (this.depth === level) {
        let end = i;
        while (end + 1 < chunk.length && chunk[end + 1]! > 0x20 && chunk[end + 1] !== OPEN_BRACE) end++;
        this.stray.push({ line: this.line, text: chunk.toString('utf8', i, Math.min(end + 1, i + 20)) });
        i = end;
      }
    }
    if (start >= 0) this.pending.push(Buffer.from(chunk.subarray(start)));
    return out;
  }

  /** What is left when the input ends: an unfinished record, if any. */
  end(): RecordText | undefined {
    if (this.pending.length === 0) return undefined;
    const rest = { text: Buffer.concat(this.pending).toString('utf8'), line: this.recordLine };
    this.pending = [];
    return rest;
  }
}

/** Splits bytes into lines (LF or CRLF), keeping partial lines across chunks. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private line = 0;

  feed(chunk: Buffer): RecordText[] {
    const out: RecordText[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      const bytes = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.line++;
      const text = bytes.toString('utf8');
      if (text.trim() !== '') out.push({ text, line: this.line });
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
    return out;
  }

  end(): RecordText | undefined {
    if (this.pending.length === 0) return undefined;
    const text = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.line++;
    return text.trim() === '' ? undefined : { text, line: this.line };
  }
}
