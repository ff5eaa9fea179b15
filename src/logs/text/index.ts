export { type LogFormat, sniffFormat, TEXT_FORMATS, type TextFormat } from './formats.js';
export {
  detectFormat,
  parseTextRecord,
  readTextEvents,
  readTextRecordBatches,
  type TextContext,
  type TextReadOptions,
  type TextRecord,
} from './read.js';
