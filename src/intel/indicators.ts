import ipaddr from 'ipaddr.js';
import { parse as parseDomain } from 'tldts';
import { refang } from './refang.js';

export const INDICATOR_TYPES = [
  'ipv4',
  'ipv6',
  'domain',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'sha512',
  'cve',
  'filename',
  'path',
  'registry',
] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

export interface ExtractedIndicator {
  type: IndicatorType;
  /** Refanged and normalised: domains, hashes, and URLs' scheme and host in lower case. */
  value: string;
  /** The line of the (refanged) text it was found on, for a person to judge it. */
  context: string;
}

/**
 * File extensions that are also top-level domains. A bare `update.zip` or `setup.py` in a report
 * is a file; inside a URL or an e-mail address it is still read as a host.
 */
const FILE_LIKE_TLDS = new Set([
  'zip',
  'mov',
  'py',
  'sh',
  'pl',
  'md',
  'rs',
  'so',
  'ps',
  'cc',
  'cs',
  'go',
  'ml',
  'ts',
  'rb',
  'ai',
  'sc',
  'js',
]);

const FILE_EXTENSIONS =
  'exe|dll|sys|drv|ocx|cpl|scr|msi|msp|ps1|psm1|psd1|bat|cmd|vbs|vbe|js|jse|wsf|wsh|hta|lnk|url|iso|img|vhd|vhdx|zip|rar|7z|gz|tgz|tar|cab|jar|war|apk|elf|so|py|pyc|sh|pl|rb|php|asp|aspx|ashx|jsp|doc|docx|docm|dot|dotm|xls|xlsx|xlsm|xlsb|xll|ppt|pptx|pptm|pdf|rtf|one|chm|inf|reg|tmp|dat|bin|log|txt|csv|xml|json|ini|cfg|conf|db|sqlite|key|pem|pfx|crt|ovpn|kdbx|evtx|dmp';

