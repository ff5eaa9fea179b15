import type { FieldValue } from '../../core/index.js';
import { parseTimestamp } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Exim's mainlog: `2013-06-12 03:57:58 [pid] [message-id] text`, in the server's local time unless
 * `log_timezone` adds an offset; a line may keep the `host exim[pid]: ` that syslog put before it. Read as syslog lines are (`app` exim, `message`), with the pid
 * and the message id when written.
 */
const EXIM =
  /^(?:\S+ exim\[\d+\]: )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?)(?: ([+-]\d{4}))? (?:\[(\d+)\] )?(?:([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) )?(.*)$/;

export function isEximLine(line: string): boolean {
  return EXIM.test(line);
}

export function readEximLine(
  line: string,
): { fields: Record<string, FieldValue>; time?: number } | undefined {
  const m = EXIM.exec(line);
  if (!m) return undefined;
  const fields = newFields();
  fields.timestamp = m[2] ? `${m[1]} ${m[2]}` : m[1]!;
  fields.app = 'exim';
  if (m[3]) fields.pid = Number(m[3]);
  if (m[4]) fields.message_id = m[4];
  fields.message = m[5]!;
  const time = parseTimestamp(`${m[1]!.replace(' ', 'T')}${m[2] ?? 'Z'}`);
  return { fields, time };
}
