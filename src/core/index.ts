export {
  type AddressRefusal,
  addressRefusal,
  allowEntryProblem,
  HostAllowList,
} from './address-policy.js';
export { AhoCorasick, foldsSafely } from './aho-corasick.js';
export { addDistinct, distinctIgnoringCase, setFor } from './collections.js';
export { describeError, formatLocation, type SourceLocation, VigilError } from './errors.js';
export {
  type EventSource,
  eventChannel,
  eventHost,
  type FieldValue,
  getField,
  HOST_FIELDS,
  type LogEvent,
} from './event.js';
export {
  DEFAULT_FETCH_LIMITS,
  type Fetched,
  type FetchLimits,
  type FetchOptions,
  type ResolvedAddress,
  type Resolver,
  safeFetch,
} from './fetch.js';
export { type CollectedFiles, collectFiles } from './files.js';
export { describePlace, distanceKm, type Locate, openGeoDatabase, type Place } from './geoip.js';
export {
  type Cidr,
  cidrContains,
  ipv4Range,
  ipv6InNetwork,
  parseAddress,
  parseCidr,
  parseIPv4,
  parseIPv6,
} from './ip.js';
export { applyMigrations, type MigratableDatabase } from './migrations.js';
export { foldCase } from './text.js';
export { calendarDay, isoWeek, parseTimestamp } from './time.js';
export { type PositionedDocument, readYamlDocuments } from './yaml-document.js';
