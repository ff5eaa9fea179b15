import { VigilError } from '../core/index.js';
import type { IocSink } from './ioc-stix.js';
import { type IocType, inferIocType, isIocType, normalizeIoc } from './ioc-values.js';

/**
 * Readers of the indicator formats that are not STIX: plain lists, `vigil advisory parse` JSON,
 * MISP feeds (JSON events and CSV). Each gives what it can use to the sink and reports every entry
 * it cannot with its place (file and line, or file and field), then goes on.
 */

function problem(sink: IocSink, message: string, location: { file: string; line?: number; field?: string }) {
  sink.problem(new VigilError('IOC_INVALID', message, location));
}

function take(
  sink: IocSink,
  type: IocType,
  raw: string,
  rest: Omit<Parameters<IocSink['add']>[0], 'type' | 'value'>,
  where: { file: string; line?: number; field?: string },
): boolean {
  const normal = normalizeIoc(type, raw);
  if ('problem' in normal) {
    problem(sink, `'${raw}': ${normal.problem}`, where);
    return false;
  }
  sink.add({ type, value: normal.value, ...rest });
  return true;
}

/**
 * One value per line; `#` starts a comment (at the start of a line, or after a space: a URL's
 * fragment stays), and a comment after a value is kept as its note. A value's type is inferred
 * (address or network, hash by length, e-mail, URL, domain) unless the line names it first
 * (`account svc-backup`, `filename evil.exe`, `domain intranet-host.corp`). Defanged values are
 * refanged.
 */
