import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerConsole } from '../console/index.js';
import { describeError, VigilError } from '../core/index.js';
import { allows, Backpressure, BodyTooLarge, type DetectionService } from '../service/index.js';
import { openApiDocument, RouteBook } from './api.js';
import { registerAdminRoutes } from './routes-admin.js';
import { registerAlertRoutes } from './routes-alerts.js';
import { registerEventRoutes } from './routes-events.js';
import { registerHuntRoutes } from './routes-hunts.js';
import { registerIndicatorRoutes } from './routes-indicators.js';
import { registerOtlpRoutes } from './routes-otlp.js';
import { registerResponseRoutes } from './routes-responses.js';
import { registerStatusRoutes } from './routes-status.js';

export interface ServerOptions {
  version: string;
  /** TLS for the listener: PEM contents. With `ca`, clients must present a certificate it signed. */
  https?: { key: Buffer; cert: Buffer; ca?: Buffer };
  /** Told of requests that failed on the server's side. */
  log?: (line: string) => void;
  /** An ATT&CK technique's name for the console, when the ATT&CK content is at hand. */
  techniqueName?: (id: string) => string | undefined;
  /** The content folder named on the command line, for the console's coverage and assessments. */
  content?: string;
}

/** An error with the HTTP status and stable code the API answers with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Record<string, number> = {
  INVALID_RULE: 400,
  INVALID_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_TENANT_NAME: 400,
  TENANT_EXISTS: 409,
  UNKNOWN_TENANT: 404,
  // The event log could not store the events: nothing was acknowledged, the sender may retry.
  EVENT_LOG_WRITE: 503,
  EVENT_LOG_UNAVAILABLE: 503,
};

/**
 * The HTTP face of a detection service: authentication, tenant scoping and validation at the
 * edge, then one call into the service or its store per route.
 */
export async function buildServer(
  service: DetectionService,
  options: ServerOptions,
): Promise<FastifyInstance> {
  const fastifyOptions: FastifyServerOptions & { https?: unknown } = {
    logger: false,
    // Ingest bodies are limited per route; this is for every other route.
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
    ...(options.https && {
      https: {
        key: options.https.key,
        cert: options.https.cert,
        ...(options.https.ca && { ca: options.https.ca, requestCert: true, rejectUnauthorized: true }),
      },
    }),
  };
  const app = Fastify(fastifyOptions as FastifyServerOptions);

  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (permission === null || permission === undefined) return;
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const principal = token ? await service.store.authenticate(token) : undefined;
    if (!principal) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        token ? 'unknown or revoked token' : 'send Authorization: Bearer TOKEN',
      );
    }
    if (!allows(principal.role, permission)) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        `${principal.role === 'admin' || principal.role === 'analyst' || principal.role === 'ingest' ? 'an' : 'a'} ${principal.role} token may not do this (it needs the '${permission}' permission)`,
      );
    }
    request.principal = principal;
  });

  app.setErrorHandler((error, request, reply) => {
    const send = (status: number, code: string, message: string) =>
      reply.status(status).send({ error: { code, message } });
    if (error instanceof ApiError) return send(error.status, error.code, error.message);
    if (error instanceof BodyTooLarge) return send(413, 'TOO_LARGE', error.message);
    if (error instanceof Backpressure) {
      reply.header('Retry-After', String(error.retryAfterSeconds));
      return send(429, 'BACKLOG', error.message);
    }
    if (error instanceof VigilError) {
      const status = STATUS_OF_CODE[error.code] ?? 400;
      if (status === 503) reply.header('Retry-After', '5');
      return send(status, error.code, describeError(error));
    }
    const fastifyError = error as {
      code?: string;
      statusCode?: number;
      validation?: unknown;
      message: string;
    };
    if (fastifyError.validation) return send(400, 'INVALID_REQUEST', fastifyError.message);
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit;
      return send(413, 'TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`);
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return send(fastifyError.statusCode, fastifyError.code ?? 'BAD_REQUEST', fastifyError.message);
    }
    options.log?.(`request failed: ${request.method} ${request.url}: ${describeError(error)}`);
    return send(500, 'INTERNAL', 'the service could not answer; its log says why');
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );

  const book = new RouteBook();
  registerEventRoutes(app, book, service);
  registerOtlpRoutes(app, book, service);
  registerAlertRoutes(app, book, service);
  registerAdminRoutes(app, book, service);
  registerHuntRoutes(app, book, service);
  registerIndicatorRoutes(app, book, service);
  registerResponseRoutes(app, book, service);
  registerStatusRoutes(app, book, service, () => openApiDocument(book, options.version));
  const consoleConfig = service.options.config.console;
  registerConsole(app, service, {
    secure: options.https !== undefined,
    sessions: { idleMs: consoleConfig.sessionIdleMs, absoluteMs: consoleConfig.sessionMaxMs },
    techniqueName: options.techniqueName ?? (() => undefined),
    log: options.log,
    content: options.content,
  });
  return app;
}
