import type { FastifyInstance } from 'fastify';
import { describeError, VigilError } from '../core/index.js';
import {
  actorName,
  checkTenantName,
  type DetectionService,
  type Principal,
  ROLES,
  type Role,
} from '../service/index.js';
import { errorSchema, type RouteBook } from './api.js';
import { ApiError } from './app.js';
import { pageQuery, principalOf, scopeOf } from './scope.js';
import { sessionView, tokenView } from './views.js';

function serviceWide(principal: Principal | undefined): Principal {
  if (!principal || principal.tenant !== null) {
    throw new ApiError(403, 'FORBIDDEN', 'only a service-wide admin token may do this');
  }
  return principal;
}

/** Tenants, tokens, rules and the audit log: the admin role's routes. */
export function registerAdminRoutes(app: FastifyInstance, book: RouteBook, service: DetectionService): void {
  const store = service.store;

  book.add(app, {
    method: 'GET',
    url: '/api/v1/tenants',
    permission: 'manage',
    summary: 'List tenants',
    tags: ['admin'],
    responses: { 200: { description: 'the tenants', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, undefined);
      const all = await store.tenants();
      return {
        tenants: all
          .filter((t) => tenant === null || t.name === tenant)
          .map((t) => ({ name: t.name, created_at: t.createdAt })),
      };
    },
  });

  book.add(app, {
    method: 'POST',
    url: '/api/v1/tenants',
    permission: 'manage',
    summary: 'Add a tenant',
    tags: ['admin'],
    body: {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    },
    responses: {
      201: { description: 'added', schema: { type: 'object' } },
      409: { description: 'it exists', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const principal = serviceWide(principalOf(request));
      const name = checkTenantName((request.body as { name: string }).name);
      if (await store.hasTenant(name)) throw new ApiError(409, 'TENANT_EXISTS', `tenant '${name}' exists`);
      await store.addTenant(name, actorName(principal));
      reply.status(201);
      return { name };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/tokens',
    permission: 'manage',
    summary: 'List tokens (never their secrets: only hashes are kept)',
    tags: ['admin'],
    responses: { 200: { description: 'the tokens', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, undefined);
      const tokens = await store.listTokens();
      return { tokens: tokens.filter((t) => tenant === null || t.tenant === tenant).map(tokenView) };
    },
  });

  book.add(app, {
    method: 'POST',
    url: '/api/v1/tokens',
    permission: 'manage',
    summary: 'Make a token; its secret is in this answer only',
    tags: ['admin'],
    body: {
      type: 'object',
      properties: {
        role: { type: 'string', enum: [...ROLES] },
        tenant: { type: 'string' },
        label: { type: 'string', maxLength: 200 },
      },
      required: ['role'],
      additionalProperties: false,
    },
    responses: { 201: { description: 'the token, with its secret', schema: { type: 'object' } } },
    handler: async (request, reply) => {
      const body = request.body as { role: Role; tenant?: string; label?: string };
      const tenant = scopeOf(request.principal, body.tenant);
      if (tenant !== null && !(await store.hasTenant(tenant)))
        throw new ApiError(404, 'UNKNOWN_TENANT', `no tenant '${tenant}'`);
      if (body.role === 'ingest' && tenant === null) {
        throw new ApiError(400, 'INVALID_REQUEST', 'an ingest token belongs to one tenant: give its tenant');
      }
      const { id, secret } = await store.addToken(
        { role: body.role, tenant, label: body.label ?? null },
        actorName(principalOf(request)),
      );
      reply.status(201);
      return { id, role: body.role, tenant, label: body.label ?? null, token: secret };
    },
  });

  book.add(app, {
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    permission: 'manage',
    summary: 'Revoke a token',
    tags: ['admin'],
    params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
    responses: {
      204: { description: 'revoked' },
      404: { description: 'no such token for this admin', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: number };
      const tenant = scopeOf(request.principal, undefined);
      const token = (await store.listTokens()).find((t) => t.id === id && t.revokedAt === null);
      if (!token || (tenant !== null && token.tenant !== tenant))
        throw new ApiError(404, 'NOT_FOUND', `no token ${id}`);
      await store.revokeToken(id, actorName(principalOf(request)));
      reply.status(204);
      return null;
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/sessions',
    permission: 'manage',
    summary: 'Console sessions, ended ones included (never their cookies: only hashes are kept)',
    tags: ['admin'],
    responses: { 200: { description: 'the sessions', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, undefined);
      const sessions = await store.listSessions();
      return { sessions: sessions.filter((s) => tenant === null || s.tenant === tenant).map(sessionView) };
    },
  });

  book.add(app, {
    method: 'DELETE',
    url: '/api/v1/sessions/:id',
    permission: 'manage',
    summary: 'End a console session now',
    tags: ['admin'],
    params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
    responses: {
      204: { description: 'ended' },
      404: { description: 'no such live session for this admin', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: number };
      const tenant = scopeOf(request.principal, undefined);
      const session = (await store.listSessions()).find((s) => s.id === id && s.endedAt === null);
      if (!session || (tenant !== null && session.tenant !== tenant))
        throw new ApiError(404, 'NOT_FOUND', `no live session ${id}`);
      await store.endSession(id, actorName(principalOf(request)), 'revoked');
      reply.status(204);
      return null;
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/rules',
    permission: 'read',
    summary: 'The rules loaded: counts, and every rule that could not be used with why',
    tags: ['rules'],
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: { 200: { description: 'rule status', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, (request.query as { tenant?: string }).tenant);
      const status = service.rulesStatus();
      const problem = (e: { location: { file?: string; line?: number }; code: string }) => ({
        file: e.location.file ?? null,
        line: e.location.line ?? null,
        code: e.code,
        error: describeError(e),
      });
      return {
        loaded_at: status.loadedAt,
        global: {
          rules: status.global.rules,
          correlations: status.global.correlations,
          failed: status.global.errors.map(problem),
        },
        tenants: Object.fromEntries(
          [...status.tenants]
            .filter(([name]) => tenant === null || name === tenant)
            .map(([name, t]) => [
              name,
              {
                rules: t.rules,
                correlations: t.correlations,
                failed: t.errors.map(problem),
                warnings: t.warnings.map(problem),
              },
            ]),
        ),
      };
    },
  });

  book.add(app, {
    method: 'POST',
    url: '/api/v1/rules/reload',
    permission: 'manage',
    summary: 'Load the rules again without a restart',
    description:
      'Events keep being accepted while the rules load; rules that do not load are reported and left out.',
    tags: ['rules'],
    responses: { 200: { description: 'what was loaded', schema: { type: 'object' } } },
    handler: async (request) => {
      const status = await service.reloadRules(actorName(principalOf(request)));
      return {
        loaded_at: status.loadedAt,
        rules: status.global.rules,
        correlations: status.global.correlations,
        failed:
          status.global.errors.length + [...status.tenants.values()].reduce((n, t) => n + t.errors.length, 0),
      };
    },
  });

  book.add(app, {
    method: 'PUT',
    url: '/api/v1/rules/tenant/:file',
    permission: 'manage',
    summary: "Deploy one of a tenant's own rule files",
    description:
      "The file's text is checked as the loader checks rules (400 with every problem, its line and field, when it cannot be used), written into the tenant's rule folder, audited (`rule.save`) and loaded; in a cluster, every node gets it. A file of the same name is replaced.",
    tags: ['rules'],
    params: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
    body: {
      type: 'object',
      properties: {
        tenant: { type: 'string', description: "the tenant (a service-wide token's choice)" },
        text: { type: 'string', description: 'the rule file: one or more Sigma rules in YAML' },
      },
      required: ['text'],
      additionalProperties: false,
    },
    responses: {
      200: { description: 'the rules the file holds, deployed', schema: { type: 'object' } },
      400: { description: 'a file name or rule text that cannot be used', schema: errorSchema },
    },
    handler: async (request) => {
      const { file } = request.params as { file: string };
      const body = request.body as { tenant?: string; text: string };
      const tenant = scopeOf(request.principal, body.tenant);
      if (tenant === null)
        throw new ApiError(400, 'INVALID_REQUEST', "a service-wide token names the rules' tenant: tenant");
      if (!(await store.hasTenant(tenant)))
        throw new ApiError(404, 'UNKNOWN_TENANT', `no tenant '${tenant}'`);
      try {
        const { titles } = await service.saveTenantRule(
          tenant,
          file,
          body.text,
          actorName(principalOf(request)),
        );
        return { tenant, file, rules: titles };
      } catch (error) {
        if (error instanceof VigilError && (error.code === 'RULE_INVALID' || error.code === 'RULE_FILE_NAME'))
          throw new ApiError(400, error.code, error.message);
        throw error;
      }
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/audit',
    permission: 'manage',
    summary: 'The audit log, oldest first',
    tags: ['admin'],
    querystring: {
      type: 'object',
      properties: {
        after: { type: 'integer', minimum: 0, default: 0, description: 'entries after this sequence number' },
        limit: pageQuery.limit,
      },
    },
    responses: { 200: { description: 'entries', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, undefined);
      const { after, limit } = request.query as { after: number; limit: number };
      const entries = await store.auditEntries(after, limit);
      return {
        entries: entries
          .filter((e) => tenant === null || e.tenant === tenant)
          .map((e) => ({
            seq: e.seq,
            time: e.time,
            actor: e.actor,
            action: e.action,
            tenant: e.tenant,
            target: e.target,
            details: e.details,
            hash: e.hash,
          })),
        next: entries.length === limit ? entries.at(-1)!.seq : null,
      };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/audit/verify',
    permission: 'manage',
    summary: 'Check the audit hash chain',
    tags: ['admin'],
    responses: { 200: { description: 'the verdict', schema: { type: 'object' } } },
    handler: async (request) => {
      serviceWide(principalOf(request));
      const verdict = await store.verifyAudit();
      return {
        entries: verdict.entries,
        intact: verdict.broken === undefined,
        broken: verdict.broken ?? null,
      };
    },
  });
}
