/**
 * A check, on the bytes as they arrived, that a line of NDJSON holds one JSON object (RFC 8259),
 * without building it: ingest only needs to know that detection will be able to read the event,
 * and parsing it there is the one parse it gets. Building the object on the request path as well
 * cost about a fifth of the service's main thread, and its garbage more.
 *
 * The check is never more lenient than `JSON.parse`; where it says no, the caller asks `JSON.parse`,
 * which has the last word and the error message (so a line it is unsure of costs a parse, no more).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Deeper nesting is left to JSON.parse, so that a hostile line cannot exhaust the stack here. */
const MAX_DEPTH = 256;

function isJsonSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function isHexDigit(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  const lower = byte | 0x20;
  return isDigit(byte) || (lower >= 0x61 && lower <= 0x66);
}

/** Bytes that may follow a backslash: " \ / b f n r t (u is checked with its four hex digits). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

class Scanner {
  constructor(
    private readonly bytes: Uint8Array,
    private at: number,
    private readonly end: number,
  ) {}

  private skipSpace(): void {
    while (this.at < this.end && isJsonSpace(this.bytes[this.at])) this.at++;
  }

  /** A string, from its opening quote; raw control characters are not allowed in it (JSON.parse refuses them). */
  private string(): boolean {
    const { bytes, end } = this;
    let i = this.at + 1;
    while (i < end) {
      const byte = bytes[i]!;
      if (byte === QUOTE) {
        this.at = i + 1;
        return true;
      }
      if (byte < 0x20) return false;
      if (byte !== BACKSLASH) {
        i++;
        continue;
      }
      const escaped = bytes[i + 1];
      if (escaped === 0x75) {
        for (let k = 2; k < 6; k++) if (i + k >= end || !isHexDigit(bytes[i + k])) return false;
        i += 6;
      } else if (escaped !== undefined && i + 1 < end && SIMPLE_ESCAPES.has(escaped)) i += 2;
      else return false;
    }
    return false;
  }

  private digits(): boolean {
    if (this.at >= this.end || !isDigit(this.bytes[this.at])) return false;
    while (this.at < this.end && isDigit(this.bytes[this.at])) this.at++;
    return true;
  }

  private number(): boolean {
    const { bytes } = this;
    if (bytes[this.at] === 0x2d) this.at++;
    if (this.at < this.end && bytes[this.at] === 0x30) this.at++;
    else if (!this.digits()) return false;
    if (this.at < this.end && bytes[this.at] === 0x2e) {
      this.at++;
      if (!this.digits()) return false;
    }
    if (this.at < this.end && (bytes[this.at]! | 0x20) === 0x65) {
      this.at++;
      if (this.at < this.end && (bytes[this.at] === 0x2b || bytes[this.at] === 0x2d)) this.at++;
      if (!this.digits()) return false;
    }
    return true;
  }

  private word(text: string): boolean {
    if (this.at + text.length > this.end) return false;
    for (let k = 0; k < text.length; k++) if (this.bytes[this.at + k] !== text.charCodeAt(k)) return false;
    this.at += text.length;
    return true;
  }

  private object(depth: number): boolean {
    this.at++;
    this.skipSpace();
    if (this.bytes[this.at] === 0x7d && this.at < this.end) {
      this.at++;
      return true;
    }
    for (;;) {
      if (this.at >= this.end || this.bytes[this.at] !== QUOTE || !this.string()) return false;
      this.skipSpace();
      if (this.at >= this.end || this.bytes[this.at] !== 0x3a) return false;
      this.at++;
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      if (this.at >= this.end) return false;
      const next = this.bytes[this.at++];
      if (next === 0x7d) return true;
      if (next !== 0x2c) return false;
      this.skipSpace();
    }
  }

  private array(depth: number): boolean {
    this.at++;
    this.skipSpace();
    if (this.bytes[this.at] === 0x5d && this.at < this.end) {
      this.at++;
      return true;
    }
    for (;;) {
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      if (this.at >= this.end) return false;
      const next = this.bytes[this.at++];
      if (next === 0x5d) return true;
      if (next !== 0x2c) return false;
    }
  }

  value(depth: number): boolean {
    this.skipSpace();
    if (this.at >= this.end) return false;
    switch (this.bytes[this.at]) {
      case QUOTE:
        return this.string();
      case 0x7b:
        return depth < MAX_DEPTH && this.object(depth);
      case 0x5b:
        return depth < MAX_DEPTH && this.array(depth);
      case 0x74:
        return this.word('true');
      case 0x66:
        return this.word('false');
      case 0x6e:
        return this.word('null');
      default:
        return this.number();
    }
  }

  /** One object from here to the end, with only JSON whitespace around it. */
  wholeObject(): { start: number; end: number } | undefined {
    this.skipSpace();
    const start = this.at;
    if (this.bytes[start] !== 0x7b || start >= this.end || !this.object(0)) return undefined;
    const objectEnd = this.at;
    this.skipSpace();
    return this.at === this.end ? { start, end: objectEnd } : undefined;
  }
}

/**
 * Where the one JSON object of `bytes[start, end)` lies (JSON whitespace around it left out), or
 * undefined when the bytes are not certainly one: blank, not JSON, another kind of value, or more
 * than this check reads (nesting past MAX_DEPTH, a byte-order mark).
 */
export function jsonObjectSpan(
  bytes: Uint8Array,
  start: number,
  end: number,
): { start: number; end: number } | undefined {
  return new Scanner(bytes, start, end).wholeObject();
}
