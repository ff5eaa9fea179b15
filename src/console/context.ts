import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../core/index.js';
import type { DetectionService, SessionLimits } from '../service/index.js';
import type { Html } from './html.js';
import type { ConsoleUser } from './session.js';

export interface ConsoleOptions {
  /** Whether the listener is HTTPS: cookies are then marked Secure. */
  secure: boolean;
  sessions: SessionLimits;
  /** An ATT&CK technique's name, when the ATT&CK content is at hand. */
  techniqueName: (id: string) => string | undefined;
  /** Told of requests that failed on the server's side. */
  log?: (line: string) => void;
  /** The content folder (ATT&CK, SigmaHQ packs) named on the command line; else VIGIL_CONTENT_DIR or the defaults. */
  content?: string;
}

/**
 * Who may reach a console route: anyone (sign-in, assets), or a session: a page (a person's use,
 * which renews the session's idle time) or data a page fetches by itself (which does not).
 */
export type Access = 'public' | 'page' | 'data';

declare module 'fastify' {
  interface FastifyContextConfig {
    console?: Access;
  }
  interface FastifyRequest {
    consoleUser?: ConsoleUser;
  }
}

/**
 * Every console response: scripts and styles from Vigil only (no inline code runs, whatever a
 * page shows), never framed, never sniffed, no referrer sent to the links an event carries.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: the browser would then send `Origin: null` with the console's own forms.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A form as posted: each field's value, or its values when it was sent more than once. */
export type Form = Record<string, string | string[]>;

export function field(form: Form | undefined, name: string): string | undefined {
  const value = form?.[name];
  return Array.isArray(value) ? value[0] : value;
}

export function fields(form: Form | undefined, name: string): string[] {
  const value = form?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The name of a file a page's script sends as the request's body (header `x-file-name`), without
 * any folder and with only plain characters: it names a file on the server a moment.
 */
export function uploadName(request: FastifyRequest): string {
  let name = '';
  try {
    name = decodeURIComponent(String(request.headers['x-file-name'] ?? ''));
  } catch {
    // Not a name the page's script sent.
  }
  return (name.split(/[\\/]/).at(-1) ?? '').replace(/[^A-Za-z0-9._ -]/g, '_').slice(-120);
}

export function sendPage(reply: FastifyReply, status: number, body: Html): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body.text);
}

export function userOf(request: FastifyRequest): ConsoleUser {
  if (!request.consoleUser) throw new VigilError('UNAUTHENTICATED', 'sign in first');
  return request.consoleUser;
}

/** A request another site started, as far as the browser tells: refused before anything else is read. */
export function crossSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/** The tenants a service-wide principal may pick from; none to offer a tenant's own principal. */
export async function tenantChoice(
  service: DetectionService,
  user: ConsoleUser,
): Promise<string[] | undefined> {
  if (user.session.principal.tenant !== null) return undefined;
  return (await service.store.tenants()).map((t) => t.name);
}
