/** Facility names as syslog.conf and rsyslog write them, by code (RFC 5424 table 1). */
export const FACILITY_NAMES: readonly string[] = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

/** Severity names as syslog.conf writes them, by code (RFC 5424 table 2). */
export const SEVERITY_NAMES: readonly string[] = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
];

const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;

/**
 * The PRI at the start of a message (`<0>` to `<191>`): its value and the index after it, or
 * undefined when the text does not start with `<`. A `<` without a valid PRI gives `-1` as value.
 */
export function readPriority(text: string): { value: number; end: number } | undefined {
  if (text.charCodeAt(0) !== LESS_THAN) return undefined;
  let value = 0;
  let i = 1;
  for (; i < 5 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === GREATER_THAN) break;
    if (c < 0x30 || c > 0x39) return { value: -1, end: 0 };
    value = value * 10 + (c - 0x30);
  }
  if (i === 1 || text.charCodeAt(i) !== GREATER_THAN || value > 191) return { value: -1, end: 0 };
  return { value, end: i + 1 };
}
