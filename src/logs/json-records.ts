/**
 * Splits JSON text into top-level records without holding the file in memory: one JSON value per
 * line (JSONL), objects written one after another with or without newlines (as several EVTX-to-JSON
 * dumps write them), or the elements of one top-level array.
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
  private current = '';
  private recordLine = 0;
  private line = 1;
  /** Text between records that is not whitespace or a separator (reported as garbage). */
  stray: { line: number; text: string }[] = [];

  feed(chunk: string): RecordText[] {
    const out: RecordText[] = [];
    const recordDepth = () => (this.arrayMode ? 1 : 0);
    let start = -1; // where the part of the current record inside this chunk starts
    if (this.depth > recordDepth()) start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === NEWLINE) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (this.arrayMode === undefined && c > 0x20) {
        this.arrayMode = c === OPEN_BRACKET;
        if (this.arrayMode) {
          this.depth = 1;
          continue;
        }
      }
      const atRecordLevel = this.depth === recordDepth();
      if (c === QUOTE) {
        this.inString = true;
        if (atRecordLevel) this.stray.push({ line: this.line, text: chunk.slice(i, i + 20) });
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (atRecordLevel) {
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
        if (this.depth === recordDepth() && start >= 0) {
          out.push({ text: this.current + chunk.slice(start, i + 1), line: this.recordLine });
          this.current = '';
          start = -1;
        } else if (this.depth < 0) {
          this.stray.push({ line: this.line, text: String.fromCharCode(c) });
          this.depth = 0;
        }
      } else if (atRecordLevel && c > 0x20 && c !== COMMA) {
        this.stray.push({ line: this.line, text: chunk.slice(i, i + 20) });
        // skip to the end of this token so one bad word gives one report
        while (
          i + 1 < chunk.length &&
          chunk.charCodeAt(i + 1) > 0x20 &&
          chunk.charCodeAt(i + 1) !== OPEN_BRACE
        )
          i++;
      }
    }
    if (start >= 0) this.current += chunk.slice(start);
    return out;
  }

  /** What is left when the input ends: an unfinished record, if any. */
  end(): RecordText | undefined {
    if (this.current.trim() === '') return undefined;
    const rest = { text: this.current, line: this.recordLine };
    this.current = '';
    return rest;
  }
}
