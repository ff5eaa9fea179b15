import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allows, type Permission, type Session, tenantScope } from '../service/index.js';

export const SESSION_COOKIE = 'vigil_session';
/** Set by the sign-in page and sent back in its form: a sign-in POST from another site has neither. */
export const SIGN_IN_COOKIE = 'vigil_signin';

/** Cookies of a request, by name (the first of a name wins). */
export function cookies(request: FastifyRequest): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!found.has(name)) {
      try {
        found.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
      } catch {
        // A value that is not valid percent-encoding is not one of ours.
      }
    }
  }
  return found;
}

/** A cookie the browser keeps to itself and never sends with a request another site starts. */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  options: { secure: boolean; maxAgeSeconds?: number; path?: string },
): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/console'}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
    ...(options.maxAgeSeconds !== undefined ? [`Max-Age=${options.maxAgeSeconds}`] : []),
  ];
  // Fastify adds each Set-Cookie header given to those already set.
  reply.header('set-cookie', parts.join('; '));
}

export function clearCookie(reply: FastifyReply, name: string, secure: boolean): void {
  setCookie(reply, name, '', { secure, maxAgeSeconds: 0 });
}

/** Two secrets compared in a time that does not tell how much of them matched. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A signed-in console request: the session and the tenants it may see, by the API's own rule. */
export interface ConsoleUser {
  session: Session;
  /** The tenant every query of this request is limited to; null: every tenant (service-wide tokens). */
  scope: string | null;
  may: (permission: Permission) => boolean;
}

export function consoleUser(session: Session): ConsoleUser {
  return {
    session,
    scope: tenantScope(session.principal, session.tenant ?? undefined),
    may: (permission) => allows(session.principal.role, permission),
  };
}
