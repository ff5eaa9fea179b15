export {
  type ContentLocation,
  candidateContentDirs,
  contentHelp,
  type LocateOptions,
  locateContent,
  vigilHome,
} from './locate.js';
