/**
 * An indicator as the matcher takes it (intel's Indicator has this shape). Values are in normal
 * form: lower case but for URL paths, networks as `address/bits`.
 */
export interface WatchedIndicator {
  type: string;
  value: string;
  source: string;
  /** 0-100: what a match is worth (decayed, warning-checked). */
  confidence: number;
  firstSeen?: number;
  lastSeen?: number;
  expires?: number;
  note?: string;
}

/**
 * Indicators packed to cross threads and stay out of the garbage collector's way: a million of
 * them as a million objects cost seconds to copy to each worker and make every full collection
 * walk them. Here they are a few typed arrays and one string of values; sources and notes, few
 * and shared, are listed once.
 */
export interface IndicatorTable {
  count: number;
  /** Type names; `type[i]` indexes it. */
  types: string[];
  type: Uint8Array;
  /** Every value, one after the other; value i spans `offsets[i]` to `offsets[i + 1]`. */
  values: string;
  offsets: Uint32Array;
  sources: string[];
  sourceOf: Uint32Array;
  confidence: Uint8Array;
  /** Milliseconds since the epoch; NaN when not known. */
  firstSeen: Float64Array;
  lastSeen: Float64Array;
  expires: Float64Array;
  notes: string[];
  /** Index into `notes`, or -1. */
  noteOf: Int32Array;
}

/** Packs indicators into a table. */
export function indicatorTable(indicators: readonly WatchedIndicator[]): IndicatorTable {
  const n = indicators.length;
  const types: string[] = [];
  const typeIndex = new Map<string, number>();
  const sources: string[] = [];
  const sourceIndex = new Map<string, number>();
  const notes: string[] = [];
  const noteIndex = new Map<string, number>();
  const table: IndicatorTable = {
    count: n,
    types,
    type: new Uint8Array(n),
    values: '',
    offsets: new Uint32Array(n + 1),
    sources,
    sourceOf: new Uint32Array(n),
    confidence: new Uint8Array(n),
    firstSeen: new Float64Array(n),
    lastSeen: new Float64Array(n),
    expires: new Float64Array(n),
    notes,
    noteOf: new Int32Array(n),
  };
  const intern = (map: Map<string, number>, list: string[], text: string) => {
    let index = map.get(text);
    if (index === undefined) {
      index = list.push(text) - 1;
      map.set(text, index);
    }
    return index;
  };
  const values: string[] = new Array(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const indicator = indicators[i]!;
    const type = intern(typeIndex, types, indicator.type);
    if (type > 255) throw new RangeError('more than 256 indicator types');
    table.type[i] = type;
    values[i] = indicator.value;
    table.offsets[i] = offset;
    offset += indicator.value.length;
    table.sourceOf[i] = intern(sourceIndex, sources, indicator.source);
    table.confidence[i] = Math.max(0, Math.min(100, Math.round(indicator.confidence)));
    table.firstSeen[i] = indicator.firstSeen ?? Number.NaN;
    table.lastSeen[i] = indicator.lastSeen ?? Number.NaN;
    table.expires[i] = indicator.expires ?? Number.NaN;
    table.noteOf[i] = indicator.note ? intern(noteIndex, notes, indicator.note) : -1;
  }
  table.offsets[n] = offset;
  table.values = values.join('');
  return table;
}

/** Indicator i of a table, as an object again (for a match, where its context is reported). */
export function indicatorAt(table: IndicatorTable, i: number): WatchedIndicator {
  const time = (array: Float64Array) => (Number.isNaN(array[i]!) ? undefined : array[i]!);
  const firstSeen = time(table.firstSeen);
  const lastSeen = time(table.lastSeen);
  const expires = time(table.expires);
  const note = table.noteOf[i]! >= 0 ? table.notes[table.noteOf[i]!] : undefined;
  return {
    type: table.types[table.type[i]!]!,
    value: tableValue(table, i),
    source: table.sources[table.sourceOf[i]!]!,
    confidence: table.confidence[i]!,
    ...(firstSeen === undefined ? {} : { firstSeen }),
    ...(lastSeen === undefined ? {} : { lastSeen }),
    ...(expires === undefined ? {} : { expires }),
    ...(note === undefined ? {} : { note }),
  };
}

export function tableValue(table: IndicatorTable, i: number): string {
  return table.values.slice(table.offsets[i]!, table.offsets[i + 1]!);
}

