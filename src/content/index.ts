export { type KevCatalog, type KevEntry, readKevCatalog } from './kev.js';
export {
  type ContentLocation,
  candidateContentDirs,
  contentHelp,
  type LocateOptions,
  locateContent,
  vigilHome,
} from './locate.js';
