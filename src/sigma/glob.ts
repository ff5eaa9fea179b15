import { foldCase } from '../core/index.js';
import { ANY, type CharSet, type Glob, ONE } from './values.js';

/** A test on text that is already in the case the pattern expects (lower-cased unless cased). */
export type TextTest = (text: string) => boolean;

type Element = string | typeof ONE | CharSet;

interface Segment {
  elements: Element[];
  length: number;
  /** The longest literal run inside the segment and its offset: what `indexOf` looks for. */
  anchor: string | undefined;
  anchorOffset: number;
}

function lowerGlob(glob: Glob): Glob {
  return glob.map((part) => {
    if (typeof part === 'string') return foldCase(part);
    if (typeof part === 'object') return { chars: foldCase(part.chars) };
    return part;
  });
}

function segment(elements: Element[]): Segment {
  let length = 0;
  let anchor: string | undefined;
  let anchorOffset = 0;
  for (const element of elements) {
    if (typeof element === 'string') {
      if (anchor === undefined || element.length > anchor.length) {
        anchor = element;
        anchorOffset = length;
      }
      length += element.length;
    } else {
      length += 1;
    }
  }
  return { elements, length, anchor, anchorOffset };
}

function matchAt(seg: Segment, text: string, position: number): boolean {
  if (position + seg.length > text.length) return false;
  let pos = position;
  for (const element of seg.elements) {
    if (typeof element === 'string') {
      if (!text.startsWith(element, pos)) return false;
      pos += element.length;
    } else {
      if (element !== ONE && !element.chars.includes(text[pos]!)) return false;
      pos += 1;
    }
  }
  return true;
}

/** Leftmost start at or after `from` where the segment matches, or -1. */
function find(seg: Segment, text: string, from: number): number {
  if (seg.anchor === undefined) {
    for (let start = from; start + seg.length <= text.length; start++)
      if (matchAt(seg, text, start)) return start;
    return -1;
  }
  let at = text.indexOf(seg.anchor, from + seg.anchorOffset);
  while (at >= 0) {
    const start = at - seg.anchorOffset;
    if (matchAt(seg, text, start)) return start;
    at = text.indexOf(seg.anchor, at + 1);
  }
  return -1;
}

/**
 * A Sigma string as a test. Plain shapes become one string operation (`===`, `startsWith`,
 * `endsWith`, `includes`); others a left-to-right scan where each `*` takes the leftmost next fit,
 * which is exact for `*`-separated fixed-length segments and never backtracks.
 */
export function globTest(glob: Glob, cased: boolean): TextTest {
  const parts = cased ? glob : lowerGlob(glob);
  const startsAny = parts[0] === ANY;
  const endsAny = parts.length > 0 && parts[parts.length - 1] === ANY;
  const segments: Segment[] = [];
  let current: Element[] = [];
  for (const part of parts) {
    if (part === ANY) {
      if (current.length) segments.push(segment(current));
      current = [];
    } else {
      current.push(part);
    }
  }
  if (current.length) segments.push(segment(current));

  if (segments.length === 0) return parts.length === 0 ? (text) => text === '' : () => true;
  const only = segments.length === 1 ? segments[0]! : undefined;
  if (only && only.elements.length === 1 && typeof only.elements[0] === 'string') {
    const literal = only.elements[0];
    if (startsAny && endsAny) return (text) => text.includes(literal);
    if (startsAny) return (text) => text.endsWith(literal);
    if (endsAny) return (text) => text.startsWith(literal);
    return (text) => text === literal;
  }
  if (only && !startsAny && !endsAny) return (text) => text.length === only.length && matchAt(only, text, 0);

  const first = startsAny ? undefined : segments[0];
  const last = endsAny ? undefined : segments[segments.length - 1];
  const middle = segments.slice(first ? 1 : 0, last ? segments.length - 1 : segments.length);
  return (text) => {
    let pos = 0;
    if (first) {
      if (!matchAt(first, text, 0)) return false;
      pos = first.length;
    }
    for (const seg of middle) {
      const at = find(seg, text, pos);
      if (at < 0) return false;
      pos = at + seg.length;
    }
    if (last) {
      const start = text.length - last.length;
      return start >= pos && matchAt(last, text, start);
    }
    return true;
  };
}
