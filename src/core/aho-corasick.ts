/** Each UTF-16 code unit's lower-case form when that is one code unit (else itself). */
let lowerTable: Uint16Array | undefined;

function lowerCase(): Uint16Array {
  if (!lowerTable) {
    lowerTable = new Uint16Array(0x10000);
    for (let c = 0; c < 0x10000; c++) {
      // Where lower case is two code units (İ is i + U+0307), the first one stands in.
      lowerTable[c] = String.fromCharCode(c).toLowerCase().charCodeAt(0);
    }
    lowerTable[0x03c2] = 0x03c3; // final sigma folds like sigma (see foldCase)
  }
  return lowerTable;
}

/** Classes shared by all non-ASCII code units, by their low bits. */
const WIDE_CLASSES = 32;

/**
 * Whether matching a folded pattern (see foldCase) against text folded one code unit at a time
 * finds at least what `foldCase(text).includes(pattern)` finds. It does, except for the combining
 * dot U+0307 that lower-casing adds after i (İ becomes i + U+0307), so patterns holding it are
 * left out of case-insensitive scans.
 */
export function foldsSafely(pattern: string): boolean {
  return !pattern.includes('\u0307');
}

/**
 * Aho-Corasick: finds every occurrence of many literal patterns in one pass over a text. Used to
 * pre-select the rules whose literals occur in an event (and later for indicator lists).
 *
 * The automaton is a full DFA over character classes, so a step is one table lookup. With
 * `caseInsensitive`, patterns are given in lower case and characters are folded to lower case
 * as they are read, so texts need no lower-casing before a search. Reports are a superset: a
 * pattern with non-ASCII characters may be reported where a different character of the same
 * class stands, so callers verify what matters.
 */
export class AhoCorasick {
  /** Character code -> class. */
  private readonly classOf: Uint16Array;
  private readonly classes: number;
  /**
   * Row of a state (state * classes) + class -> (row of the next state << 1) | 1 if that state
   * ends a pattern somewhere along its failure chain. Rows instead of states save a multiply
   * per character.
   */
  private readonly delta: Int32Array;
  /** Patterns ending exactly at a state. */
  private readonly ends: (number[] | undefined)[];
  /** Nearest state along the failure chain that ends a pattern (-1: none). */
  private readonly dictLink: Int32Array;
  readonly size: number;

  constructor(patterns: readonly string[], options: { caseInsensitive?: boolean } = {}) {
    this.size = patterns.length;
    // Every ASCII character of the patterns is its own class; all other code units share
    // WIDE_CLASSES classes by their low bits. Rows stay narrow whatever scripts or emoji the
    // patterns hold; a shared class may report a pattern that is not there (the caller checks
    // hits anyway), never miss one that is.
    const fold = options.caseInsensitive ? lowerCase() : undefined;
    const ascii = new Uint16Array(128);
    let classes = 1;
    let wide = false;
    for (const pattern of patterns) {
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern.charCodeAt(i);
        if (c >= 128) wide = true;
        else if (ascii[c] === 0) ascii[c] = classes++;
      }
    }
    const wideBase = classes;
    if (wide) classes += WIDE_CLASSES;
    this.classOf = new Uint16Array(0x10000);
    for (let c = 0; c < 0x10000; c++) {
      const f = fold ? fold[c]! : c;
      if (f < 128) this.classOf[c] = ascii[f]!;
      // Surrogates share one class: folding a character outside the BMP takes both halves.
      else if (wide)
        this.classOf[c] = f >= 0xd800 && f <= 0xdfff ? wideBase : wideBase + 1 + (f & (WIDE_CLASSES - 2));
    }
    this.classes = classes;

    // The trie, written straight into the transition table with edges marked negative (-1 - child),
    // then completed breadth-first into the DFA, each row encoded as it is finished.
    let capacity = 1;
    for (const pattern of patterns) capacity += pattern.length;
    if (capacity * classes * 2 > 0x7fffffff) throw new RangeError('too many patterns for one automaton');
    let delta = new Int32Array(capacity * classes);
    const ends: (number[] | undefined)[] = [undefined];
    let states = 1;
    patterns.forEach((pattern, id) => {
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const slot = state * classes + this.classOf[pattern.charCodeAt(i)]!;
        let child = delta[slot]!;
        if (child === 0) {
          child = states++;
          ends.push(undefined);
          delta[slot] = -1 - child;
        } else child = -1 - child;
        state = child;
      }
      const list = ends[state];
      if (list) list.push(id);
      else ends[state] = [id];
    });
    delta = delta.subarray(0, states * classes);

    const dictLink = new Int32Array(states).fill(-1);
    /** Whether reaching a state reports a pattern (its own, or one along its failure chain). */
    const reports = new Uint8Array(states);
    const encode = (state: number) => ((state * classes) << 1) | reports[state]!;
    const queue = new Int32Array(states);
    const fail = new Int32Array(states);
    let tail = 0;
    for (let cls = 0; cls < classes; cls++) {
      const v = delta[cls]!;
      if (v < 0) {
        const child = -1 - v;
        reports[child] = ends[child] ? 1 : 0;
        delta[cls] = encode(child);
        queue[tail++] = child;
      }
    }
    for (let head = 0; head < tail; head++) {
      const state = queue[head]!;
      const row = state * classes;
      const failRow = fail[state]! * classes;
      for (let cls = 0; cls < classes; cls++) {
        const v = delta[row + cls]!;
        const inherited = delta[failRow + cls]!; // already encoded: the failure state is nearer the root
        if (v < 0) {
          const child = -1 - v;
          const target = (inherited >>> 1) / classes;
          fail[child] = target;
          dictLink[child] = ends[target] ? target : dictLink[target]!;
          reports[child] = ends[child] || dictLink[child] !== -1 ? 1 : 0;
          delta[row + cls] = encode(child);
          queue[tail++] = child;
        } else {
          delta[row + cls] = inherited;
        }
      }
    }
    this.delta = delta;
    this.ends = ends;
    this.dictLink = dictLink;
  }

  /** Calls `hit` with the id of every pattern occurring in `text` (once per occurrence). */
  search(text: string, hit: (patternId: number) => void): void {
    const { classOf, delta } = this;
    let row = 0;
    for (let i = 0; i < text.length; i++) {
      const entry = delta[row + classOf[text.charCodeAt(i)]!]!;
      row = entry >>> 1;
      if (entry & 1) this.report(row / this.classes, hit);
    }
  }

  private report(state: number, hit: (patternId: number) => void): void {
    const own = this.ends[state];
    if (own) for (const id of own) hit(id);
    for (let d = this.dictLink[state]!; d !== -1; d = this.dictLink[d]!)
      for (const id of this.ends[d]!) hit(id);
  }
}
