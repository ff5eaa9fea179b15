import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

export interface WebhookConfig {
  url: string;
  /** `json`: {title,text,...}; `slack`: Slack incoming webhooks; `teams`: Teams connector cards. */
  format: 'json' | 'slack' | 'teams';
  /** HMAC-SHA256 key over timestamp and body, sent as `X-Vigil-Signature`. */
  hmacSecret?: string;
  /** Client certificate and key (PEM) for mutual TLS, and a CA to trust. */
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
}

/** The message body in the format the receiving end reads. */
export function webhookBody(
  format: WebhookConfig['format'],
  title: string | undefined,
  text: string,
): string {
  switch (format) {
    case 'slack':
      return JSON.stringify({ text: title ? `*${title}*\n${text}` : text });
    case 'teams':
      return JSON.stringify({
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        summary: title ?? text.slice(0, 80),
        ...(title && { title }),
        text,
      });
    case 'json':
      return JSON.stringify({ source: 'vigil', ...(title && { title }), text });
  }
}

/** `sha256=HEX` of `TIMESTAMP.BODY`: a receiver that checks it knows the sender and that the message is fresh. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Sends messages to an HTTP endpoint. The address often is the secret (Slack's and Teams' webhook
 * URLs are), so descriptions show only its origin.
 */
export class WebhookConnector implements Connector {
  readonly capability = 'notify';
  private readonly url: URL;
  private readonly tls: { cert?: Buffer; key?: Buffer; ca?: Buffer };

  constructor(private readonly config: WebhookConfig) {
    this.url = new URL(config.url);
    this.tls = config.tls ?? {};
  }

  get target(): string {
    return `webhook ${this.url.origin} (${this.config.format})`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>): string {
    return `POST ${this.url.origin}/… ${webhookBody(this.config.format, params.title, params.text ?? '')}`;
  }

  run(_action: string, params: Readonly<Record<string, string>>, options: RunOptions): Promise<ActionResult> {
    const body = webhookBody(this.config.format, params.title, params.text ?? '');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': 'vigil',
    };
    if (this.config.hmacSecret) {
      headers['x-vigil-timestamp'] = timestamp;
      headers['x-vigil-signature'] = webhookSignature(this.config.hmacSecret, timestamp, body);
    }
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        this.url,
        { method: 'POST', headers, signal: options.signal, timeout: 30_000, ...this.tls },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300)
              resolve({ result: `message sent to ${this.url.origin} (HTTP ${status})` });
            else if (status === 429 || status >= 500)
              reject(new TransientFailure(`${this.url.origin} answered HTTP ${status}`));
            else reject(new Error(`${this.url.origin} refused the message: HTTP ${status}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new TransientFailure(`${this.url.origin} did not answer in 30 s`)));
      req.on('error', (error) =>
        reject(
          error instanceof TransientFailure
            ? error
            : new TransientFailure(`${this.url.origin}: ${error.message}`),
        ),
      );
      req.end(body);
    });
  }
}
