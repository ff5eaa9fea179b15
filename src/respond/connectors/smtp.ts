import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

export interface SmtpConfig {
  host: string;
  port: number;
  /** `starttls`: upgrade after EHLO (port 587); `tls`: TLS from the start (port 465); `none`: plain (a local relay). */
  security: 'starttls' | 'tls' | 'none';
  from: string;
  to: string[];
  username?: string;
  password?: string;
  /** CA certificate (PEM) for a relay with a private CA. */
  ca?: Buffer;
}

/** A reply of the server: its code and text (the lines of a multi-line reply joined). */
interface Reply {
  code: number;
  text: string;
}

/** `=?UTF-8?B?...?=` for a header that is not plain ASCII (RFC 2047). */
function headerText(text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean).toString('base64')}?=`;
}

/** The message: headers, then the body with CRLF line ends and dot-stuffing (RFC 5321 4.5.2). */
export function smtpMessage(
  config: Pick<SmtpConfig, 'from' | 'to' | 'host'>,
  subject: string,
  text: string,
): string {
  const body = text
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((line) => (line.startsWith('.') ? `.${line}` : line))
    .join('\r\n');
  return [
    `From: ${config.from}`,
    `To: ${config.to.join(', ')}`,
    `Subject: ${headerText(subject)}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@vigil>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
    '',
    body,
  ].join('\r\n');
}

/** One SMTP conversation over a socket: commands out, replies in, one at a time. */
class Conversation {
  private buffer = '';
  private waiting: ((reply: Reply | Error) => void) | undefined;
  private lines: string[] = [];
  private failure: Error | undefined;

  constructor(private socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new TransientFailure('the mail server closed the connection')));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(error);
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\r\n'); end >= 0; end = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.lines.push(line);
      // "250-..." goes on; "250 ..." ends the reply.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.map((l) => l.slice(4)).join('\n') };
        this.lines = [];
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.(reply);
      }
    }
  }

  /** The next reply; a code outside `expected` is a failure (4xx may pass, 5xx will not). */
  reply(expected: number[], what: string): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (reply) => {
        if (reply instanceof Error) return reject(reply);
        if (expected.includes(reply.code)) return resolve(reply);
        const message = `${what}: the mail server answered ${reply.code} ${reply.text}`;
        reject(reply.code >= 400 && reply.code < 500 ? new TransientFailure(message) : new Error(message));
      };
    });
  }

  async command(line: string, expected: number[], what = line.split(' ')[0]!): Promise<Reply> {
    const answer = this.reply(expected, what);
    this.socket.write(`${line}\r\n`);
    return answer;
  }

  /** Continues over TLS on the same connection (after STARTTLS). */
  async upgrade(options: { host: string; ca?: Buffer }): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    const secure = tlsConnect({ socket: this.socket as Socket, servername: options.host, ca: options.ca });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  end(): void {
    this.socket.end();
  }
}

/**
 * Sends notifications by mail through a relay (SMTP with STARTTLS, implicit TLS, or plain for a
 * relay on the same host), to the recipients of the configuration: a playbook says what, the
 * configuration to whom.
 */
export class SmtpConnector implements Connector {
  readonly capability = 'email';

  constructor(private readonly config: SmtpConfig) {}

  get target(): string {
    return `mail relay ${this.config.host}:${this.config.port} to ${this.config.to.join(', ')}`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>): string {
    return `SMTP ${this.config.host}:${this.config.port} (${this.config.security}): mail from ${this.config.from} to ${this.config.to.join(', ')}, subject "${params.subject}"`;
  }

  private open(signal: AbortSignal): Promise<Socket | TLSSocket> {
    const { host, port, security, ca } = this.config;
    return new Promise((resolve, reject) => {
      const socket =
        security === 'tls'
          ? tlsConnect({ host, port, servername: host, ca }, () => resolve(socket))
          : netConnect({ host, port }, () => resolve(socket));
      socket.once('error', (error) => reject(new TransientFailure(`${host}:${port}: ${error.message}`)));
      signal.addEventListener(
        'abort',
        () => socket.destroy(new TransientFailure(`${host}:${port}: timed out`)),
        {
          once: true,
        },
      );
    });
  }

  async run(
    _action: string,
    params: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<ActionResult> {
    const socket = await this.open(options.signal);
    const talk = new Conversation(socket);
    try {
      await talk.reply([220], 'greeting');
      await talk.command('EHLO vigil', [250]);
      if (this.config.security === 'starttls') {
        await talk.command('STARTTLS', [220]);
        await talk.upgrade({ host: this.config.host, ca: this.config.ca });
        await talk.command('EHLO vigil', [250]);
      }
      if (this.config.username !== undefined) {
        const token = Buffer.from(`\0${this.config.username}\0${this.config.password ?? ''}`).toString(
          'base64',
        );
        await talk.command(`AUTH PLAIN ${token}`, [235], 'AUTH');
      }
      await talk.command(`MAIL FROM:<${this.config.from}>`, [250], 'MAIL FROM');
      for (const to of this.config.to) await talk.command(`RCPT TO:<${to}>`, [250, 251], `RCPT TO ${to}`);
      await talk.command('DATA', [354]);
      const accepted = await talk.command(
        `${smtpMessage(this.config, params.subject ?? '', params.text ?? '')}\r\n.`,
        [250],
        'the message',
      );
      await talk.command('QUIT', [221]).catch(() => undefined);
      return { result: `mail sent to ${this.config.to.join(', ')} (${accepted.text.slice(0, 120)})` };
    } finally {
      talk.end();
    }
  }
}
