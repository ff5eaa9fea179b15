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

/** Marks, in a wide-offset table, a code unit whose lower-case form is ASCII. */
const INTO_ASCII = 0xff;
const wideOffsetTables: { folded?: Uint8Array; cased?: Uint8Array } = {};

/**
 * For each code unit above ASCII (after folding, when `folded`): INTO_ASCII if that is ASCII,
 * else its offset from an automaton's first wide class. Surrogates share one class (folding a
 * character outside the BMP takes both halves); the rest share WIDE_CLASSES - 1 by low bits.
 * One table for all automata, so none needs a table of its own for every code unit.
 */
function wideOffsets(folded: boolean): Uint8Array {
  const key = folded ? 'folded' : 'cased';
  let table = wideOffsetTables[key];
  if (!table) {
    const fold = folded ? lowerCase() : undefined;
    table = new Uint8Array(0x10000);
    for (let c = 128; c < 0x10000; c++) {
      const f = fold ? fold[c]! : c;
      table[c] = f < 128 ? INTO_ASCII : f >= 0xd800 && f <= 0xdfff ? 0 : 1 + (f & (WIDE_CLASSES - 2));
    }
    wideOffsetTables[key] = table;
  }
  return table;
}

/**
 * Cells of the transition table kept per automaton (4 MiB): rows for the shallowest states.
 * Transitions of deeper states are worked out from the trie each time they are taken.
 */
const DENSE_CELLS = 1 << 20;

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
 * Trie edges, slot -> child state, in one open-addressing table: a Map of hundreds of thousands
 * of entries costs several times more to build and keeps the garbage collector busy.
 */
class EdgeTable {
  /** Key and value side by side: one cache line read per probe. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(capacity: number) {
    let bits = 4;
    while (1 << bits < capacity * 2) bits++;
    this.table = new Int32Array(2 << bits).fill(-1);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private index(key: number): number {
    // Fibonacci hashing: the high bits of the product are the well-mixed ones.
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.table[2 * i] !== -1 && this.table[2 * i] !== key) i = (i + 1) & this.mask;
    return 2 * i;
  }

  /** The child at a slot, or -1. */
  get(key: number): number {
    return this.table[this.index(key) + 1]!;
  }

  set(key: number, value: number): void {
    const i = this.index(key);
    this.table[i] = key;
    this.table[i + 1] = value;
  }
}

/**
 * Aho-Corasick: finds every occurrence of many literal patterns in one pass over a text. Used to
 * pre-select the rules whose literals occur in an event (and later for indicator lists).
 *
 * The automaton is a DFA over character classes, so a step is one table lookup. Its transitions
 * are computed on first use: real text visits few of the states of a large automaton (a list of
 * thousands of hashes has hundreds of thousands), and completing the whole table up front costs
 * more than all the searches of a hunt. With `caseInsensitive`, patterns are given in lower case
 * and characters are folded to lower case as they are read, so texts need no lower-casing before
 * a search. Reports are a superset: a pattern with non-ASCII characters may be reported where a
 * different character of the same class stands, so callers verify what matters.
 */
export class AhoCorasick {
  /** ASCII character code (folded, when ignoring case) -> class; 0 for characters of no pattern. */
  private readonly asciiClass: Uint16Array;
  /** Code units above ASCII -> offset from wideBase, or INTO_ASCII (see wideOffsets). */
  private readonly wideOffset: Uint8Array;
  private readonly fold: Uint16Array | undefined;
  /** The first of the WIDE_CLASSES classes of non-ASCII characters, or -1 when no pattern has any. */
  private readonly wideBase: number;
  private readonly classes: number;
  /**
   * Row of a state (state * classes) + class -> 1 + ((row of the next state << 1) | 1 if that
   * state ends a pattern somewhere along its failure chain); 0 while not computed yet. Rows
   * instead of states save a multiply per character.
   */
  private readonly delta: Int32Array;
  /** The trie: row + class -> child state. */
  private readonly trie: EdgeTable;
  private readonly fail: Int32Array;
  private readonly reports: Uint8Array;
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
    this.wideBase = wide ? classes : -1;
    if (wide) classes += WIDE_CLASSES;
    this.fold = fold;
    this.asciiClass = new Uint16Array(128);
    for (let c = 0; c < 128; c++) this.asciiClass[c] = ascii[fold ? fold[c]! : c]!;
    this.wideOffset = wideOffsets(fold !== undefined);
    this.classes = classes;

