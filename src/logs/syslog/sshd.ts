import type { FieldValue } from '../../core/index.js';
import { pamFields } from './pam.js';

/**
 * OpenSSH's authentication messages as fields, so that rules can count them by account and by
 * address (brute force, spraying): `user.name`, `source.ip`, `source.port`, `event.action` and
 * `event.outcome` (`failure`, `success`), in the names ECS gives them. The rest of the message
 * stays in `message`, where SigmaHQ's keyword rules look.
 */
const MESSAGES: { pattern: RegExp; read: (m: RegExpExecArray) => Record<string, FieldValue> }[] = [
  {
    // Failed password for invalid user admin from 203.0.113.5 port 52144 ssh2
    pattern: /^Failed (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)/,
    read: (m) => ({
      'event.action': `failed-${m[1]}`,
      'event.outcome': 'failure',
      'user.name': m[3]!,
      'user.known': m[2] === undefined,
      'source.ip': m[4]!,
      'source.port': Number(m[5]),
    }),
  },
  {
    // Accepted publickey for alice from 198.51.100.7 port 50122 ssh2: RSA SHA256:...
    pattern: /^Accepted (\S+) for (.*?) from (\S+) port (\d+)/,
    read: (m) => ({
      'event.action': `accepted-${m[1]}`,
      'event.outcome': 'success',
      'user.name': m[2]!,
      'source.ip': m[3]!,
      'source.port': Number(m[4]),
    }),
  },
  {
    // Invalid user support from 95.152.57.58 (newer versions add: port 40012)
    pattern: /^Invalid user (.*?) from (\S+)(?: port (\d+))?\s*$/,
    read: (m) => ({
      'event.action': 'invalid-user',
      'event.outcome': 'failure',
      'user.name': m[1]!,
      'user.known': false,
      'source.ip': m[2]!,
      ...(m[3] && { 'source.port': Number(m[3]) }),
    }),
  },
  {
    // error: maximum authentication attempts exceeded for root from 203.0.113.5 port 40100 ssh2 [preauth]
    pattern:
      /^error: maximum authentication attempts exceeded for (invalid user )?(.*?) from (\S+) port (\d+)/,
    read: (m) => ({
      'event.action': 'too-many-attempts',
      'event.outcome': 'failure',
      'user.name': m[2]!,
      'user.known': m[1] === undefined,
      'source.ip': m[3]!,
      'source.port': Number(m[4]),
    }),
  },
];

const PROGRAMS = new Set(['sshd', 'sshd-session']);

/**
 * Where a record names the program and holds its text: a syslog header (`app`, `message`), the
 * systemd journal (`SYSLOG_IDENTIFIER`, `MESSAGE`), Sentinel's Syslog table (`ProcessName`,
 * `SyslogMessage`) and an OpenTelemetry record (`service.name`, a text body read as `message`).
 */
const PROGRAM_AND_TEXT = [
  ['app', 'message'],
  ['SYSLOG_IDENTIFIER', 'MESSAGE'],
  ['ProcessName', 'SyslogMessage'],
  ['service.name', 'message'],
] as const;

/**
 * Adds the fields of an authentication message: sshd's own, and pam_unix's of any program (see
 * pam.ts). Other messages stay as they are.
 */
export function addAuthenticationFields(fields: Record<string, FieldValue>): void {
  for (const [program, text] of PROGRAM_AND_TEXT) {
    const message = fields[text];
    if (fields[program] === undefined || typeof message !== 'string') continue;
    const found = PROGRAMS.has(String(fields[program])) ? sshdFields(message) : undefined;
    const add = found ?? (message.startsWith('pam_unix(') ? pamFields(message) : undefined);
    if (!add) continue;
    for (const [name, value] of Object.entries(add)) if (!(name in fields)) fields[name] = value;
    return;
  }
}

function sshdFields(message: string): Record<string, FieldValue> | undefined {
  for (const { pattern, read } of MESSAGES) {
    const match = pattern.exec(message);
    if (match) return read(match);
  }
  return undefined;
}
