import { jsonObjectSpan } from './json-check.js';

/**
 * Events sent to the service over HTTP, taken apart line by line: NDJSON (one JSON object per
 * line) or one JSON array of objects. Any object `vigil hunt` reads is an event (the nested
 * `evtx_dump` form, flat JSON, Winlogbeat/ECS); normalising it is left to detection, which reads
 * it back from the event log, so the log keeps events exactly as they were sent.
 */
export interface ParsedBody {
  /**
   * Each accepted event as one line of JSON: for NDJSON, its bytes in the body (views, dropped
   * with the request once the log has copied them), for a JSON array, text.
   */
  events: (string | Uint8Array)[];
  /** Lines (for an array: elements, counted from 1) that are not events, with why. */
  rejected: { line: number; error: string }[];
}

export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly what: 'body' | 'line',
    readonly line?: number,
  ) {
    super(
      what === 'body'
        ? `the request body is larger than the limit of ${limit} bytes`
        : `line ${line} is longer than the limit of ${limit} bytes; split the event or raise limits.line_bytes`,
    );
  }
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}

/**
 * NDJSON: blank lines are skipped, a line that is not a JSON object is rejected with its number.
 * A line is checked on its bytes (jsonObjectSpan) and kept as those bytes, neither decoded nor
 * parsed: detection decodes and parses it once, when it reads it from the log.
 */
export function parseNdjson(body: Buffer, lineLimit: number): ParsedBody {
  const out: ParsedBody = { events: [], rejected: [] };
  let start = 0;
  let line = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    line++;
    const lineStart = start;
    start = end + 1;
    if (end > 0 && body[end - 1] === 0x0d) end--;
    if (end - lineStart > lineLimit) throw new BodyTooLarge(lineLimit, 'line', line);
    const span = jsonObjectSpan(body, lineStart, end);
    if (span) {
      // Kept as sent: a line of valid JSON holds no raw newline, so it stays one line in the log.
      out.events.push(body.subarray(span.start, span.end));
      continue;
    }
    const event = parsedLine(body.toString('utf8', lineStart, end).trim());
    if (typeof event === 'string') out.events.push(event);
    else if (event) out.rejected.push({ line, error: event.error });
  }
  return out;
}

/**
 * A line the byte check was not sure of, decided by JSON.parse: the event text, a rejection, or
 * undefined for a blank line.
 */
function parsedLine(text: string): string | { error: string } | undefined {
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: `an event must be a JSON object, not ${describeValue(value)}` };
  return text;
}

/** A JSON array of events (or one object): elements that are not objects are rejected by position. */
export function parseJsonBody(body: string, lineLimit: number): ParsedBody {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { events: [], rejected: [{ line: 1, error: `not valid JSON: ${(error as Error).message}` }] };
  }
  const items = Array.isArray(value) ? value : [value];
  const out: ParsedBody = { events: [], rejected: [] };
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      out.rejected.push({ line: i + 1, error: `an event must be a JSON object, not ${describeValue(item)}` });
      return;
    }
    const text = JSON.stringify(item);
    if (Buffer.byteLength(text) > lineLimit) throw new BodyTooLarge(lineLimit, 'line', i + 1);
    out.events.push(text);
  });
  return out;
}
