import { VigilError } from '../core/index.js';

export interface CsvRow {
  /** The line the row starts on (1-based). */
  line: number;
  cells: string[];
}

/**
 * CSV as RFC 4180 writes it: quoted cells may hold commas, doubled quotes and line breaks. Blank
 * lines are skipped. A quote left open is refused with the line it opened on: it means the file
 * was cut short or is not CSV, and reading on would misplace every cell after it.
 */
export function parseCsv(text: string, file: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let rowLine = 1;
  let quotedFrom = 0;
  let quoted = false;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim()) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') {
      quoted = true;
      quotedFrom = line;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n') {
      endRow();
      rowLine = line;
    } else if (c !== '\r' || text[i + 1] !== '\n') cell += c;
  }
  if (quoted) {
    throw new VigilError('VULN_INVALID', 'a quoted cell is never closed: the file is cut short or not CSV', {
      file,
      line: quotedFrom,
    });
  }
  endRow();
  return rows;
}
