import { setFlagsFromString } from 'node:v8';
import { SigmaError } from './errors.js';

/**
 * Sigma regexes (PCRE flavour) made safe to run on untrusted rules and logs.
 *
 * A backtracking engine can be made to hang by one pattern such as `(a+)+$`. V8 has a second,
 * linear-time engine, and can fall back to it when a match backtracks too much
 * (`--enable-experimental-regexp-engine-on-excessive-backtracks`). Patterns run on the fast
 * backtracking engine, and the fallback bounds the worst case, as long as the linear engine can
 * take the pattern. It takes neither the `i` nor the `u` flag, nor lookaround or backreferences,
 * nor large counted repetitions. So case-insensitivity and inline flags (`(?i)`, `(?s)`,
 * `(?i:...)`) are rewritten here into plain constructs, counted repetitions are written out, every
 * pattern is checked against the linear engine when compiled, and what it cannot take
 * (lookaround, backreferences, recursion) rejects the rule with a clear error. The Sigma
 * specification excludes those metacharacters anyway.
 */

export interface RegexFlags {
  ignoreCase?: boolean;
  multiline?: boolean;
  dotAll?: boolean;
}

let linearEngineEnabled = false;

function enableLinearEngine(): void {
  if (linearEngineEnabled) return;
  setFlagsFromString('--enable-experimental-regexp-engine');
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  linearEngineEnabled = true;
}

const cache = new Map<string, RegExp>();

/** Counts up to this stay as written; V8's linear engine takes them directly. */
const SMALL_COUNT = 8;
/** Longest JavaScript source a pattern may become once its counted repetitions are written out. */
const MAX_SOURCE = 200_000;

