import type { FieldValue } from '../../core/index.js';
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
  return { fields, time: eximTime(m[1]!, m[2]) };
}

/** `2013-06-12 03:57:58(.123)` and an optional `+0200` offset (UTC without one) as ms since the epoch. */
function eximTime(text: string, offset: string | undefined): number | undefined {
  const n = (from: number, to: number) => Number(text.slice(from, to));
  const month = n(5, 7);
  const day = n(8, 10);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const local = Date.UTC(
    n(0, 4),
    month - 1,
    day,
    n(11, 13),
    n(14, 16),
    n(17, 19),
    text.length > 19 ? n(20, 23) : 0,
  );
  if (offset === undefined) return local;
  const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5));
  return local - (offset[0] === '-' ? -minutes : minutes) * 60_000;
}
