export {
  type Assessment,
  buildAssessment,
  type Exposure,
  type HuntFindings,
  MAX_LISTED,
} from './assessment.js';
export { escapeHtml, renderHtml } from './html.js';
export { mdText, renderMarkdown } from './markdown.js';
export { type DetectionGroup, DetectionRollup, EVENTS_PER_GROUP } from './rollup.js';
