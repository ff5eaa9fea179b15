import { type SourceLocation, VigilError } from '../../core/index.js';

/**
 * A syslog message or stream that could not be read as its format says. Codes:
 * `SYSLOG_EMPTY`, `SYSLOG_PRI`, `SYSLOG_HEADER`, `SYSLOG_TIMESTAMP`, `SYSLOG_SD` (structured data),
 * `SYSLOG_CEF`, `SYSLOG_BODY` (an XML event cut short), `SYSLOG_FRAME` (framing of a TCP stream), `SYSLOG_OPTIONS`. `column` is the 1-based
 * character of the message where the problem starts (for `SYSLOG_FRAME`, the 1-based byte of the
 * stream where the message starts); `field` names the part of the message.
 */
export class SyslogError extends VigilError {
  constructor(code: string, message: string, location: SourceLocation = {}) {
    super(code, message, location);
    this.name = 'SyslogError';
  }
}
