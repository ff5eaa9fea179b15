/**
 * Verifies Vigil's EVTX reader against an independent parser: libevtx's `evtxexport` (C, Debian
 * package libevtx-utils). For every file: the same number of records, and per record the same
 * EventID, timestamp, channel, computer and EventData/UserData values.
 *
 * The two write some values differently without disagreeing on them, so values are compared in
 * a normal form: GUIDs without braces and in upper case, hex numbers by value (libevtx pads them),
 * timestamps to the microsecond (libevtx writes 100 ns), text without trailing whitespace (as
 * evtx_dump and SigmaHQ's JSON write it, and Vigil with them), and an element that libevtx leaves
 * out when its optional value is empty equals an empty value.
 *
 *   npm run verify:evtx [-- DIR] [-- --verbose]
 * Last line: {"files":N,"records":N,"differences":N}
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { contentHelp, locateContent } from '../src/content/index.js';
import { collectFiles } from '../src/core/index.js';
import type { XmlElement } from '../src/logs/evtx/binxml.js';
import { valueText } from '../src/logs/evtx/binxml.js';
import { type EvtxRecord, parseChunk, readEvtxChunks } from '../src/logs/index.js';

const run = promisify(execFile);

/** What is compared of one record. */
interface Comparable {
  eventId: string;
  time: string;
  channel: string;
  computer: string;
  /** EventData/UserData items in order: `Name=value` for named ones, the value alone otherwise. */
  data: string[];
}

interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

/** A small XML reader for evtxexport's output: elements, attributes, text. */
function parseXml(xml: string): XmlNode[] {
  const roots: XmlNode[] = [];
  const stack: XmlNode[] = [];
  const tag = /<(\/?)([\w:.-]+)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|<\?[^>]*\?>/g;
  let last = 0;
  for (let match = tag.exec(xml); match; match = tag.exec(xml)) {
    const text = xml.slice(last, match.index);
    if (stack.length) stack[stack.length - 1]!.text += text;
    last = tag.lastIndex;
    if (!match[2]) continue; // processing instruction
    const [, closing, name, attributeText, selfClosing] = match;
    if (closing) {
      stack.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of attributeText!.matchAll(/([\w:.-]+)="([^"]*)"/g)) attributes[a[1]!] = unescapeXml(a[2]!);
    const node: XmlNode = { name: name!, attributes, children: [], text: '' };
    if (stack.length) stack[stack.length - 1]!.children.push(node);
    else roots.push(node);
    if (!selfClosing) stack.push(node);
  }
  return roots;
}

function normalize(text: string): string {
  let value = text.replace(/[\s\u0000]+$/, '');
  if (/^\{[0-9a-fA-F-]{36}\}$/.test(value)) value = value.slice(1, -1);
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value))
    return value.toUpperCase();
  if (/^0x[0-9a-fA-F]+$/.test(value)) return `0x${BigInt(value).toString(16)}`;
  const time = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (time) return `${time[1]}.${(time[2] ?? '').padEnd(9, '0').slice(0, 6)}Z`;
  return value;
}

function fromLibevtx(event: XmlNode): Comparable {
  const child = (node: XmlNode | undefined, name: string) => node?.children.find((c) => c.name === name);
  const system = child(event, 'System');
  const text = (node: XmlNode | undefined) => normalize(unescapeXml(node?.text ?? ''));
  const data: string[] = [];
  for (const section of ['EventData', 'UserData']) {
    const leaves = (node: XmlNode, prefix: string): void => {
      if (node.children.length === 0) {
        const name = node.attributes.Name;
        data.push(name !== undefined ? `${name}=${text(node)}` : `${prefix}${text(node)}`);
        return;
      }
      for (const c of node.children) leaves(c, section === 'UserData' ? `${c.name}=` : '');
    };
    const found = child(event, section);
    if (found) for (const c of found.children) leaves(c, section === 'UserData' ? `${c.name}=` : '');
  }
  return {
    eventId: text(child(system, 'EventID')),
    time: normalize(child(system, 'TimeCreated')?.attributes.SystemTime ?? ''),
    channel: text(child(system, 'Channel')),
    computer: text(child(system, 'Computer')),
    data,
  };
}

