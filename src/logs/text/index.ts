export { type AssembledRecord, type TextContext, TextRecordAssembler } from './assemble.js';
export { type LogFormat, sniffFormat, TEXT_FORMATS, type TextFormat } from './formats.js';
export {
  detectFormat,
  parseTextRecord,
  readTextEvents,
  readTextRecordBatches,
  type TextReadOptions,
  type TextRecord,
} from './read.js';
