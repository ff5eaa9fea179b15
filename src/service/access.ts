import { createHash, randomBytes } from 'node:crypto';
import { VigilError } from '../core/index.js';

/**
 * Who may do what. Roles are ordered for reading and triage (a viewer reads, an analyst also
 * triages, an admin also manages tenants, rules and tokens); `ingest` stands apart: it can only
 * send events, so a token on a log shipper cannot read a single alert.
 */
export const ROLES = ['admin', 'analyst', 'viewer', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export type Permission = 'ingest' | 'read' | 'triage' | 'manage';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'triage', 'manage'],
  analyst: ['read', 'triage'],
  viewer: ['read'],
  ingest: ['ingest'],
};

export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** The holder of a token, as every request carries it. */
export interface Principal {
  tokenId: number;
  label: string | null;
  role: Role;
  /** The one tenant the token is bound to; null for a service-wide token (an MSSP's own staff). */
  tenant: string | null;
}

/** The name the audit log gives a principal. */
export function actorName(principal: Principal): string {
  return `token:${principal.tokenId}${principal.label ? `(${principal.label})` : ''}`;
}

/**
 * The tenants a request may touch: a bound token its own tenant only, whatever it asks; a
 * service-wide token every tenant, or the one it names. Asking for another tenant than one's own
 * is refused rather than silently narrowed, so a client cannot mistake an empty answer for
 * another customer's quiet day.
 */
export function tenantScope(principal: Principal, asked: string | undefined): string | null {
  if (principal.tenant === null) return asked ?? null;
  if (asked !== undefined && asked !== principal.tenant) {
    throw new VigilError('FORBIDDEN', `this token is bound to another tenant than '${asked}'`);
  }
  return principal.tenant;
}

const TOKEN_PREFIX = 'vgl_';

/** A new secret token: shown once, stored only as its hash. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Tenant names appear in paths, subjects and URLs: keep them to a safe, readable alphabet. */
const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function checkTenantName(name: string): string {
  if (!TENANT_NAME.test(name)) {
    throw new VigilError(
      'BAD_TENANT_NAME',
      `'${name}' is not a valid tenant name: use 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit`,
    );
  }
  return name;
}