/**
 * Keys to ids by open addressing, the keys being ranges of one string (the table's values, or
 * keys joined for the purpose): as fast as a Map for lookups, without an object per key. Keys are
 * compared ignoring the case of ASCII letters (values are kept in lower case but for URL paths, and
 * the text looked up is lowered). Of two entries with one key, one id is kept: the first, or the
 * one `prefer` chooses.
 */
export class TextIndex {
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly ids: Int32Array;
  /** Slot -> entry + 1 (0: empty). */
  private readonly slots: Int32Array;
  private readonly mask: number;
  readonly size: number;

  constructor(
    private readonly source: string,
    ranges: {
      count: number;
      start: (i: number) => number;
      end: (i: number) => number;
      id: (i: number) => number;
    },
    prefer?: (a: number, b: number) => boolean,
  ) {
    let bits = 4;
    while (1 << bits < ranges.count * 2) bits++;
    this.slots = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.starts = new Int32Array(ranges.count);
    this.ends = new Int32Array(ranges.count);
    this.ids = new Int32Array(ranges.count);
    let size = 0;
    for (let i = 0; i < ranges.count; i++) {
      const start = ranges.start(i);
      const end = ranges.end(i);
      const id = ranges.id(i);
      let slot = hashText(source, start, end) & this.mask;
      let entry = this.slots[slot]! - 1;
      while (entry >= 0 && !this.same(entry, source, start, end)) {
        slot = (slot + 1) & this.mask;
        entry = this.slots[slot]! - 1;
      }
      if (entry >= 0) {
        if (prefer?.(id, this.ids[entry]!)) this.ids[entry] = id;
        continue;
      }
      this.starts[size] = start;
      this.ends[size] = end;
      this.ids[size] = id;
      this.slots[slot] = ++size;
    }
    this.size = size;
  }

  /** An index over keys given as strings (joined into a source of its own). */
  static of(
    keys: readonly string[],
    ids: readonly number[],
    prefer?: (a: number, b: number) => boolean,
  ): TextIndex {
    const starts: number[] = [];
    let offset = 0;
    for (const key of keys) {
      starts.push(offset);
      offset += key.length;
    }
    starts.push(offset);
    return new TextIndex(
      keys.join(''),
      { count: keys.length, start: (i) => starts[i]!, end: (i) => starts[i + 1]!, id: (i) => ids[i]! },
      prefer,
    );
  }

  private same(entry: number, text: string, start: number, end: number): boolean {
    const from = this.starts[entry]!;
    if (this.ends[entry]! - from !== end - start) return false;
    for (let k = 0; k < end - start; k++)
      if (foldAscii(this.source.charCodeAt(from + k)) !== foldAscii(text.charCodeAt(start + k))) return false;
    return true;
  }

  /** The id of `text.slice(start, end)`, or -1. */
  get(text: string, start = 0, end = text.length): number {
    if (this.size === 0) return -1;
    let slot = hashText(text, start, end) & this.mask;
    for (;;) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      if (this.same(entry, text, start, end)) return this.ids[entry]!;
      slot = (slot + 1) & this.mask;
    }
  }
}

function foldAscii(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** FNV-1a over UTF-16 code units, ASCII letters folded to lower case. */
function hashText(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ foldAscii(text.charCodeAt(i)), 0x01000193);
  return hash >>> 0;
}

/** 32-bit numbers to ids by open addressing (IPv4 addresses and networks). */
export class NumberIndex {
  private readonly keys: Uint32Array;
  /** Entry id + 1 (0: empty). */
  private readonly ids: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  readonly size: number;

  /** `keys[i]` stands for `ids[i]`. */
  constructor(keys: readonly number[], ids: readonly number[], prefer?: (a: number, b: number) => boolean) {
    let bits = 4;
    while (1 << bits < keys.length * 2) bits++;
    this.keys = new Uint32Array(1 << bits);
    this.ids = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.size = keys.length;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const id = ids[i]!;
      let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
      while (this.ids[slot] !== 0 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
      if (this.ids[slot] !== 0) {
        if (prefer?.(id, this.ids[slot]! - 1)) this.ids[slot] = id + 1;
        continue;
      }
      this.keys[slot] = key;
      this.ids[slot] = id + 1;
    }
  }

  get(key: number): number {
    if (this.size === 0) return -1;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const id = this.ids[slot]!;
      if (id === 0) return -1;
      if (this.keys[slot] === key) return id - 1;
      slot = (slot + 1) & this.mask;
    }
  }
}
