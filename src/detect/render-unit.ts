import type { VigilError } from '../core/index.js';
import { elementToJson, elementToXml, parseChunk } from '../logs/index.js';
import type { ProblemData } from './collector.js';
import { unitEvents, type WorkUnit } from './units.js';

/**
 * Output forms of `vigil dump`. `jsonl`/`json`: each record as evtx_dump writes it
 * (`{"Event":{…}}`, which Vigil and other tools read back); `xml`: as the event viewer shows it;
 * `fields`: Vigil's event shape (flat Sigma field names, source and time).
 */
export type DumpFormat = 'jsonl' | 'json' | 'xml' | 'fields';

export interface RenderedUnit {
  file: string;
  records: number;
  lines: string[];
  errors: ProblemData[];
}

export function renderUnit(unit: WorkUnit, format: DumpFormat): RenderedUnit {
  const errors: ProblemData[] = [];
  const report = (error: VigilError) =>
    errors.push({ code: error.code, message: error.message, location: error.location });
  const lines: string[] = [];
  if (unit.kind === 'evtx' && format !== 'fields') {
    for (const record of parseChunk(unit.buf, unit.chunk, unit.file, report)) {
      lines.push(
        format === 'xml'
          ? elementToXml(record.event)
          : JSON.stringify({ Event: elementToJson(record.event) }),
      );
    }
  } else {
    for (const event of unitEvents(unit, report)) {
      if (format === 'fields') {
        const time = event.time === undefined ? undefined : new Date(event.time).toISOString();
        lines.push(JSON.stringify({ time, source: event.source, fields: event.fields }));
      } else if (format === 'xml') {
        report({
          code: 'DUMP_FORMAT',
          message: 'XML output is for EVTX input only',
          location: { file: unit.file },
        } as VigilError);
        break;
      } else {
        // A text log's record is a line, not JSON: its fields are what reads back the same.
        lines.push(JSON.stringify(unit.kind === 'text' ? event.fields : (event.raw ?? event.fields)));
      }
    }
  }
  return { file: unit.file, records: lines.length, lines, errors };
}
