import type { FastifyRequest } from 'fastify';
import { parseTimestamp } from '../core/index.js';
import { type Principal, tenantScope } from '../service/index.js';
import { ApiError } from './app.js';

/** Who sent a request: set by the authentication hook on every route that needs a token. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer TOKEN');
  return request.principal;
}

/** The tenant a request works on: the token's own, or, for a service-wide token, the one named (or all). */
export function scopeOf(principal: Principal | undefined, asked: string | undefined): string | null {
  if (!principal) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer TOKEN');
  return tenantScope(principal, asked);
}

/** A time in a query (`since`, `until`): ISO 8601, or milliseconds since the epoch. */
export function queryTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : parseTimestamp(value);
  if (ms === undefined)
    throw new ApiError(400, 'INVALID_REQUEST', `${name} must be an ISO 8601 time, not '${value}'`);
  return ms;
}

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'items per page' },
  cursor: { type: 'string', description: 'the `next` of the previous page' },
  tenant: { type: 'string', description: 'for a service-wide token: the one tenant to look at' },
};