export function readPlainList(text: string, file: string, sink: IocSink, source = file): number {
  let added = 0;
  text.split(/\r?\n/).forEach((full, index) => {
    const line = index + 1;
    const hash = full.search(/(?:^|\s)#/);
    const body = (hash < 0 ? full : full.slice(0, hash)).trim();
    const note =
      hash < 0
        ? undefined
        : full
            .slice(hash)
            .replace(/^\s*#\s*/, '')
            .trim() || undefined;
    if (!body) return;
    const words = body.split(/\s+/);
    let type: IocType | undefined;
    let value: string;
    if (words.length === 2 && isIocType(words[0]!.toLowerCase())) {
      type = words[0]!.toLowerCase() as IocType;
      value = words[1]!;
    } else if (words.length === 1) {
      value = words[0]!;
      type = inferIocType(value);
      if (!type) {
        problem(sink, `'${value}': cannot tell its type; write it first (e.g. "account ${value}")`, {
          file,
          line,
        });
        return;
      }
    } else {
      problem(sink, `'${body}': one value per line (or a type and a value)`, { file, line });
      return;
    }
    if (take(sink, type, value, { source, ...(note ? { note } : {}) }, { file, line })) added++;
  });
  return added;
}

const ADVISORY_TYPES: Record<string, IocType> = {
  ipv4: 'ipv4',
  ipv6: 'ipv6',
  domain: 'domain',
  url: 'url',
  email: 'email',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha512: 'sha512',
  filename: 'filename',
};

/** An advisory verdict's confidence as a 0-100 rating. */
const VERDICT_CONFIDENCE: Record<string, number> = { high: 90, medium: 60, low: 30 };

/**
 * The output of `vigil advisory parse --format json` (one advisory or an array of them): its
 * actionable indicators of the types Vigil matches, each dated by the advisory's publication and
 * rated by its verdict (which already weighed the warning lists). CVEs, paths and registry keys
 * are not matched against events; indicators set aside as not actionable are left out.
 */
export function readAdvisoryIndicators(data: unknown, file: string, sink: IocSink): number {
  let added = 0;
  const advisories = Array.isArray(data) ? data : [data];
  advisories.forEach((advisory, a) => {
    const prefix = Array.isArray(data) ? `[${a}].` : '';
    const record = advisory as {
      title?: unknown;
      source?: unknown;
      published?: unknown;
      indicators?: unknown;
    };
    if (!Array.isArray(record?.indicators)) {
      problem(sink, 'not the JSON of vigil advisory parse (no indicators list)', {
        file,
        field: `${prefix}indicators`,
      });
      return;
    }
    const published = typeof record.published === 'string' ? Date.parse(record.published) : Number.NaN;
    const seen = Number.isNaN(published) ? undefined : published;
    const title = typeof record.title === 'string' ? record.title : String(record.source ?? file);
    record.indicators.forEach((entry: unknown, i: number) => {
      const field = `${prefix}indicators[${i}]`;
      const indicator = entry as {
        type?: unknown;
        value?: unknown;
        actionable?: unknown;
        confidence?: unknown;
      };
      if (typeof indicator?.value !== 'string' || typeof indicator.type !== 'string') {
        problem(sink, 'an indicator needs a type and a value', { file, field });
        return;
      }
      if (indicator.actionable !== true) return;
      const type = ADVISORY_TYPES[indicator.type];
      if (!type) return;
      const ok = take(
        sink,
        type,
        indicator.value,
        {
          source: `advisory "${title}"`,
          firstSeen: seen,
          lastSeen: seen,
          confidence: VERDICT_CONFIDENCE[String(indicator.confidence)] ?? 60,
          judged: true,
        },
        { file, field: `${field}.value` },
      );
      if (ok) added++;
    });
  });
  return added;
}

/** MISP attribute types Vigil matches; a composite (`filename|md5`) names each part's type. */
const MISP_TYPES: Record<string, (IocType | 'ip')[]> = {
  'ip-src': ['ip'],
  'ip-dst': ['ip'],
  'ip-src|port': ['ip'],
  'ip-dst|port': ['ip'],
  'domain|ip': ['domain', 'ip'],
  domain: ['domain'],
  hostname: ['domain'],
  'hostname|port': ['domain'],
  url: ['url'],
  md5: ['md5'],
  sha1: ['sha1'],
  sha256: ['sha256'],
  sha512: ['sha512'],
  'filename|md5': ['filename', 'md5'],
  'filename|sha1': ['filename', 'sha1'],
  'filename|sha256': ['filename', 'sha256'],
  'filename|sha512': ['filename', 'sha512'],
  filename: ['filename'],
  'email-src': ['email'],
  'email-dst': ['email'],
  email: ['email'],
};

/** MISP threat levels (1 high … 4 undefined) as ratings. */
const THREAT_CONFIDENCE: Record<string, number> = { '1': 90, '2': 75, '3': 50 };

interface MispAttribute {
  type?: unknown;
  value?: unknown;
  to_ids?: unknown;
  deleted?: unknown;
  timestamp?: unknown;
  first_seen?: unknown;
  last_seen?: unknown;
  comment?: unknown;
}

function mispTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string' || !value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && /^(1|true|yes)$/i.test(value));
}

/**
 * One MISP attribute: those flagged for detection (`to_ids`) and of a type Vigil matches. Its
 * dates are its own first and last seen, else its timestamp, else the event's date.
 */
function mispAttribute(
  attribute: MispAttribute,
  context: { source: string; confidence?: number; date?: number },
  where: { file: string; line?: number; field?: string },
  sink: IocSink,
): number {
  if (typeof attribute.type !== 'string' || typeof attribute.value !== 'string') {
    problem(sink, 'an attribute needs a type and a value', where);
    return 0;
  }
  if (!truthy(attribute.to_ids) || truthy(attribute.deleted)) return 0;
  const mispType = attribute.type;
  const types = MISP_TYPES[mispType];
  if (!types) return 0;
  const parts = types.length > 1 ? attribute.value.split('|') : [attribute.value];
  const stamp = mispTime(attribute.timestamp);
  const lastSeen = mispTime(attribute.last_seen) ?? stamp ?? context.date;
  const firstSeen = mispTime(attribute.first_seen) ?? context.date ?? lastSeen;
  const note = typeof attribute.comment === 'string' && attribute.comment ? attribute.comment : undefined;
  let added = 0;
  types.forEach((kind, i) => {
    let raw = parts[i];
    if (raw === undefined) {
      problem(sink, `'${attribute.value}': a ${mispType} value has ${types.length} parts`, where);
      return;
    }
    if (kind === 'ip' && mispType.endsWith('|port')) raw = raw.replace(/\|\d*$/, '');
    const type: IocType = kind === 'ip' ? (raw.includes(':') ? 'ipv6' : 'ipv4') : kind;
    const rest = { source: context.source, firstSeen, lastSeen, confidence: context.confidence, note };
    if (take(sink, type, raw, rest, where)) added++;
  });
  return added;
}

/**
 * A MISP event as its JSON feed serves it (`{"Event": {…}}`, or the event itself): the attributes
 * of the event and of its objects.
 */
export function readMispEvent(data: unknown, file: string, sink: IocSink): number {
  const root = data as { Event?: unknown };
  const event = (root && typeof root === 'object' && 'Event' in root ? root.Event : data) as {
    info?: unknown;
    uuid?: unknown;
    date?: unknown;
    threat_level_id?: unknown;
    Attribute?: unknown;
    Object?: unknown;
  };
  const base = root && typeof root === 'object' && 'Event' in root ? 'Event.' : '';
  if (
    !event ||
    typeof event !== 'object' ||
    (!Array.isArray(event.Attribute) && !Array.isArray(event.Object))
  ) {
    problem(sink, 'not a MISP event (no Attribute or Object list)', { file, field: `${base}Attribute` });
    return 0;
  }
  const info = typeof event.info === 'string' ? event.info : String(event.uuid ?? 'event');
  const context = {
    source: `${file}: MISP event "${info}"`,
    confidence: THREAT_CONFIDENCE[String(event.threat_level_id)],
    date: mispTime(event.date),
  };
  let added = 0;
  const attributes = (list: unknown, field: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((attribute, i) => {
      added += mispAttribute(attribute as MispAttribute, context, { file, field: `${field}[${i}]` }, sink);
    });
  };
  attributes(event.Attribute, `${base}Attribute`);
  if (Array.isArray(event.Object)) {
    event.Object.forEach((object, o) => {
      attributes((object as { Attribute?: unknown })?.Attribute, `${base}Object[${o}].Attribute`);
    });
  }
  return added;
}

/**
 * MISP's CSV (its export and CSV feeds): a header naming at least `type` and `value`; `to_ids`,
 * `date` or `timestamp`, `first_seen`, `last_seen`, `comment` and `event_info` are read when there.
 */
export function readMispCsv(text: string, file: string, sink: IocSink): number {
  const rows = csvRows(text);
  const header = rows.shift();
  const names = header?.cells.map((cell) => cell.trim().toLowerCase()) ?? [];
  const column = (name: string) => names.indexOf(name);
  if (column('type') < 0 || column('value') < 0) {
    problem(sink, 'a MISP CSV needs a header with type and value columns', { file, line: 1 });
    return 0;
  }
  const cell = (cells: string[], name: string) => {
    const i = column(name);
    return i < 0 ? undefined : cells[i];
  };
  let added = 0;
  for (const { cells, line } of rows) {
    if (cells.length === 1 && cells[0] === '') continue;
    const toIds = cell(cells, 'to_ids');
    const info = cell(cells, 'event_info');
    added += mispAttribute(
      {
        type: cell(cells, 'type'),
        value: cell(cells, 'value'),
        to_ids: toIds === undefined ? true : toIds,
        timestamp: cell(cells, 'timestamp') || cell(cells, 'date'),
        first_seen: cell(cells, 'first_seen'),
        last_seen: cell(cells, 'last_seen'),
        comment: cell(cells, 'comment'),
      },
      { source: info ? `${file}: MISP event "${info}"` : file },
      { file, line },
      sink,
    );
  }
  return added;
}

/** RFC 4180 records with the line each starts on (a quoted cell may hold line breaks). */
function csvRows(text: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ cells, line: start });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else cell += c;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell);
    rows.push({ cells, line: start });
  }
  return rows;
}
