import type { FieldValue } from '../../core/index.js';

/**
 * pam_unix's authentication messages, whichever program logs them (su, sudo, login, a display
 * manager, sshd): `pam.service`, `user.name` (the account asked for), `source.user.name` (who
 * asked: `ruser`, else `logname`), `source.ip` (a remote host when there is one), `event.action`
 * and `event.outcome`.
 *
 * sshd logs its own line for each attempt (`Failed password …`, `Accepted …`), which the SSH rules
 * count; its PAM lines get the fields but no outcome, so that no attempt counts twice.
 */

// pam_unix(su:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=root
const FAILURE = /^pam_unix\(([^:()]+):auth\): authentication failure;(.*)$/;
// pam_unix(su:session): session opened for user root(uid=0) by bob(uid=1000)
const SESSION =
  /^pam_unix\(([^:()]+):session\): session opened for user ([^\s(]+)(?:\(uid=\d+\))? by ([^\s(]*)/;

const OWN_LINES = new Set(['sshd', 'sshd-session']);

export function pamFields(message: string): Record<string, FieldValue> | undefined {
  const failure = FAILURE.exec(message);
  if (failure) {
    const pairs = keyValues(failure[2]!);
    const service = failure[1]!;
    const fields: Record<string, FieldValue> = {
      'pam.service': service,
      'event.action': 'pam-authentication-failure',
    };
    if (!OWN_LINES.has(service)) fields['event.outcome'] = 'failure';
    if (pairs.user) fields['user.name'] = pairs.user;
    const asker = pairs.ruser || pairs.logname;
    if (asker) fields['source.user.name'] = asker;
    if (pairs.rhost) fields['source.ip'] = pairs.rhost;
    return fields;
  }
  const session = SESSION.exec(message);
  if (session) {
    const service = session[1]!;
    const fields: Record<string, FieldValue> = {
      'pam.service': service,
      'event.action': 'pam-session-opened',
      'user.name': session[2]!,
    };
    if (!OWN_LINES.has(service)) fields['event.outcome'] = 'success';
    if (session[3]) fields['source.user.name'] = session[3];
    return fields;
  }
  return undefined;
}

/** `logname=bob uid=1000 rhost=  user=root`: empty values stay empty. */
function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)=(\S*)/g)) out[match[1]!] = match[2]!;
  return out;
}
