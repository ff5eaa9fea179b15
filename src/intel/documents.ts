import { readFileSync } from 'node:fs';
import { Parser } from 'htmlparser2';
import { type FetchOptions, safeFetch, VigilError } from '../core/index.js';

export type DocumentKind = 'text' | 'html' | 'pdf' | 'stix';

/** An advisory as read: where it came from, what it was, and its text (or STIX objects). */
export interface AdvisoryDocument {
  source: string;
  kind: DocumentKind;
  title?: string;
  text: string;
  /** For a STIX bundle: its objects. */
  stix?: Record<string, unknown>[];
}

export interface ReadAdvisoryOptions {
  /** Standard input, read for `-`. */
  stdin?: () => Promise<Buffer>;
  /** How a URL is downloaded (see safeFetch): its limits and the hosts an admin allows. */
  fetch?: FetchOptions;
}

/**
 * Reads a file, a URL (http/https) or standard input (`-`) and turns it into text. A URL is
 * downloaded by safeFetch: bounded, and refused on a private address (FETCH_* errors).
 */
export async function readAdvisory(
  input: string,
  options: ReadAdvisoryOptions = {},
): Promise<AdvisoryDocument> {
  let bytes: Buffer;
  let contentType = '';
  if (input === '-') {
    bytes = options.stdin ? await options.stdin() : await readStream(process.stdin);
  } else if (/^https?:\/\//i.test(input)) {
    ({ bytes, contentType } = await safeFetch(input, options.fetch));
  } else {
    try {
      bytes = readFileSync(input);
    } catch (error) {
      throw new VigilError('ADVISORY_UNREADABLE', `cannot read the advisory: ${(error as Error).message}`, {
        file: input,
      });
    }
  }
  const source = input === '-' ? '<stdin>' : input;
  return decodeAdvisory(bytes, source, contentType);
}

export async function decodeAdvisory(
  bytes: Buffer,
  source: string,
  contentType = '',
): Promise<AdvisoryDocument> {
  const fail = (message: string): never => {
    throw new VigilError('ADVISORY_INVALID', message, { file: source });
  };
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '') fail('the advisory is empty');
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-' || /application\/pdf/i.test(contentType)) {
    return { source, kind: 'pdf', text: await pdfText(bytes, source) };
  }
  if (looksBinary(bytes)) fail('the advisory is a binary file, not text, HTML, PDF or a STIX bundle');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const head = text.trimStart().slice(0, 2000);
  if (head.startsWith('{') || head.startsWith('[')) {
    if (/"type"\s*:\s*"bundle"/.test(head) || /\.json$/i.test(source) || /json/i.test(contentType)) {
      return stixDocument(text, source);
    }
  }
  if (
    /^<(?:!doctype\s+html|html|head|body)\b/i.test(head) ||
    /html/i.test(contentType) ||
    /\.x?html?$/i.test(source)
  ) {
    const { title, body } = htmlText(text);
    if (body.trim() === '') fail('the HTML page has no text in it');
    return { source, kind: 'html', title, text: body };
  }
  return { source, kind: 'text', title: firstLine(text), text };
}

function stixDocument(text: string, source: string): AdvisoryDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VigilError(
      'ADVISORY_INVALID',
      `the STIX bundle is not valid JSON: ${(error as Error).message}`,
      {
        file: source,
      },
    );
  }
  const objects = (parsed as { objects?: unknown })?.objects;
  if ((parsed as { type?: unknown })?.type !== 'bundle' || !Array.isArray(objects)) {
    throw new VigilError(
      'ADVISORY_INVALID',
      'JSON input must be a STIX 2.1 bundle ({"type":"bundle","objects":[...]})',
      {
        file: source,
        field: 'objects',
      },
    );
  }
  const valid = objects.filter((o): o is Record<string, unknown> => typeof o === 'object' && o !== null);
  const report = valid.find((o) => o.type === 'report');
  // The prose of a bundle (report, notes, descriptions) is read like any other text as well.
  const prose = valid
    .filter((o) =>
      [
        'report',
        'note',
        'attack-pattern',
        'intrusion-set',
        'malware',
        'campaign',
        'course-of-action',
      ].includes(String(o.type)),
    )
    .flatMap((o) =>
      [o.name, o.description, o.content, o.abstract].filter((v): v is string => typeof v === 'string'),
    )
    .join('\n');
  return {
    source,
    kind: 'stix',
    title: typeof report?.name === 'string' ? report.name : undefined,
    text: prose,
    stix: valid,
  };
}

/**
 * Elements whose text is not the advisory's: code and embeds, and the site around the article
 * (navigation, footer, side bars, buttons), where a publisher's menus, newsletter offers and
 * contact details live. Not forms: ASP.NET pages wrap their whole body in one.
 */
const SKIPPED_ELEMENTS = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'head',
  'iframe',
  'object',
  'nav',
  'footer',
  'aside',
  'button',
]);
const BLOCK_ELEMENTS = new Set([
  'p',
  'div',
  'br',
  'li',
  'ul',
  'ol',
  'tr',
  'table',
  'section',
  'article',
  'header',
  'footer',
  'nav',
  'aside',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'blockquote',
  'dd',
  'dt',
  'dl',
  'hr',
  'figure',
  'figcaption',
  'main',
  'title',
]);

/** The visible text of an HTML page, one block per line, table cells kept apart. */
export function htmlText(html: string): { title?: string; body: string } {
  const parts: string[] = [];
  let skipping = 0;
  let inTitle = false;
  let title = '';
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true;
        else if (SKIPPED_ELEMENTS.has(name)) skipping++;
        if (BLOCK_ELEMENTS.has(name)) parts.push('\n');
        else if (name === 'td' || name === 'th') parts.push(' \t ');
      },
      ontext(text) {
        if (inTitle) title += text;
        else if (skipping === 0) parts.push(text);
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        else if (SKIPPED_ELEMENTS.has(name)) skipping = Math.max(0, skipping - 1);
        if (BLOCK_ELEMENTS.has(name)) parts.push('\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  const body = parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \u00a0]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
  const cleanTitle = title.replace(/\s+/g, ' ').trim();
  return { title: cleanTitle || undefined, body };
}

async function pdfText(bytes: Buffer, source: string): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let document: Awaited<ReturnType<typeof getDocument>['promise']>;
  try {
    document = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false })
      .promise;
  } catch (error) {
    throw new VigilError('ADVISORY_INVALID', `cannot read the PDF: ${(error as Error).message}`, {
      file: source,
    });
  }
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const page = await document.getPage(number);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) {
      if (!('str' in item)) continue;
      text += item.str;
      text += item.hasEOL ? '\n' : ' ';
    }
    pages.push(text.replace(/[ \t]+\n/g, '\n').replace(/ {2,}/g, ' '));
  }
  await document.destroy();
  const text = pages.join('\n');
  if (text.trim() === '') {
    throw new VigilError(
      'ADVISORY_INVALID',
      'the PDF has no text layer (a scan?); run it through OCR first',
      {
        file: source,
      },
    );
  }
  return text;
}

/** Text has no NUL bytes and decodes as UTF-8 with few replacement characters. */
function looksBinary(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return true;
  const decoded = sample.toString('utf8');
  let bad = 0;
  let control = 0;
  for (const char of decoded) {
    if (char === '\ufffd') bad++;
    else if (/[\u0001-\u0008\u000e-\u001f]/.test(char)) control++;
  }
  return (bad + control) / Math.max(1, decoded.length) > 0.05;
}

function firstLine(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line ? line.trim().slice(0, 200) : undefined;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
