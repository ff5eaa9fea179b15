export {
  type Assessment,
  buildAssessment,
  type Exposure,
  type HuntFindings,
  MAX_LISTED,
  stateOf,
} from './assessment.js';
export { escapeHtml, renderHtml } from './html.js';
export { mdText, renderMarkdown } from './markdown.js';