const PATTERNS: { type: IndicatorType; pattern: RegExp }[] = [
  { type: 'url', pattern: /\b(?:https?|ftps?|sftp|wss?|smb):\/\/[^\s<>"'`\u201c\u201d\u2018\u2019|]+/gi },
  {
    type: 'email',
    pattern:
      /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]/g,
  },
  {
    type: 'registry',
    pattern:
      /\b(?:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC)(?::?\\[^\\\r\n"'<>|\u201c\u201d]*)+/g,
  },
  {
    type: 'path',
    pattern:
      /(?:\b[A-Za-z]:\\|\\\\[\w.$-]+\\|%[A-Za-z_()]+%\\)(?:[^\\\r\n"'<>|?*\u201c\u201d]*\\)*[^\\\s"'<>|?*\u201c\u201d]*/g,
  },
  { type: 'cve', pattern: /\bCVE[-\u2010-\u2014 ]?\d{4}[-\u2010-\u2014]\d{4,7}\b/gi },
  { type: 'sha512', pattern: /\b[0-9a-f]{128}\b/gi },
  { type: 'sha256', pattern: /\b[0-9a-f]{64}\b/gi },
  { type: 'sha1', pattern: /\b[0-9a-f]{40}\b/gi },
  { type: 'md5', pattern: /\b[0-9a-f]{32}\b/gi },
  {
    type: 'ipv6',
    pattern: /(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4})(?![\w:]|\.\d)/gi,
  },
  {
    type: 'ipv4',
    pattern:
      /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\/(?:3[0-2]|[12]?\d))?(?!\.?\d|[A-Za-z_])/g,
  },
  {
    type: 'domain',
    pattern:
      /(?<![\w.\\/-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9](?![\w-]|\.[a-z0-9])/gi,
  },
  {
    type: 'filename',
    // Hyphens only between word runs: a class that held them as well would let a long run of
    // hyphens split in exponentially many ways before failing.
    pattern: new RegExp(
      `(?<![\\w\\\\/%.$-])[\\w$]+(?:[.-][\\w$]+)*\\.(?:${FILE_EXTENSIONS})(?![\\w-]|\\.[a-z0-9])`,
      'gi',
    ),
  },
];

/** Every indicator in a text, refanged, each type and value once, in order of first appearance. */
export function extractIndicators(text: string): ExtractedIndicator[] {
  const clean = refang(text);
  // Spans already taken are blanked, so that a URL's host is not a domain again, a path's file
  // name not a file name again, and so on down the list.
  let work = clean;
  const found: { at: number; indicator: ExtractedIndicator }[] = [];
  const seen = new Set<string>();
  for (const { type, pattern } of PATTERNS) {
    pattern.lastIndex = 0;
    const blanks: [number, number][] = [];
    for (let match = pattern.exec(work); match; match = pattern.exec(work)) {
      const raw = trimTrailing(type, match[0]);
      const value = normalize(type, raw);
      if (value === undefined) continue;
      blanks.push([match.index, match.index + raw.length]);
      const key = indicatorKey({ type, value });
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ at: match.index, indicator: { type, value, context: lineAround(clean, match.index) } });
    }
    for (const [start, end] of blanks)
      work = work.slice(0, start) + ' '.repeat(end - start) + work.slice(end);
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.indicator);
}

/** Sentence punctuation that follows an indicator in prose is not part of it. */
function trimTrailing(type: IndicatorType, text: string): string {
  let out = text;
  for (;;) {
    const last = out.at(-1);
    if (last === undefined) return out;
    if ('.,;:!?\'"'.includes(last)) out = out.slice(0, -1);
    else if (last === ')' && count(out, '(') < count(out, ')')) out = out.slice(0, -1);
    else if (last === ']' && count(out, '[') < count(out, ']')) out = out.slice(0, -1);
    else if (last === '}' && count(out, '{') < count(out, '}')) out = out.slice(0, -1);
    else if ((type === 'path' || type === 'registry') && last === ' ') out = out.slice(0, -1);
    else return out;
  }
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

function normalize(type: IndicatorType, raw: string): string | undefined {
  switch (type) {
    case 'url':
      return normalizeUrl(raw);
    case 'email': {
      const at = raw.lastIndexOf('@');
      const domain = raw.slice(at + 1).toLowerCase();
      return isPublicDomain(domain) ? `${raw.slice(0, at)}@${domain}` : undefined;
    }
    case 'registry':
      return normalizeRegistry(raw);
    case 'path':
      return raw.length > 3 ? raw : undefined;
    case 'cve': {
      const [, year, number] = /(\d{4})\D(\d+)$/.exec(raw)!;
      return `CVE-${year}-${number}`;
    }
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'sha512':
      return /^(.)\1*$/.test(raw) ? undefined : raw.toLowerCase();
    case 'ipv6': {
      const address = raw.replace(/\/\d+$/, '');
      if (!ipaddr.IPv6.isValid(address)) return undefined;
      if (!address.includes('::') && address.split(':').length < 8) return undefined;
      // "a::b" is an address in theory and a C++ or Perl name in a report.
      if (!/[0-9a-f]{3}|\d\.\d/i.test(address)) return undefined;
      // RFC 5952 keeps an embedded IPv4 address in dotted form (::ffff:192.0.2.1).
      if (/\d\.\d/.test(address)) return address.toLowerCase();
      return ipaddr.IPv6.parse(address).toRFC5952String();
    }
    case 'ipv4':
      return raw;
    case 'domain': {
      // "sentence.Next": a full stop with the space lost, not a host under .next.
      if (/\.[A-Z][a-z]+$/.test(raw)) return undefined;
      const domain = raw.toLowerCase();
      const tld = domain.slice(domain.lastIndexOf('.') + 1);
      if (FILE_LIKE_TLDS.has(tld)) return undefined;
      return isPublicDomain(domain) ? domain : undefined;
    }
    case 'filename':
      return raw;
  }
}

/** A name under a public suffix of the ICANN section, not the suffix itself. */
export function isPublicDomain(domain: string): boolean {
  const parsed = parseDomain(domain);
  return parsed.domain !== null && parsed.isIcann === true;
}

function normalizeUrl(raw: string): string | undefined {
  const match = /^([a-z]+):\/\/([^/?#]*)(.*)$/i.exec(raw);
  if (!match) return undefined;
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const hostPort = authority.slice(at + 1).toLowerCase();
  const host = hostPort.startsWith('[')
    ? hostPort.slice(1, hostPort.indexOf(']'))
    : hostPort.replace(/:\d+$/, '');
  if (!host) return undefined;
  const valid = ipaddr.isValid(host) || isPublicDomain(host) || host === 'localhost';
  if (!valid) return undefined;
  return `${scheme.toLowerCase()}://${userinfo}${hostPort}${rest}`;
}

const REGISTRY_ROOTS: Record<string, string> = {
  HKEY_LOCAL_MACHINE: 'HKLM',
  HKEY_CURRENT_USER: 'HKCU',
  HKEY_CLASSES_ROOT: 'HKCR',
  HKEY_USERS: 'HKU',
  HKEY_CURRENT_CONFIG: 'HKCC',
};

/**
 * Keys keep spaces inside (`Windows NT`), but the last part ends at the first space: what follows
 * there is the sentence going on ("…\Run to persist").
 */
function normalizeRegistry(raw: string): string | undefined {
  const parts = raw.replace(/^(\w+):\\/, '$1\\').split('\\');
  // A part with many words, or another hive's name in it, is where the prose went on.
  let last = parts.length - 1;
  for (let i = 1; i < last; i++) {
    if (parts[i]!.split(' ').length > 4 || /\bHK(?:EY_|LM|CU|CR|U\b|CC)/.test(parts[i]!)) {
      last = i;
      break;
    }
  }
  parts.length = last + 1;
  parts[last] = parts[last]!.split(' ')[0]!;
  while (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (parts.length < 2) return undefined;
  return parts.join('\\');
}

/**
 * What makes two indicators the same one, wherever they were found (text or STIX pattern): a
 * registry hive short or long (`HKLM` = `HKEY_LOCAL_MACHINE`), Windows paths, file names and
 * mailboxes in any case. URL paths stay case-sensitive, as servers treat them.
 */
export function indicatorKey({ type, value }: { type: IndicatorType; value: string }): string {
  return `${type}\u0000${sameness(type, value)}`;
}

function sameness(type: IndicatorType, value: string): string {
  if (type === 'registry') {
    const [root, ...rest] = value.split('\\');
    return [REGISTRY_ROOTS[root!.toUpperCase()] ?? root!.toUpperCase(), ...rest].join('\\').toLowerCase();
  }
  if (type === 'path' || type === 'filename' || type === 'email' || type === 'cve')
    return value.toLowerCase();
  return value;
}

function lineAround(text: string, at: number): string {
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  const line = text.slice(start, end < 0 ? undefined : end).trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
