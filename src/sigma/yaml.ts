import jsyaml from 'js-yaml';
import { type Document, isSeq, isMap as isYamlMap, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { SigmaError, type YamlPath } from './errors.js';

/** One YAML document of a rule file: its data and a way back from a path in it to a line. */
export interface SigmaDocument {
  data: unknown;
  /** 1-based position of the document among the file's non-empty documents. */
  index: number;
  /** Line where the document starts. */
  line: number;
  /** Line of the node at `path`, or of its closest existing parent. */
  lineOf(path: YamlPath): number;
}

export interface ParsedFile {
  documents: SigmaDocument[];
  errors: SigmaError[];
}

/** Limits that keep a hostile file from exhausting memory through YAML aliases. */
const YAML_OPTIONS = { maxAliasCount: 100, logLevel: 'error' } as const;

/**
 * Reads the YAML documents of a rule file. Most files are read by js-yaml (several times faster);
 * positions are only needed when something is wrong, and then the file is read again by `yaml`,
 * which knows the line of every node. Files with anchors or aliases, or that js-yaml refuses, are
 * read by `yaml` straight away (it bounds alias expansion, and words its errors with lines).
 */
export function parseSigmaYaml(text: string, file: string): ParsedFile {
  if (ALIAS_LIKE.test(text)) return parsePrecisely(text, file);
  let precise: ParsedFile | undefined;
  const preciseDocument = (index: number) => {
    precise ??= parsePrecisely(text, file);
    return precise.documents.find((doc) => doc.index === index);
  };
  const documents: SigmaDocument[] = [];
  try {
    for (const segment of documentSegments(text)) {
      const data = jsyaml.load(segment.text, { schema: jsyaml.CORE_SCHEMA });
      if (data === null || data === undefined) continue;
      documents.push({
        data,
        index: segment.index,
        line: segment.line,
        lineOf: (path) => preciseDocument(segment.index)?.lineOf(path) ?? segment.line,
      });
    }
  } catch {
    return parsePrecisely(text, file);
  }
  return { documents, errors: [] };
}

/** An anchor or alias (`&name`, `*name`) in a place a plain YAML value could start. */
const ALIAS_LIKE = /(?:^|[\s[{,:-])[&*][^\s,\]}]/m;

/**
 * The documents of a YAML stream holding something, split at `---` and `...` lines: their text,
 * their 1-based number among such documents, and the line where their content starts.
 */
function documentSegments(text: string): { text: string; index: number; line: number }[] {
  const lines = text.split('\n');
  const segments: { text: string; index: number; line: number }[] = [];
  let start = 0;
  const close = (end: number) => {
    const body = lines.slice(start, end);
    if (body.length && /^(---|\.\.\.)(\s|$)/.test(body[0]!)) body[0] = body[0]!.slice(3);
    const first = body.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (first >= 0)
      segments.push({ text: body.join('\n'), index: segments.length + 1, line: start + first + 1 });
  };
  for (let i = 0; i < lines.length; i++) {
    if (i > start && /^(---|\.\.\.)(\s|$)/.test(lines[i]!)) {
      close(i);
      start = i;
    } else if (i === 0 && /^(---|\.\.\.)(\s|$)/.test(lines[0]!)) {
      start = 0;
    }
  }
  close(lines.length);
  return segments;
}

export function parsePrecisely(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const documents: SigmaDocument[] = [];
  const errors: SigmaError[] = [];
  // The library's own console warnings are silenced: problems come back as located errors.
  const yamlDocs = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    logLevel: 'error',
  });
  if (!Array.isArray(yamlDocs)) {
    // An empty stream: nothing to load, nothing wrong.
    return { documents, errors };
  }
  let index = 0;
  for (const doc of yamlDocs) {
    const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        errors.push(
          new SigmaError('SIGMA_YAML', `YAML: ${error.message.split('\n')[0]}`, {
            file,
            line: lineOfOffset(error.pos[0]),
          }),
        );
      }
      continue;
    }
    const tag = doc.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED');
    if (tag) {
      // Sigma is plain YAML: a custom tag (`!include`, `!!python/...`) has no business in a rule.
      errors.push(
        new SigmaError('SIGMA_YAML', `YAML: ${tag.message.split('\n')[0]} (custom tags are not allowed)`, {
          file,
          line: lineOfOffset(tag.pos[0]),
        }),
      );
      continue;
    }
    if (doc.contents === null) continue; // empty document between `---` separators
    let data: unknown;
    try {
      data = doc.toJS(YAML_OPTIONS);
    } catch (error) {
      errors.push(
        new SigmaError('SIGMA_YAML', `YAML: ${(error as Error).message}`, {
          file,
          line: lineOfOffset(doc.contents.range?.[0] ?? 0),
        }),
      );
      continue;
    }
    if (data === null || data === undefined) continue; // a document with nothing in it (a trailing `---`)
    documents.push({
      data,
      index: ++index,
      line: lineOfOffset(doc.contents.range?.[0] ?? 0),
      lineOf: (path) => lineOfOffset(offsetOf(doc, path)),
    });
  }
  return { documents, errors };
}

function offsetOf(doc: Document, path: YamlPath): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const key of path) {
    if (isYamlMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(key));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function keyText(key: unknown): string {
  if (key && typeof key === 'object' && 'value' in key) return String((key as { value: unknown }).value);
  return String(key);
}

/**
 * Sigma 1 rule collections: `action: global` documents are merged into the rules after them,
 * `action: reset` forgets the global part, `action: repeat` builds on the previous rule. Merging
 * is deep for maps; scalars and lists of the global part win, as in pySigma.
 */
export function resolveCollectionActions(documents: SigmaDocument[]): SigmaDocument[] {
  const out: SigmaDocument[] = [];
  let global: SigmaDocument | undefined;
  let previous: SigmaDocument | undefined;
  for (const doc of documents) {
    const data = doc.data;
    if (!isPlainMap(data)) {
      out.push(doc);
      continue;
    }
    const { action, ...rest } = data;
    if (action === 'global') {
      global = { ...doc, data: rest };
      continue;
    }
    if (action === 'reset') {
      global = undefined;
      continue;
    }
    if (action === 'repeat') {
      if (!previous) {
        out.push({ ...doc, data: rest });
        continue;
      }
      const merged = combine({ ...doc, data: rest }, previous, deepMerge(previous.data, rest));
      out.push(merged);
      previous = merged;
      continue;
    }
    if (action !== undefined) {
      out.push(doc); // validation reports the unknown action
      continue;
    }
    if (global && !('correlation' in data) && !('filter' in data)) {
      const merged = combine(doc, global, deepMerge(data, global.data));
      out.push(merged);
      previous = merged;
    } else {
      out.push(doc);
      previous = doc;
    }
  }
  return out;
}

/** A merged document locates paths in its own text first, then in the part merged into it. */
function combine(own: SigmaDocument, other: SigmaDocument, data: unknown): SigmaDocument {
  return {
    data,
    index: own.index,
    line: own.line,
    lineOf: (path) => (hasPath(own.data, path) ? own.lineOf(path) : other.lineOf(path)),
  };
}

function hasPath(data: unknown, path: YamlPath): boolean {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string | number, unknown>)[key];
    if (node === undefined) return false;
  }
  return true;
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainMap(base) || !isPlainMap(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = key in out ? deepMerge(out[key], value) : value;
  }
  return out;
}