    let capacity = 1;
    for (const pattern of patterns) capacity += pattern.length;
    if (capacity * classes * 2 + 1 > 0x7fffffff) throw new RangeError('too many patterns for one automaton');
    const trie = new EdgeTable(capacity);
    const parent = new Int32Array(capacity);
    const via = new Int32Array(capacity);
    const depth = new Int32Array(capacity);
    const ends: (number[] | undefined)[] = [undefined];
    let states = 1;
    patterns.forEach((pattern, id) => {
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern.charCodeAt(i);
        const cls = c < 128 ? this.asciiClass[c]! : this.wideClass(c);
        const slot = state * classes + cls;
        let child = trie.get(slot);
        if (child === -1) {
          child = states++;
          trie.set(slot, child);
          parent[child] = state;
          via[child] = cls;
          depth[child] = i + 1;
          ends.push(undefined);
        }
        state = child;
      }
      const list = ends[state];
      if (list) list.push(id);
      else ends[state] = [id];
    });

    // States renumbered breadth-first (a counting sort by depth): failure links are then set in
    // one pass, each from its parent's, and the shallow states, where text spends nearly all its
    // time, are the first rows of the table.
    let maxDepth = 0;
    for (let s = 1; s < states; s++) if (depth[s]! > maxDepth) maxDepth = depth[s]!;
    const start = new Int32Array(maxDepth + 2);
    for (let s = 1; s < states; s++) start[depth[s]! + 1]!++;
    for (let d = 1; d < start.length; d++) start[d]! += start[d - 1]!;
    const renumbered = new Int32Array(states);
    for (let s = 1; s < states; s++) renumbered[s] = 1 + start[depth[s]!]!++;
    const edges = new EdgeTable(states);
    const up = new Int32Array(states);
    const upVia = new Int32Array(states);
    const endsOf: (number[] | undefined)[] = new Array(states).fill(undefined);
    for (let s = 1; s < states; s++) {
      const n = renumbered[s]!;
      up[n] = renumbered[parent[s]!]!;
      upVia[n] = via[s]!;
      endsOf[n] = ends[s];
      edges.set(up[n]! * classes + via[s]!, n);
    }
    const fail = new Int32Array(states);
    const dictLink = new Int32Array(states).fill(-1);
    const reports = new Uint8Array(states);
    for (let state = 1; state < states; state++) {
      if (up[state] !== 0) {
        const cls = upVia[state]!;
        let f = fail[up[state]!]!;
        let next = edges.get(f * classes + cls);
        while (next === -1 && f !== 0) {
          f = fail[f]!;
          next = edges.get(f * classes + cls);
        }
        fail[state] = next === -1 ? 0 : next;
      }
      const target = fail[state]!;
      dictLink[state] = endsOf[target] ? target : dictLink[target]!;
      reports[state] = endsOf[state] || dictLink[state] !== -1 ? 1 : 0;
    }
    this.delta = new Int32Array(Math.min(states, Math.max(1, Math.floor(DENSE_CELLS / classes))) * classes);
    this.trie = edges;
    this.fail = fail;
    this.reports = reports;
    this.ends = endsOf;
    this.dictLink = dictLink;
  }

  /**
   * Calls `hit` with the id of every pattern occurring in `text` (once per occurrence) and the
   * index just past the occurrence's end.
   */
  search(text: string, hit: (patternId: number, end: number) => void): void {
    const { asciiClass, delta } = this;
    const cached = delta.length;
    let row = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const slot = row + (c < 128 ? asciiClass[c]! : this.wideClass(c));
      const entry = ((slot < cached ? delta[slot]! : 0) || this.transition(slot)) - 1;
      row = entry >>> 1;
      if (entry & 1) this.report(row / this.classes, i + 1, hit);
    }
  }

  /** The class of a code unit above ASCII. */
  private wideClass(c: number): number {
    const offset = this.wideOffset[c]!;
    if (offset === INTO_ASCII) return this.asciiClass[this.fold![c]!]!;
    return this.wideBase < 0 ? 0 : this.wideBase + offset;
  }

  /**
   * The encoded entry of a transition not taken before: a trie edge, else the failure state's.
   * Kept in the table for the shallow states it covers.
   */
  private transition(slot: number): number {
    const classes = this.classes;
    const cls = slot % classes;
    const state = (slot - cls) / classes;
    let next = this.trie.get(slot);
    if (next === -1) {
      if (state === 0) next = 0;
      else {
        const failSlot = this.fail[state]! * classes + cls;
        const failEntry =
          (failSlot < this.delta.length ? this.delta[failSlot]! : 0) || this.transition(failSlot);
        next = ((failEntry - 1) >>> 1) / classes;
      }
    }
    const entry = 1 + (((next * classes) << 1) | this.reports[next]!);
    if (slot < this.delta.length) this.delta[slot] = entry;
    return entry;
  }

  private report(state: number, end: number, hit: (patternId: number, end: number) => void): void {
    const own = this.ends[state];
    if (own) for (const id of own) hit(id, end);
    for (let d = this.dictLink[state]!; d !== -1; d = this.dictLink[d]!)
      for (const id of this.ends[d]!) hit(id, end);
  }
}