/** Compiles a Sigma `re` value; throws SigmaError('SIGMA_REGEX') when it cannot run in linear time. */
export function compileSigmaRegex(pattern: string, flags: RegexFlags = {}): RegExp {
  const key = `${flags.ignoreCase ? 'i' : ''}${flags.multiline ? 'm' : ''}${flags.dotAll ? 's' : ''}/${pattern}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const translated = translatePcre(pattern, flags);
  enableLinearEngine();
  const jsFlags = translated.multiline ? 'm' : '';
  let regex: RegExp;
  try {
    // The linear engine must accept the pattern, or the fallback that bounds its run time cannot happen.
    new RegExp(translated.source, `${jsFlags}l`);
    regex = new RegExp(translated.source, jsFlags);
  } catch (error) {
    throw new SigmaError(
      'SIGMA_REGEX',
      `invalid regular expression /${pattern}/: ${(error as Error).message}`,
    );
  }
  cache.set(key, regex);
  return regex;
}

interface ScopeFlags {
  ignoreCase: boolean;
  dotAll: boolean;
}

export interface TranslatedRegex {
  source: string;
  multiline: boolean;
}

/** Exposed for tests: the JavaScript source a PCRE pattern becomes. */
export function translatePcre(pattern: string, flags: RegexFlags = {}): TranslatedRegex {
  const translator = new PcreTranslator(pattern, !!flags.multiline);
  const source = translator.translate({ ignoreCase: !!flags.ignoreCase, dotAll: !!flags.dotAll });
  return { source, multiline: translator.multiline };
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  punct: '!-\\/:-@\\[-`{-~',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

class PcreTranslator {
  private pos = 0;
  multiline: boolean;
  /** Whether `^` or `$` was written yet (an inline `(?m)` after them would change their meaning). */
  private anchored = false;
  /** Whether `\A`, `\z` or `\Z` was used: JavaScript can only write them outside multi-line mode. */
  private absolute = false;

  constructor(
    private readonly src: string,
    multiline: boolean,
  ) {
    this.multiline = multiline;
  }

  translate(flags: ScopeFlags): string {
    const out = this.alternation({ ...flags });
    if (this.pos < this.src.length) this.fail(`unmatched ')' at offset ${this.pos}`);
    if (this.absolute && this.multiline) this.fail('\\A, \\z and \\Z are not supported in multi-line mode');
    return out;
  }

  private fail(message: string): never {
    throw new SigmaError('SIGMA_REGEX', `regular expression /${this.src}/: ${message}`);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** Alternatives up to the closing ')' of the current group (not consumed) or the end. */
  private alternation(flags: ScopeFlags): string {
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (ch === ')') break;
      if (ch === '|') {
        out += '|';
        this.pos++;
        continue;
      }
      const atom = this.atom(flags);
      if (atom === null) continue; // inline flag change or comment: nothing to quantify
      out += this.quantified(atom);
      if (out.length > MAX_SOURCE) this.fail('too large once counted repetitions are expanded');
    }
    return out;
  }

  /**
   * The atom with the quantifier that follows it. Laziness does not change whether a pattern
   * matches, only which match is found, so it is dropped; possessiveness does, and is refused
   * (the linear-time engine cannot express it). Counted repetitions are
   * written out (`x{2,4}` becomes `xx(?:x(?:x)?)?`): V8's linear engine refuses large counts, but
   * accepts the same automaton spelled with `?`.
   */
  private quantified(atom: string): string {
    const ch = this.peek();
    let min: number;
    let max: number | undefined;
    if (ch === '*' || ch === '+' || ch === '?') {
      this.pos++;
      this.skipQuantifierSuffix();
      return atom + ch;
    }
    if (ch !== '{') return atom;
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (!match) return atom;
    this.pos += match[0].length;
    this.skipQuantifierSuffix();
    min = Number(match[1]);
    max = match[2] === undefined ? min : match[3] === '' ? undefined : Number(match[3]);
    if (max !== undefined && max < min) this.fail(`quantifier {${min},${max}} is out of order`);
    if ((max ?? min) <= SMALL_COUNT) return `${atom}{${min}${match[2] === undefined ? '' : `,${max ?? ''}`}}`;
    if (atom.length * (max ?? min + 1) > MAX_SOURCE)
      this.fail('too large once counted repetitions are expanded');
    const group =
      atom.length === 1 || /^(\\.|\[[^\]]*\]|\((?:[^()]|\\.)*\))$/.test(atom) ? atom : `(?:${atom})`;
    let out = group.repeat(min);
    if (max === undefined) return `${out}${group}*`;
    let optional = '';
    for (let i = min; i < max; i++) optional = `(?:${group}${optional})?`;
    out += optional;
    return out;
  }

  private skipQuantifierSuffix(): void {
    if (this.peek() === '+') {
      this.fail(
        `possessive quantifier at offset ${this.pos} is not supported (write the pattern without it)`,
      );
    }
    if (this.peek() === '?') this.pos++;
  }

  /** One atom, or null for constructs that produce nothing (inline flags, comments). */
  private atom(flags: ScopeFlags): string | null {
    const ch = this.src[this.pos]!;
    switch (ch) {
      case '(':
        return this.group(flags);
      case '[':
        return this.charClass(flags);
      case '.':
        this.pos++;
        return flags.dotAll ? '[\\s\\S]' : '[^\\n]';
      case '^':
        this.pos++;
        this.anchored = true;
        return '^';
      case '$':
        this.pos++;
        this.anchored = true;
        // PCRE's `$` also matches before a newline that ends the text; JavaScript's does not.
        return this.multiline ? '$' : '(?:\\n?$)';
      case '\\':
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        this.fail(`quantifier '${ch}' at offset ${this.pos} has nothing to repeat`);
        break;
      case '{': {
        if (/^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) {
          this.fail(`quantifier at offset ${this.pos} has nothing to repeat`);
        }
        this.pos++;
        return '\\{';
      }
    }
    this.pos++;
    return literal(ch.codePointAt(0)!, flags.ignoreCase);
  }

  private group(flags: ScopeFlags): string | null {
    const start = this.pos;
    this.pos++; // (
    if (this.peek() !== '?') return this.groupBody('(', { ...flags });
    const rest = this.src.slice(this.pos + 1);
    if (rest.startsWith('#')) {
      const end = this.src.indexOf(')', this.pos);
      if (end < 0) this.fail('unterminated comment group');
      this.pos = end + 1;
      return null;
    }
    if (rest.startsWith(':')) {
      this.pos += 2;
      return this.groupBody('(?:', { ...flags });
    }
    if (rest.startsWith('>')) {
      this.fail(`atomic group at offset ${start} is not supported (write the pattern without it)`);
    }
    if (/^(=|!|<=|<!)/.test(rest)) {
      this.fail(
        `lookaround at offset ${start} cannot be evaluated in linear time (not in the Sigma regex flavour)`,
      );
    }
    const named = /^(P?<[A-Za-z_]\w*>|'[A-Za-z_]\w*')/.exec(rest);
    if (named) {
      this.pos += 1 + named[0].length;
      return this.groupBody('(?:', { ...flags });
    }
    const inline = /^([imsxnU]*)(?:-([imsxnU]*))?([:)])/.exec(rest);
    if (inline) {
      this.pos += 1 + inline[0].length;
      const scoped = inline[3] === ':' ? { ...flags } : flags;
      for (const f of inline[1] ?? '') this.applyInlineFlag(scoped, f, true);
      for (const f of inline[2] ?? '') this.applyInlineFlag(scoped, f, false);
      return inline[3] === ':' ? this.groupBody('(?:', scoped) : null;
    }
    this.fail(`unsupported group construct at offset ${start}`);
  }

  private applyInlineFlag(flags: ScopeFlags, flag: string, on: boolean): void {
    if (flag === 'i') flags.ignoreCase = on;
    else if (flag === 's') flags.dotAll = on;
    else if (flag === 'm') {
      if (on && !this.multiline && this.anchored)
        this.fail("an inline (?m) after '^' or '$' is not supported");
      if (!on && this.multiline) this.fail('turning multi-line mode off with (?-m) is not supported');
      this.multiline = this.multiline || on;
    } else this.fail(`inline flag '${flag}' is not supported`);
  }

  private groupBody(open: string, flags: ScopeFlags): string {
    const inner = this.alternation(flags);
    if (this.peek() !== ')') this.fail('missing closing parenthesis');
    this.pos++;
    return `${open}${inner})`;
  }

  private escape(flags: ScopeFlags): string {
    const next = this.peek(1);
    if (next === undefined) this.fail('trailing backslash');
    this.pos += 2;
    switch (next) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
      case 'b':
      case 'B':
        return `\\${next}`;
      case 'A':
        this.absolute = true;
        this.anchored = true;
        return '^';
      case 'z':
        this.absolute = true;
        this.anchored = true;
        return '$';
      case 'Z':
        this.absolute = true;
        this.anchored = true;
        return '(?:\\n?$)';
      case 'h':
        return '[ \\t\\xa0]';
      case 'H':
        return '[^ \\t\\xa0]';
      case 'v':
        return '[\\n\\x0b\\f\\r\\x85\\u2028\\u2029]';
      case 'V':
        return '[^\\n\\x0b\\f\\r\\x85\\u2028\\u2029]';
      case 'R':
        return '(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])';
      case 'N':
        return '[^\\n]';
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos);
        const text = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
        this.pos = end < 0 ? this.src.length : end + 2;
        let out = '';
        for (const c of text) out += literal(c.codePointAt(0)!, flags.ignoreCase);
        return text.length > 1 ? `(?:${out})` : out;
      }
      case 'E':
        return '';
    }
    const code = this.escapedCode(next);
    if (code !== undefined) return literal(code, flags.ignoreCase);
    if (/[1-9]/.test(next) || next === 'k' || next === 'g') {
      this.fail(
        `backreference '\\${next}' cannot be evaluated in linear time (not in the Sigma regex flavour)`,
      );
    }
    if (/[A-Za-z0-9]/.test(next)) this.fail(`unsupported escape '\\${next}'`);
    return literal(next.codePointAt(0)!, flags.ignoreCase);
  }

  /** Escapes that denote one character (shared by atoms and classes); `pos` is just past the letter. */
  private escapedCode(letter: string): number | undefined {
    switch (letter) {
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 't':
        return 0x09;
      case 'f':
        return 0x0c;
      case 'e':
        return 0x1b;
      case 'a':
        return 0x07;
      case '0': {
        const octal = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
        this.pos += octal.length;
        return Number.parseInt(`0${octal}`, 8);
      }
      case 'x': {
        const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(this.src.slice(this.pos));
        if (braced) {
          this.pos += braced[0].length;
          return Number.parseInt(braced[1]!, 16);
        }
        const hex = /^[0-9A-Fa-f]{1,2}/.exec(this.src.slice(this.pos));
        if (!hex) return 0;
        this.pos += hex[0].length;
        return Number.parseInt(hex[0], 16);
      }
      case 'u': {
        const hex = /^[0-9A-Fa-f]{4}/.exec(this.src.slice(this.pos));
        if (!hex) this.fail('\\u needs four hex digits');
        this.pos += 4;
        return Number.parseInt(hex[0], 16);
      }
      case 'c': {
        const ctl = this.peek();
        if (ctl === undefined) this.fail('\\c needs a letter');
        this.pos++;
        return ctl.toUpperCase().charCodeAt(0) ^ 0x40;
      }
    }
    return undefined;
  }

  private charClass(flags: ScopeFlags): string {
    this.pos++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const items: string[] = [];
    let first = true;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail('missing closing bracket of a character class');
      if (ch === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        const body = POSIX_CLASSES[posix[2]!];
        if (!body || posix[1]) this.fail(`unsupported POSIX class '${posix[0]}'`);
        this.pos += posix[0].length;
        items.push(body);
        continue;
      }
      const low = this.classAtom();
      if (typeof low === 'string') {
        items.push(low);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        const save = this.pos;
        this.pos++;
        const high = this.classAtom();
        if (typeof high === 'number') {
          if (high < low) this.fail('character class range out of order');
          items.push(classRange(low, high, flags.ignoreCase));
          continue;
        }
        this.pos = save; // `a-\d`: the dash is literal
      }
      items.push(classRange(low, low, flags.ignoreCase));
    }
    return `[${negated ? '^' : ''}${items.join('')}]`;
  }

  /** A code point, or a ready-made class escape such as `\d`. */
  private classAtom(): number | string {
    const ch = this.src[this.pos]!;
    if (ch !== '\\') {
      const code = this.src.codePointAt(this.pos)!;
      this.pos += code > 0xffff ? 2 : 1;
      return code;
    }
    const next = this.peek(1);
    if (next === undefined) this.fail('trailing backslash');
    this.pos += 2;
    if ('dDwWsS'.includes(next)) return `\\${next}`;
    if (next === 'h') return ' \\t\\xa0';
    if (next === 'v') return '\\n\\x0b\\f\\r\\x85\\u2028\\u2029';
    if (next === 'b') return 0x08;
    const code = this.escapedCode(next);
    if (code !== undefined) return code;
    if (/[A-Za-z0-9]/.test(next)) this.fail(`unsupported escape '\\${next}' in a character class`);
    return next.codePointAt(0)!;
  }
}

