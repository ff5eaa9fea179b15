import { VigilError } from '../core/index.js';
import type { IndicatorInput } from './ioc-store.js';
import { type IocType, normalizeIoc } from './ioc-values.js';

/** Where loaded indicators go, and the entries that could not be taken. */
export interface IocSink {
  add(indicator: IndicatorInput): void;
  problem(error: VigilError): void;
}

/** STIX object paths Vigil matches, as indicator types (hash names as STIX writes them, any case). */
const PATHS: Record<string, IocType> = {
  'ipv4-addr:value': 'ipv4',
  'ipv6-addr:value': 'ipv6',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'email-addr:value': 'email',
  'email-message:from_ref.value': 'email',
  'email-message:sender_ref.value': 'email',
  'file:hashes.md5': 'md5',
  'file:hashes.sha1': 'sha1',
  'file:hashes.sha-1': 'sha1',
  'file:hashes.sha256': 'sha256',
  'file:hashes.sha-256': 'sha256',
  'file:hashes.sha512': 'sha512',
  'file:hashes.sha-512': 'sha512',
  'file:name': 'filename',
  'user-account:account_login': 'account',
  'user-account:user_id': 'account',
};

const COMPARISON =
  /([a-z0-9-]+:[a-z0-9_.'-]+)\s*(=|!=|<>|>=|<=|>|<|\bLIKE\b|\bMATCHES\b|\bISSUBSET\b|\bISSUPERSET\b|\bIN\b)\s*('(?:[^'\\]|\\.)*'|\([^)]*\)|[\w.:-]+)/gi;

export interface PatternValue {
  type: IocType;
  value: string;
}

/**
 * The values a STIX pattern matches, when it is one Vigil can match exactly: comparisons with `=`
 * (and `ISSUBSET` a network, for addresses) of the paths above, joined by OR inside and between
 * observations. A pattern that needs AND, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START/STOP) or
 * NOT cannot be cut into single values without matching more than it says: it is refused whole.
 * In an OR, a comparison Vigil cannot match is refused alone (the others still stand).
 */
export function parsePattern(pattern: string): { values: PatternValue[]; refused: string[] } {
  const outside = pattern.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  const joiner = /\b(AND|FOLLOWEDBY|WITHIN|REPEATS|START|STOP|NOT)\b/.exec(outside);
  if (joiner)
    return {
      values: [],
      refused: [`the pattern uses ${joiner[1]}: only comparisons joined by OR are matched`],
    };
  const values: PatternValue[] = [];
  const refused: string[] = [];
  const rest = pattern.replace(COMPARISON, (whole, rawPath: string, operator: string, rawValue: string) => {
    const path = rawPath.toLowerCase().replace(/'/g, '');
    const type = PATHS[path];
    const op = operator.toUpperCase();
    if (!type) refused.push(`${rawPath}: not a property Vigil matches`);
    else if (!rawValue.startsWith("'")) refused.push(`${whole}: the value is not a string`);
    else if (op !== '=' && !(op === 'ISSUBSET' && (type === 'ipv4' || type === 'ipv6')))
      refused.push(`${whole}: the ${op} operator is not matched`);
    else values.push({ type, value: rawValue.slice(1, -1).replace(/\\(['\\])/g, '$1') });
    return ' ';
  });
  if (/[^\s[\]()]/.test(rest.replace(/\bOR\b/g, ' ')))
    return { values: [], refused: ['the pattern is not a list of comparisons joined by OR'] };
  return { values, refused };
}

function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The indicators of STIX 2.1 objects (a bundle's, a TAXII collection's): each `indicator` object
 * whose pattern is STIX and matchable, with its dates (valid_from as first seen, the last
 * modification as last seen, valid_until as the end) and confidence. Revoked indicators are left
 * out; every pattern or value that cannot be used is reported with its place.
 */
export function stixIndicators(
  objects: readonly unknown[],
  origin: { file: string; field: string },
  sink: IocSink,
): number {
  let added = 0;
  objects.forEach((object, index) => {
    if (typeof object !== 'object' || object === null) return;
    const o = object as Record<string, unknown>;
    if (o.type !== 'indicator' || o.revoked === true) return;
    const field = `${origin.field}[${index}]`;
    const refuse = (message: string, at = 'pattern') =>
      sink.problem(
        new VigilError('IOC_UNSUPPORTED', `indicator ${String(o.id ?? index)}: ${message}`, {
          file: origin.file,
          field: `${field}.${at}`,
        }),
      );
    if (typeof o.pattern !== 'string') {
      refuse('has no pattern');
      return;
    }
    if (o.pattern_type !== undefined && o.pattern_type !== 'stix') {
      refuse(`pattern type '${String(o.pattern_type)}' is not matched (only 'stix')`, 'pattern_type');
      return;
    }
    const { values, refused } = parsePattern(o.pattern);
    for (const reason of refused) refuse(reason);
    const validFrom = time(o.valid_from);
    const modified = time(o.modified);
    const confidence = typeof o.confidence === 'number' ? o.confidence : undefined;
    const name = typeof o.name === 'string' && o.name ? `"${o.name}"` : String(o.id ?? `#${index}`);
    for (const { type, value } of values) {
      const normal = normalizeIoc(type, value);
      if ('problem' in normal) {
        refuse(`'${value}': ${normal.problem}`);
        continue;
      }
      added++;
      sink.add({
        type,
        value: normal.value,
        source: `${origin.file}: indicator ${name}`,
        firstSeen: validFrom,
        lastSeen:
          modified !== undefined && (validFrom === undefined || modified > validFrom) ? modified : validFrom,
        validUntil: time(o.valid_until),
        confidence,
      });
    }
  });
  return added;
}
