import { Parser } from 'htmlparser2';
import { VigilError } from '../core/index.js';

export interface XmlHandlers {
  /** `path`: the enclosing elements, outermost first, without `name`; valid only during the call. */
  open?: (name: string, attributes: Record<string, string>, line: number, path: readonly string[]) => void;
  close?: (name: string, text: string, path: readonly string[]) => void;
}

/**
 * Walks an XML document element by element, with the line each element starts on. htmlparser2
 * forgives what a scan file must not have: a document cut short (its open elements are closed for
 * it), a closing tag that does not match, text after the root. Each of these is refused here with
 * the line at fault, so that a truncated scan can never pass for a complete one.
 */
export function walkXml(text: string, file: string, handlers: XmlHandlers): void {
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineAt = (index: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const open: { name: string; line: number; text: string }[] = [];
  // The names of `open`, kept beside it so that each close is told its path without a new array.
  const path: string[] = [];
  let rootClosed = false;
  let ending = false;
  let failure: VigilError | undefined;
  const fail = (message: string, line: number) => {
    failure ??= new VigilError('VULN_INVALID', message, { file, line });
  };
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        const line = lineAt(parser.startIndex);
        if (rootClosed) fail(`<${name}> after the end of the document`, line);
        if (!failure) handlers.open?.(name, attributes, line, path);
        open.push({ name, line, text: '' });
        path.push(name);
      },
      ontext(t) {
        if (open.length) open[open.length - 1]!.text += t;
        else if (t.trim()) fail('text after the end of the document', lineAt(parser.startIndex));
      },
      onclosetag(name, implied) {
        const element = open.pop();
        if (!element) return;
        path.pop();
        if (ending) {
          fail(
            `the file ends inside <${name}> (opened on line ${element.line}): it is truncated`,
            element.line,
          );
        } else if (implied && !text.slice(parser.startIndex, parser.endIndex + 1).endsWith('/>')) {
          fail(`<${name}> opened on line ${element.line} is not closed`, lineAt(parser.startIndex));
        }
        if (!open.length) rootClosed = true;
        if (!failure) handlers.close?.(name, element.text.trim(), path);
      },
      onerror(error) {
        fail(`not well-formed XML: ${error.message}`, lineAt(parser.startIndex));
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  ending = true;
  parser.end();
  if (!failure && !rootClosed) fail('no XML element in the file', 1);
  if (failure) throw failure;
}