function hex4(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A code point as JS regex source, escaped so it means itself in and out of classes. */
function escapeCode(code: number): string {
  if (code > 0xffff) return String.fromCodePoint(code);
  const ch = String.fromCharCode(code);
  if (/[A-Za-z0-9 _,:;=<>!@#%&'"`~]/.test(ch)) return ch;
  if (code < 0x20 || code > 0x7e) return hex4(code);
  return `\\${ch}`;
}

function caseVariants(code: number): number[] {
  const ch = String.fromCodePoint(code);
  const variants = new Set<number>([code]);
  for (const other of [ch.toLowerCase(), ch.toUpperCase()]) {
    if ([...other].length === 1) variants.add(other.codePointAt(0)!);
  }
  return [...variants];
}

function literal(code: number, ignoreCase: boolean): string {
  if (!ignoreCase) return escapeCode(code);
  const variants = caseVariants(code);
  if (variants.length === 1) return escapeCode(code);
  return `[${variants.map(escapeCode).join('')}]`;
}

/** Class body for low..high, with the other case added when matching case-insensitively. */
function classRange(low: number, high: number, ignoreCase: boolean): string {
  const base = low === high ? escapeCode(low) : `${escapeCode(low)}-${escapeCode(high)}`;
  if (!ignoreCase || high - low > 0x400) return base;
  const extra = new Set<number>();
  for (let code = low; code <= high; code++) {
    for (const variant of caseVariants(code)) if (variant < low || variant > high) extra.add(variant);
  }
  return base + compressRanges([...extra]);
}

function compressRanges(codes: number[]): string {
  codes.sort((a, b) => a - b);
  let out = '';
  for (let i = 0; i < codes.length; ) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === codes[j]! + 1) j++;
    out += j > i ? `${escapeCode(codes[i]!)}-${escapeCode(codes[j]!)}` : escapeCode(codes[i]!);
    i = j + 1;
  }
  return out;
}

/**
 * Literals one of which occurs (ignoring case) in any text the pattern matches, or undefined when
 * no such set is found: `(?i)\\$pshome\[\d+\]` needs "$pshome[", `foo|bar\d` needs "foo" or "bar".
 * Used to skip a regex on texts that cannot match. Only runs of at least `minLength` characters
 * count, since shorter ones occur almost everywhere.
 */
export function regexRequiredLiterals(pattern: string, minLength = 3): string[] | undefined {
  let pos = 0;
  const src = pattern;

  // Returns the required literal set of an alternation, stopping at ')' or the end.
  function alternation(): string[] | undefined {
    const alternatives: (string[] | undefined)[] = [sequence()];
    while (src[pos] === '|') {
      pos++;
      alternatives.push(sequence());
    }
    if (alternatives.some((a) => a === undefined)) return undefined;
    return alternatives.flat() as string[];
  }

  function sequence(): string[] | undefined {
    let best: string[] | undefined;
    let bestScore = 0;
    let run = '';
    const consider = (set: string[] | undefined) => {
      if (!set || set.length === 0) return;
      const score = Math.min(...set.map((s) => s.length)) * 100 - set.length;
      if (set.every((s) => s.length >= minLength) && score > bestScore) {
        best = set;
        bestScore = score;
      }
    };
    const endRun = () => {
      consider(run ? [run] : undefined);
      run = '';
    };
    while (pos < src.length && src[pos] !== '|' && src[pos] !== ')') {
      const atom = nextAtom();
      const { min, max } = quantifier();
      if (atom.kind === 'char' && min >= 1) {
        run += atom.text;
        if (max !== 1) endRun(); // `ab+c`: "ab" is certain, what follows the repeat is not adjacent
      } else {
        endRun();
        if (atom.kind === 'group' && min >= 1) consider(atom.required);
      }
    }
    endRun();
    return best ?? undefined;
  }

  type Atom =
    | { kind: 'char'; text: string }
    | { kind: 'group'; required: string[] | undefined }
    | { kind: 'other' };

  function nextAtom(): Atom {
    const ch = src[pos]!;
    if (ch === '(') {
      pos++;
      if (src[pos] === '?') {
        const inline = /^\?[imsxnU-]*\)/.exec(src.slice(pos));
        if (inline) {
          pos += inline[0].length;
          return { kind: 'other' };
        }
        const prefix = /^\?(?::|>|P?<[A-Za-z_]\w*>|'[A-Za-z_]\w*'|[imsxnU-]*:)/.exec(src.slice(pos));
        if (prefix) pos += prefix[0].length;
        else {
          skipGroup();
          return { kind: 'other' };
        }
      }
      const required = alternation();
      if (src[pos] === ')') pos++;
      return { kind: 'group', required };
    }
    if (ch === '[') {
      pos++;
      if (src[pos] === '^') pos++;
      if (src[pos] === ']') pos++;
      while (pos < src.length && src[pos] !== ']') {
        if (src[pos] === '[' && src[pos + 1] === ':') {
          const close = src.indexOf(':]', pos + 2);
          pos = close < 0 ? src.length : close + 2;
        } else pos += src[pos] === '\\' ? 2 : 1;
      }
      pos++;
      return { kind: 'other' };
    }
    if (ch === '\\') {
      const next = src[pos + 1] ?? '';
      pos += 2;
      if (/[A-Za-z0-9]/.test(next)) {
        if (next === 'x' || next === 'u' || next === 'c' || next === 'Q')
          throw new Error('escape too rare to analyse');
        return { kind: 'other' };
      }
      return { kind: 'char', text: next.toLowerCase() };
    }
    pos++;
    if ('.^$'.includes(ch)) return { kind: 'other' };
    return { kind: 'char', text: ch.toLowerCase() };
  }

  function skipGroup(): void {
    let depth = 1;
    while (pos < src.length && depth > 0) {
      if (src[pos] === '\\') pos++;
      else if (src[pos] === '(') depth++;
      else if (src[pos] === ')') depth--;
      pos++;
    }
  }

  function quantifier(): { min: number; max: number } {
    const ch = src[pos];
    let min = 1;
    let max = 1;
    if (ch === '*' || ch === '+' || ch === '?') {
      pos++;
      min = ch === '+' ? 1 : 0;
      max = ch === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(pos));
      if (!m) return { min, max };
      pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else {
      return { min, max };
    }
    if (src[pos] === '?' || src[pos] === '+') pos++;
    return { min, max };
  }

  try {
    const result = alternation();
    if (pos < src.length || !result?.every((s) => s.length >= minLength && caseStable(s))) return undefined;
    return [...new Set(result)];
  } catch {
    return undefined;
  }
}

/**
 * Whether every character comes back to itself through upper and lower case. Characters such
 * as ı, ſ or µ do not (ı upper-cases to I, which lower-cases to i), and a case-insensitive regex
 * matches them in ways a lower-cased scan cannot see.
 */
function caseStable(text: string): boolean {
  return text.toUpperCase().toLowerCase() === text;
}
