import type { FieldValue } from '../../core/index.js';

/**
 * Cisco ASA messages (`%ASA-6-113005: …`, the TAG of the syslog line): `event.code` is the message
 * number, and the authentication messages of AnyConnect, clientless WebVPN and device logins get
 * `user.name`, `source.ip`, `event.action` and `event.outcome`, as sshd's do, so the identity rules
 * can count them by account and address. Their text is as Cisco's "ASA Series Syslog Messages"
 * documents it; the whole text stays in `message`.
 */
const MESSAGES: Record<string, { pattern: RegExp; action: string; outcome: 'failure' | 'success' }> = {
  // AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.10 : user = alice : user IP = 203.0.113.5
  '113005': {
    pattern: /reason = (?<reason>.*?) : server = \S+ : user = (?<user>.*?) : user IP = (?<ip>\S+)/,
    action: 'aaa-authentication',
    outcome: 'failure',
  },
  // AAA user authentication Rejected : reason = Invalid password : local database : user = alice : user IP = 203.0.113.5
  '113015': {
    pattern: /reason = (?<reason>.*?) : local database : user = (?<user>.*?) ?: user IP = (?<ip>\S+)/,
    action: 'aaa-authentication',
    outcome: 'failure',
  },
  // AAA user authentication Successful : server = 10.1.1.10 : user = alice
  '113004': { pattern: /: user = (?<user>.+?)\s*$/, action: 'aaa-authentication', outcome: 'success' },
  // AAA user authentication Successful : local database : user = alice
  '113012': { pattern: /: user = (?<user>.+?)\s*$/, action: 'aaa-authentication', outcome: 'success' },
  // Group <GroupPolicy> User <alice> IP <203.0.113.5> AnyConnect parent session started.
  '113039': {
    pattern: /User <(?<user>[^>]*)> IP <(?<ip>[^>]*)>/,
    action: 'anyconnect-session-started',
    outcome: 'success',
  },
  // Group <GroupPolicy> User <alice> IP <203.0.113.5> Authentication: rejected, Session Type: WebVPN.
  '716039': {
    pattern: /User <(?<user>[^>]*)> IP <(?<ip>[^>]*)> Authentication: rejected/,
    action: 'webvpn-authentication',
    outcome: 'failure',
  },
  // Login denied from 203.0.113.5/40112 to outside:192.0.2.1/ssh for user "admin"
  '605004': {
    pattern: /Login denied from (?<ip>[^/\s]+)\/\d+ to \S+ for user "(?<user>[^"]*)"/,
    action: 'device-login',
    outcome: 'failure',
  },
  // Login permitted from 198.51.100.7/50122 to inside:192.0.2.1/ssh for user "admin"
  '605005': {
    pattern: /Login permitted from (?<ip>[^/\s]+)\/\d+ to \S+ for user "(?<user>[^"]*)"/,
    action: 'device-login',
    outcome: 'success',
  },
};

const TAG = /^%(?:ASA|FTD)-\d-(\d{6})$/;

/** Adds the fields of a Cisco ASA message; other programs' messages stay as they are. */
export function addAsaFields(fields: Record<string, FieldValue>): void {
  const code = typeof fields.app === 'string' ? TAG.exec(fields.app)?.[1] : undefined;
  if (code === undefined) return;
  if (fields['event.code'] === undefined) fields['event.code'] = code;
  const known = MESSAGES[code];
  if (!known || typeof fields.message !== 'string') return;
  const groups = known.pattern.exec(fields.message)?.groups;
  if (!groups) return;
  const found: Record<string, FieldValue | undefined> = {
    'event.action': known.action,
    'event.outcome': known.outcome,
    'event.reason': groups.reason,
    'user.name': groups.user,
    'source.ip': groups.ip,
  };
  for (const [name, value] of Object.entries(found)) {
    if (value !== undefined && fields[name] === undefined) fields[name] = value;
  }
}
