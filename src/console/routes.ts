import type { FastifyInstance } from 'fastify';
import { describeError } from '../core/index.js';
import { allows, type DetectionService } from '../service/index.js';
import { registerAssess } from './assess-routes.js';
import { loadAssets } from './assets.js';
import {
  type ConsoleOptions,
  crossSite,
  type Form,
  field,
  SECURITY_HEADERS,
  sendPage,
  userOf,
} from './context.js';
import { registerCoverage } from './coverage-routes.js';
import { registerDetail } from './detail-routes.js';
import { registerHealth } from './health-routes.js';
import { errorPage } from './layout.js';
import { LiveStreams } from './live.js';
import { registerQueue } from './queue-routes.js';
import { registerRules } from './rules-routes.js';
import { clearCookie, consoleUser, cookies, SESSION_COOKIE, sameSecret } from './session.js';
import { registerSignIn } from './sign-in.js';
import { registerVulns } from './vulns-routes.js';

export type { ConsoleOptions } from './context.js';

const FORM_LIMIT = 64 * 1024;

export function registerConsole(
  app: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const store = service.store;
  const assets = loadAssets();

  app.get('/', async (_request, reply) => reply.redirect('/console/alerts', 303));

  void app.register(
    async (scope) => {
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: FORM_LIMIT },
        (_request, body, done) => {
          const form: Form = {};
          for (const [key, value] of new URLSearchParams(body as string)) {
            const before = form[key];
            form[key] =
              before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
          }
          done(null, form);
        },
      );

      // Files a page's script sends whole (an advisory, a scan): each route sets its own size limit.
      scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
        done(null, body),
      );

      scope.addHook('onRequest', async (request, reply) => {
        reply.headers(SECURITY_HEADERS);
        const access = request.routeOptions.config.console ?? 'page';
        if (access === 'public') return;
        const secret = cookies(request).get(SESSION_COOKIE);
        // What a page does by itself (the live stream, the rows it fetches) does not keep a session alive.
        const session = secret ? await store.session(secret, options.sessions, access === 'page') : undefined;
        if (session && allows(session.principal.role, 'read')) {
          request.consoleUser = consoleUser(session);
          return;
        }
        if (secret) clearCookie(reply, SESSION_COOKIE, options.secure);
        if (access === 'page' && request.method === 'GET') {
          return reply.redirect('/console/sign-in', 303);
        }
        return sendPage(reply, 401, errorPage(401, 'Your session has ended: sign in again.'));
      });

      // Every state-changing request carries the session's synchronizer token and comes from this site.
      scope.addHook('preHandler', async (request, reply) => {
        if (request.method !== 'POST' || request.routeOptions.config.console === 'public') return;
        const user = request.consoleUser;
        const sent =
          field(request.body as Form | undefined, '_csrf') ?? (request.headers['x-csrf-token'] as string);
        if (crossSite(request) || !user || !sameSecret(sent, user.session.csrf)) {
          return sendPage(
            reply,
            403,
            errorPage(
              403,
              'This form is out of date or was sent from another site: nothing was changed.',
              user,
            ),
          );
        }
      });

      scope.setErrorHandler((error, request, reply) => {
        const status = (error as { statusCode?: number }).statusCode;
        if (status && status < 500) {
          return sendPage(reply, status, errorPage(status, (error as Error).message, request.consoleUser));
        }
        options.log?.(`console request failed: ${request.method} ${request.url}: ${describeError(error)}`);
        return sendPage(
          reply,
          500,
          errorPage(500, 'The console could not answer; the service log says why.'),
        );
      });

      scope.setNotFoundHandler(async (request, reply) =>
        sendPage(reply, 404, errorPage(404, 'There is no such page.', request.consoleUser)),
      );

      scope.get('/assets/:name', { config: { console: 'public' } }, async (request, reply) => {
        const asset = assets.get((request.params as { name: string }).name);
        if (!asset) return sendPage(reply, 404, errorPage(404, 'There is no such file.'));
        return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
      });

      scope.get('/', async (_request, reply) => reply.redirect('/console/alerts', 303));

      registerSignIn(scope, service, options);
      registerQueue(scope, service);
      registerDetail(scope, service, options);
      registerRules(scope, service, options);
      registerCoverage(scope, service, options);
      registerAssess(scope, service, options);
      registerVulns(scope, service, options);
      registerHealth(scope, service);

      const live = new LiveStreams(service);
      scope.addHook('preClose', async () => live.closeAll());
      scope.get('/alerts/live', { config: { console: 'data' } }, async (request, reply) => {
        const user = userOf(request);
        const secret = cookies(request).get(SESSION_COOKIE)!;
        live.stream(
          request,
          reply,
          user,
          async () => (await store.session(secret, options.sessions, false)) !== undefined,
          SECURITY_HEADERS,
        );
      });
    },
    { prefix: '/console' },
  );
}
