import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Permission, Principal } from '../service/index.js';

/** A JSON schema, as Fastify validates with it and OpenAPI 3.1 shows it. */
export type Schema = Record<string, unknown>;

export interface RouteSpec {
  method: HTTPMethods;
  url: string;
  /** What the token must allow; null: no token needed. */
  permission: Permission | null;
  summary: string;
  description?: string;
  tags: string[];
  querystring?: Schema;
  params?: Schema;
  body?: Schema;
  /** Content types the body may have besides JSON (documented; parsers are registered apart). */
  bodyTypes?: string[];
  /** Status code -> description and schema of the answer. */
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
  bodyLimit?: number;
  /** Reads `request.principal` (set once the token is checked) and the validated input. */
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission | null;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Registers a route and remembers it for the OpenAPI document: the two cannot drift apart. */
export class RouteBook {
  readonly routes: RouteSpec[] = [];

  add(app: FastifyInstance, spec: RouteSpec): void {
    this.routes.push(spec);
    app.route({
      method: spec.method,
      url: spec.url,
      bodyLimit: spec.bodyLimit,
      config: { permission: spec.permission },
      schema: {
        ...(spec.querystring && { querystring: spec.querystring }),
        ...(spec.params && { params: spec.params }),
        ...(spec.body && { body: spec.body }),
      },
      handler: spec.handler,
    });
  }
}

export const errorSchema: Schema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

/** The OpenAPI 3.1 document of the routes registered. */
export function openApiDocument(book: RouteBook, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of book.routes) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['query', route.querystring],
      ['path', route.params],
    ] as const) {
      const properties = (schema?.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema?.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries(properties)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          description: property.description,
          schema: property,
        });
      }
    }
    const operation: Record<string, unknown> = {
      summary: route.summary,
      description: route.description,
      tags: route.tags,
      parameters,
      security: route.permission === null ? [] : [{ bearer: [] }],
      'x-vigil-permission': route.permission,
      responses: Object.fromEntries(
        Object.entries<{ description: string; schema?: Schema; contentType?: string }>({
          ...route.responses,
          ...(route.permission !== null && {
            401: { description: 'no token, or an unknown or revoked one', schema: errorSchema },
            403: { description: 'the token may not do this, or not for this tenant', schema: errorSchema },
          }),
        }).map(([code, r]) => [
          code,
          {
            description: r.description,
            ...(r.schema && { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } }),
          },
        ]),
      ),
    };
    if (route.body) {
      const types = ['application/json', ...(route.bodyTypes ?? [])];
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          types.map((type) => [type, { schema: type === 'application/json' ? route.body : {} }]),
        ),
      };
    } else if (route.bodyTypes) {
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(route.bodyTypes.map((type) => [type, { schema: {} }])),
      };
    }
    for (const method of [route.method].flat()) {
      paths[path] ??= {};
      paths[path]![method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigil detection service',
      version,
      description:
        'Events in, Sigma detections and alerts out, per tenant. Every call needs `Authorization: Bearer TOKEN`; lists page with `limit` and `cursor`.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
