export {
  type Assessment,
  BACKLOG_HEAD,
  backlogCells,
  buildAssessment,
  type Exposure,
  type HuntFindings,
  MAX_LISTED,
  outsideTelemetry,
} from './assessment.js';
export { escapeHtml, renderHtml } from './html.js';
export { mdText, renderMarkdown } from './markdown.js';
export { type DetectionGroup, DetectionRollup, EVENTS_PER_GROUP } from './rollup.js';
