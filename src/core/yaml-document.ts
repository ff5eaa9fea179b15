import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { VigilError } from './errors.js';

/** One document of a YAML file, with the way back from a path in its data to a line of the file. */
export interface PositionedDocument {
  data: unknown;
  /** Line where the document's content starts. */
  line: number;
  /** Line of the node at `path`, or of its closest existing parent. */
  lineOf(path: readonly PropertyKey[]): number;
}

/** Bounds alias expansion, so that a hostile file cannot exhaust memory. */
const OPTIONS = { maxAliasCount: 100, logLevel: 'error', prettyErrors: false } as const;

/**
 * Reads every non-empty document of a YAML file keeping positions, for files users write by hand
 * (configuration, playbooks) whose errors must name a line. A syntax error is thrown with its line.
 */
export function readYamlDocuments(text: string, file: string, code: string): PositionedDocument[] {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { ...OPTIONS, lineCounter: lines });
  const all = Array.isArray(documents) ? documents : [documents];
  const out: PositionedDocument[] = [];
  for (const document of all) {
    const [error] = document.errors;
    if (error) {
      throw new VigilError(code, `not valid YAML: ${error.message.split('\n')[0]}`, {
        file,
        line: lines.linePos(error.pos[0]).line,
      });
    }
    const data = document.toJS({ maxAliasCount: OPTIONS.maxAliasCount }) as unknown;
    if (data === null || data === undefined) continue;
    const lineOfNode = (node: Node | null | undefined) =>
      node?.range ? lines.linePos(node.range[0]).line : undefined;
    const start = lineOfNode(document.contents as Node) ?? 1;
    out.push({
      data,
      line: start,
      lineOf(path) {
        let node = document.contents as Node | null;
        let line = start;
        for (const key of path) {
          if (!(isMap(node) || isSeq(node))) break;
          const next = node.get(key as never, true) as Node | undefined;
          if (!next) break;
          node = next;
          line = lineOfNode(node) ?? line;
        }
        return line;
      },
    });
  }
  return out;
}
