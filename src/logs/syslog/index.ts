export { CEF_HEADER_FIELDS, isCef, parseCef } from './cef.js';
export { SyslogError } from './errors.js';
export { type SyslogFrame, SyslogFrameSplitter } from './framing.js';
export { parseKeyValues } from './pairs.js';
export { type ParsedSyslog, parseSyslog, type SyslogOptions, syslogEvent } from './parse.js';
export { FACILITY_NAMES, SEVERITY_NAMES } from './priority.js';
export { addAuthenticationFields } from './sshd.js';