function fromVigil(record: EvtxRecord): Comparable {
  const child = (node: XmlElement | undefined, name: string) =>
    node?.children.find(
      (c): c is XmlElement => typeof c === 'object' && c !== null && 'children' in c && c.name === name,
    );
  const text = (node: XmlElement | undefined) =>
    normalize(
      (node?.children ?? [])
        .filter((c) => !(typeof c === 'object' && c !== null && 'children' in c))
        .map((c) => valueText(c as Parameters<typeof valueText>[0]))
        .join(''),
    );
  const system = child(record.event, 'System');
  const data: string[] = [];
  for (const section of ['EventData', 'UserData']) {
    const leaves = (node: XmlElement, prefix: string): void => {
      const elements = node.children.filter(
        (c): c is XmlElement => typeof c === 'object' && c !== null && 'children' in c,
      );
      if (elements.length === 0) {
        const name = node.attributes.find(([n]) => n === 'Name');
        data.push(name ? `${valueText(name[1])}=${text(node)}` : `${prefix}${text(node)}`);
        return;
      }
      for (const c of elements) leaves(c, section === 'UserData' ? `${c.name}=` : '');
    };
    const found = child(record.event, section);
    if (found) {
      for (const c of found.children) {
        if (typeof c === 'object' && c !== null && 'children' in c)
          leaves(c, section === 'UserData' ? `${c.name}=` : '');
      }
    }
  }
  const timeCreated = child(system, 'TimeCreated')?.attributes.find(([n]) => n === 'SystemTime');
  return {
    eventId: text(child(system, 'EventID')),
    time: normalize(timeCreated ? valueText(timeCreated[1]) : ''),
    channel: text(child(system, 'Channel')),
    computer: text(child(system, 'Computer')),
    data,
  };
}

/** Differences between the two readings of one record, ignoring values libevtx leaves out when empty. */
function compare(ours: Comparable, theirs: Comparable): string[] {
  const out: string[] = [];
  for (const key of ['eventId', 'time', 'channel', 'computer'] as const) {
    if (ours[key] !== theirs[key])
      out.push(`${key}: vigil ${JSON.stringify(ours[key])}, libevtx ${JSON.stringify(theirs[key])}`);
  }
  const meaningful = (items: string[]) =>
    items.filter((item) => !/^(\w+=)?$/.test(item) && item !== 'Binary=');
  const a = meaningful(ours.data);
  const b = meaningful(theirs.data);
  if (a.join('\u0001') !== b.join('\u0001')) {
    const i = a.findIndex((item, index) => item !== b[index]);
    const at = i < 0 ? a.length : i;
    out.push(
      `data item ${at + 1}: vigil ${JSON.stringify(a[at] ?? null)}, libevtx ${JSON.stringify(b[at] ?? null)}`,
    );
  }
  return out;
}

export interface VerifyResult {
  files: number;
  records: number;
  differences: number;
  /** One line per difference: file, record and what differs. */
  details: string[];
}

export async function verifyEvtx(dir: string, log: (line: string) => void = () => {}): Promise<VerifyResult> {
  const { files } = await collectFiles([dir], ['.evtx']);
  const result: VerifyResult = { files: files.length, records: 0, differences: 0, details: [] };
  for (const file of files) {
    const { stdout } = await run('evtxexport', ['-f', 'xml', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
    const theirs = parseXml(stdout)
      .filter((node) => node.name === 'Event')
      .map(fromLibevtx);
    const ours: Comparable[] = [];
    for await (const { index, buf } of readEvtxChunks(file, {
      onError: (e) => log(`vigil: ${e.describe()}`),
    })) {
      for (const record of parseChunk(buf, index, file, (e) => log(`vigil: ${e.describe()}`)))
        ours.push(fromVigil(record));
    }
    result.records += ours.length;
    if (ours.length !== theirs.length) {
      result.differences++;
      result.details.push(`${file}: vigil read ${ours.length} records, libevtx ${theirs.length}`);
    }
    for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
      const found = compare(ours[i]!, theirs[i]!);
      if (found.length) {
        result.differences++;
        result.details.push(
          `${file}: record ${i + 1} (EventRecordID ${ours[i]!.eventId}): ${found.join('; ')}`,
        );
      }
    }
  }
  for (const line of result.details) log(line);
  return result;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  let dir = args[0];
  if (!dir) {
    const content = locateContent();
    if (!content) {
      console.error(contentHelp());
      process.exit(2);
    }
    dir = join(content.dir, '..', 'datasets', 'evtx-attack-samples');
  }
  try {
    await run('evtxexport', ['-h']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('evtxexport is not installed: apt-get install libevtx-utils');
      process.exit(2);
    }
  }
  const result = await verifyEvtx(dir, (line) => console.log(line));
  console.log(
    `compared with libevtx (evtxexport): ${result.files} files, ${result.records} records, ${result.differences} differences`,
  );
  console.log(
    JSON.stringify({ files: result.files, records: result.records, differences: result.differences }),
  );
  if (result.differences > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
