export { BinXmlError, XmlElement } from './binxml.js';
export { crc32 } from './crc32.js';
export {
  CHUNK_SIZE,
  type EvtxFileHeader,
  type EvtxReadOptions,
  type EvtxRecord,
  FILE_HEADER_SIZE,
  type IssueSink,
  parseChunk,
  parseFileHeader,
  readEvtxChunks,
  readEvtxEvents,
  recordToEvent,
} from './reader.js';
export { elementToJson, elementToXml } from './render.js';
