import { type FieldValue, foldCase, getField, type LogEvent } from '../core/index.js';

const EMPTY: readonly string[] = [];

/**
 * One event as the compiled matchers see it. Many rules test the same fields of the same event,
 * so the text forms of a field (as written and lower-cased) are computed once and cached here.
 */
export class MatchContext {
  private readonly lowerTexts = new Map<string, readonly string[]>();
  private readonly casedTexts = new Map<string, readonly string[]>();
  private allLower: readonly string[] | undefined;
  private allCased: readonly string[] | undefined;

  /**
   * Set by an engine that scanned the event for the literals of its rules: atom id -> the scan's
   * generation when the literal occurs. Rules compiled with atoms read it instead of searching.
   */
  atomStamp: Uint32Array | undefined;
  atomGeneration = 0;

  constructor(readonly event: LogEvent) {}

  atomHit(id: number): boolean {
    return this.atomStamp![id] === this.atomGeneration;
  }

  get(field: string): FieldValue | undefined {
    return getField(this.event, field);
  }

  /**
   * The field's scalar values as text (one for a scalar, each element for a list; none when the
   * field is absent or null), lower-cased unless `cased`.
   */
  texts(field: string, cased: boolean): readonly string[] {
    const cache = cased ? this.casedTexts : this.lowerTexts;
    let texts = cache.get(field);
    if (texts === undefined) {
      texts = toTexts(this.get(field), cased);
      cache.set(field, texts);
    }
    return texts;
  }

  /** Text of every value of the event, for keyword searches. */
  allTexts(cased: boolean): readonly string[] {
    if (cased) {
      this.allCased ??= collectAll(this.event.fields, true);
      return this.allCased;
    }
    this.allLower ??= collectAll(this.event.fields, false);
    return this.allLower;
  }
}

function scalarText(value: FieldValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function toTexts(value: FieldValue | undefined, cased: boolean): readonly string[] {
  if (value === undefined || value === null) return EMPTY;
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const element of value) {
      const text = scalarText(element);
      if (text !== undefined) out.push(cased ? text : foldCase(text));
    }
    return out;
  }
  const text = scalarText(value);
  if (text === undefined) return EMPTY;
  return [cased ? text : foldCase(text)];
}

/** Values nested deeper than this are not searched by keywords (a hostile record cannot exhaust the stack). */
const MAX_KEYWORD_DEPTH = 32;

function collectAll(fields: Readonly<Record<string, FieldValue>>, cased: boolean): string[] {
  const out: string[] = [];
  const add = (value: FieldValue, depth: number): void => {
    if (typeof value === 'string') out.push(cased ? value : foldCase(value));
    else if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
    else if (value === null || depth >= MAX_KEYWORD_DEPTH) return;
    else if (Array.isArray(value)) for (const element of value) add(element, depth + 1);
    else for (const key in value) add(value[key]!, depth + 1);
  };
  for (const key in fields) add(fields[key]!, 0);
  return out;
}
