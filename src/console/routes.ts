import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, VigilError } from '../core/index.js';
import {
  ALERT_STATUSES,
  type AlertStatus,
  actorName,
  allows,
  CLOSE_REASONS,
  type CloseReason,
  type DetectionService,
  hostTimeline,
  ruleSource,
  type SessionLimits,
  type TriageChange,
  triageAlert,
} from '../service/index.js';
import { loadAssets } from './assets.js';
import { detailBody } from './detail-page.js';
import { type Html, html } from './html.js';
import { errorPage, page } from './layout.js';
import { streamAlerts } from './live.js';
import { FilterError, PAGE_SIZE, parseQueueFilters, queueUrl, storeQuery } from './queue-filters.js';
import { alertRow, queueBody } from './queue-page.js';
import {
  type ConsoleUser,
  clearCookie,
  consoleUser,
  cookies,
  SESSION_COOKIE,
  SIGN_IN_COOKIE,
  sameSecret,
  setCookie,
} from './session.js';

export interface ConsoleOptions {
  /** Whether the listener is HTTPS: cookies are then marked Secure. */
  secure: boolean;
  sessions: SessionLimits;
  /** An ATT&CK technique's name, when the ATT&CK content is at hand. */
  techniqueName: (id: string) => string | undefined;
  /** Told of requests that failed on the server's side. */
  log?: (line: string) => void;
}

/** Who may reach a console route: anyone (sign-in, assets), or a session (pages and their data). */
type Access = 'public' | 'page' | 'data';

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
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: the browser would then send \`Origin: null\` with the console's own forms.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const FORM_LIMIT = 64 * 1024;
const BULK_MAX = 500;

type Form = Record<string, string | string[]>;

function field(form: Form | undefined, name: string): string | undefined {
  const value = form?.[name];
  return Array.isArray(value) ? value[0] : value;
}

function fields(form: Form | undefined, name: string): string[] {
  const value = form?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function sendPage(reply: FastifyReply, status: number, body: Html): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body.text);
}

function userOf(request: FastifyRequest): ConsoleUser {
  if (!request.consoleUser) throw new VigilError('UNAUTHENTICATED', 'sign in first');
  return request.consoleUser;
}

/** A request another site started, as far as the browser tells: refused before anything else is read. */
function crossSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

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

      scope.addHook('onRequest', async (request, reply) => {
        reply.headers(SECURITY_HEADERS);
        const access = request.routeOptions.config.console ?? 'page';
        if (access === 'public') return;
        const secret = cookies(request).get(SESSION_COOKIE);
        const session = secret ? await store.session(secret, options.sessions) : undefined;
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

      scope.get('/alerts/live', { config: { console: 'data' } }, async (request, reply) => {
        const user = userOf(request);
        const secret = cookies(request).get(SESSION_COOKIE)!;
        streamAlerts(
          request,
          reply,
          service,
          user,
          async () => (await store.session(secret, options.sessions)) !== undefined,
          SECURITY_HEADERS,
        );
      });
    },
    { prefix: '/console' },
  );
}

function registerSignIn(scope: FastifyInstance, service: DetectionService, options: ConsoleOptions): void {
  const store = service.store;
  const signInPage = (reply: FastifyReply, status: number, problem?: string) => {
    const nonce = randomBytes(24).toString('base64url');
    setCookie(reply, SIGN_IN_COOKIE, nonce, { secure: options.secure, maxAgeSeconds: 3600 });
    return sendPage(
      reply,
      status,
      page(
        { title: 'Sign in' },
        html`<section class="sign-in">
  <h1>Sign in</h1>
  <p>Paste an API token (<code>vigil admin token add</code> makes one). It is exchanged for a session of this browser; the token itself is not kept here.</p>
  ${problem && html`<p class="problem" role="alert" id="sign-in-problem">${problem}</p>`}
  <form method="post" action="/console/sign-in" id="sign-in">
    <input type="hidden" name="_signin" value="${nonce}">
    <label for="token">Token</label>
    <input type="password" name="token" id="token" autocomplete="off" required autofocus>
    <button type="submit">Sign in</button>
  </form>
</section>`,
      ),
    );
  };

  scope.get('/sign-in', { config: { console: 'public' } }, async (_request, reply) => signInPage(reply, 200));

  scope.post('/sign-in', { config: { console: 'public' } }, async (request, reply) => {
    const form = request.body as Form | undefined;
    if (
      crossSite(request) ||
      !sameSecret(field(form, '_signin'), cookies(request).get(SIGN_IN_COOKIE) ?? '')
    ) {
      return signInPage(reply, 403, 'This sign-in form is out of date or came from another site: try again.');
    }
    const token = field(form, 'token')?.trim() ?? '';
    const principal = token ? await store.authenticate(token) : undefined;
    if (!principal) return signInPage(reply, 401, 'This token is unknown or revoked.');
    if (!allows(principal.role, 'read')) {
      return signInPage(
        reply,
        403,
        `A ${principal.role} token cannot read alerts: use a viewer, analyst or admin token.`,
      );
    }
    const { secret } = await store.startSession(principal, options.sessions);
    clearCookie(reply, SIGN_IN_COOKIE, options.secure);
    setCookie(reply, SESSION_COOKIE, secret, {
      secure: options.secure,
      maxAgeSeconds: Math.floor(options.sessions.absoluteMs / 1000),
    });
    return reply.redirect('/console/alerts', 303);
  });

  scope.post('/sign-out', async (request, reply) => {
    const user = userOf(request);
    await store.endSession(user.session.id, actorName(user.session.principal), 'sign-out');
    clearCookie(reply, SESSION_COOKIE, options.secure);
    return reply.redirect('/console/sign-in', 303);
  });

  scope.post('/tenant', async (request, reply) => {
    const user = userOf(request);
    if (user.session.principal.tenant !== null) {
      return sendPage(reply, 403, errorPage(403, 'This token belongs to one tenant.', user));
    }
    const tenant = field(request.body as Form, 'tenant') || null;
    if (tenant !== null && !(await store.hasTenant(tenant))) {
      return sendPage(reply, 404, errorPage(404, 'There is no such tenant.', user));
    }
    await store.chooseSessionTenant(user.session.id, tenant);
    return reply.redirect('/console/alerts', 303);
  });
}

/** The tenants a service-wide principal may pick from; none to offer a tenant's own principal. */
async function tenantChoice(service: DetectionService, user: ConsoleUser): Promise<string[] | undefined> {
  if (user.session.principal.tenant !== null) return undefined;
  return (await service.store.tenants()).map((t) => t.name);
}

function registerQueue(scope: FastifyInstance, service: DetectionService): void {
  const store = service.store;

  const renderQueue = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    messages: { notice?: string; problem?: string } = {},
  ) => {
    const user = userOf(request);
    const query = request.query as Record<string, unknown>;
    let filters = parseQueueFilters({});
    let problem = messages.problem;
    try {
      filters = parseQueueFilters(query);
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      problem = error.message;
      status = 400;
    }
    const selection = storeQuery(filters, user.scope);
    const [facets, tenants] = await Promise.all([store.alertFacets(user.scope), tenantChoice(service, user)]);
    const alerts = filters.group ? undefined : await store.alerts(selection);
    const groups = filters.group
      ? await store.alertGroups({ ...selection, limit: 200 }, filters.group)
      : undefined;
    const triaged = Number(query.triaged);
    const refused = Number(query.refused);
    const notice =
      messages.notice ??
      (Number.isInteger(triaged) && triaged >= 0
        ? `${triaged} alert${triaged === 1 ? '' : 's'} changed${refused > 0 ? `, ${refused} not found` : ''}.`
        : undefined);
    const newest = alerts?.items.reduce((max, a) => Math.max(max, a.id), 0) ?? 0;
    return sendPage(
      reply,
      status,
      page(
        {
          title: 'Alerts',
          screen: '/console/alerts',
          user,
          tenants,
          data: {
            page: 'queue',
            newest: String(newest),
            // Live rows are added only to the first page of the newest-first list.
            live: filters.cursor || filters.group || filters.sort !== 'newest' ? 'count' : 'rows',
            filters: queueUrl(filters).split('?')[1] ?? '',
          },
        },
        queueBody({ user, filters, facets, alerts, groups, notice, problem }),
      ),
    );
  };

  scope.get('/alerts', async (request, reply) => renderQueue(request, reply, 200));

  // The rows of alerts newer than the page's newest that match its filters: what the live queue adds.
  scope.get('/alerts/rows', { config: { console: 'data' } }, async (request, reply) => {
    const user = userOf(request);
    const query = request.query as Record<string, unknown>;
    const after = Number(query.after);
    let filters: ReturnType<typeof parseQueueFilters>;
    try {
      filters = parseQueueFilters({ ...query, cursor: undefined, sort: undefined, group: undefined });
    } catch (error) {
      if (error instanceof FilterError) return sendPage(reply, 400, html`${error.message}`);
      throw error;
    }
    if (!Number.isSafeInteger(after) || after < 0)
      return sendPage(reply, 400, html`after must be an alert id`);
    const found = await store.alerts({
      ...storeQuery(filters, user.scope),
      afterId: after,
      limit: PAGE_SIZE,
    });
    return sendPage(reply, 200, html`${found.items.map((a) => alertRow(a, user))}`);
  });

  scope.post('/alerts/triage', async (request, reply) => {
    const user = userOf(request);
    const form = request.body as Form;
    if (!user.may('triage')) {
      return sendPage(
        reply,
        403,
        errorPage(403, `A ${user.session.principal.role} may read alerts, not triage them.`, user),
      );
    }
    const ids = fields(form, 'id')
      .map(Number)
      .filter((n) => Number.isSafeInteger(n) && n > 0);
    const back = field(form, 'return') ?? '/console/alerts';
    const returnTo = back.startsWith('/console/alerts') && !back.startsWith('//') ? back : '/console/alerts';
    if (ids.length === 0)
      return renderQueue(request, reply, 400, { problem: 'Select alerts first (x, or the boxes).' });
    if (ids.length > BULK_MAX) {
      return renderQueue(request, reply, 400, { problem: `At most ${BULK_MAX} alerts at once.` });
    }
    let change: TriageChange;
    try {
      change = bulkChange(form);
    } catch (error) {
      if (error instanceof VigilError) return renderQueue(request, reply, 400, { problem: error.message });
      throw error;
    }
    let done = 0;
    let refused = 0;
    for (const id of ids) {
      try {
        const updated = await triageAlert(store, user.scope, id, change, actorName(user.session.principal));
        if (updated) done++;
        else refused++;
      } catch (error) {
        if (error instanceof VigilError) return renderQueue(request, reply, 400, { problem: error.message });
        throw error;
      }
    }
    const separator = returnTo.includes('?') ? '&' : '?';
    return reply.redirect(`${returnTo}${separator}triaged=${done}&refused=${refused}`, 303);
  });
}

/** What a bulk action asks for, as a triage change. */
function bulkChange(form: Form): TriageChange {
  const action = field(form, 'action');
  const reason = field(form, 'close_reason') || undefined;
  const note = field(form, 'note')?.trim() || undefined;
  const assignee = field(form, 'assignee')?.trim();
  if (reason !== undefined && !CLOSE_REASONS.includes(reason as CloseReason)) {
    throw new VigilError('INVALID_REQUEST', 'Choose a close reason from the list.');
  }
  switch (action) {
    case 'acknowledge':
      return { status: 'acknowledged', note };
    case 'reopen':
      return { status: 'open', note };
    case 'close':
      if (!reason) throw new VigilError('INVALID_REQUEST', 'Closing needs a close reason.');
      return { status: 'closed', closeReason: reason as CloseReason, note };
    case 'assign':
      return { assignee: assignee ? assignee.slice(0, 200) : null, note };
    default:
      throw new VigilError('INVALID_REQUEST', 'Choose what to do with the selected alerts.');
  }
}

function registerDetail(scope: FastifyInstance, service: DetectionService, options: ConsoleOptions): void {
  const store = service.store;

  const renderDetail = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    messages: { notice?: string; problem?: string } = {},
  ) => {
    const user = userOf(request);
    const id = Number((request.params as { id: string }).id);
    const alert = Number.isSafeInteger(id) && id > 0 ? await store.alert(user.scope, id) : undefined;
    if (!alert) return sendPage(reply, 404, errorPage(404, 'There is no such alert here.', user));
    const first = alert.detections[0];
    const rule = service.ruleOf(alert.tenant, {
      id: alert.rule.id,
      title: alert.rule.title,
      file: first?.detection.rule.file,
    });
    const [hostAlerts, timeline, tenants] = await Promise.all([
      alert.host ? store.alerts({ tenant: alert.tenant, host: alert.host, limit: 20 }) : { items: [] },
      alert.host && first ? hostTimeline(service.events, alert.tenant, alert.host, first.seq) : [],
      tenantChoice(service, user),
    ]);
    const saved = (request.query as { saved?: string }).saved === '1';
    return sendPage(
      reply,
      status,
      page(
        { title: `Alert ${alert.id}`, screen: '/console/alerts', user, tenants, data: { page: 'detail' } },
        detailBody({
          user,
          alert,
          rule,
          ruleYaml: rule && ruleSource(rule),
          hostAlerts: hostAlerts.items,
          timeline,
          techniqueName: options.techniqueName,
          notice: messages.notice ?? (saved ? 'Saved.' : undefined),
          problem: messages.problem,
        }),
      ),
    );
  };

  scope.get('/alerts/:id', async (request, reply) => renderDetail(request, reply, 200));

  scope.post('/alerts/:id/triage', async (request, reply) => {
    const user = userOf(request);
    const id = Number((request.params as { id: string }).id);
    if (!user.may('triage')) {
      return sendPage(
        reply,
        403,
        errorPage(403, `A ${user.session.principal.role} may read alerts, not triage them.`, user),
      );
    }
    const form = request.body as Form;
    const status = field(form, 'status');
    const reason = field(form, 'close_reason') || undefined;
    if (status !== undefined && !ALERT_STATUSES.includes(status as AlertStatus)) {
      return renderDetail(request, reply, 400, { problem: 'Choose a status from the list.' });
    }
    if (reason !== undefined && !CLOSE_REASONS.includes(reason as CloseReason)) {
      return renderDetail(request, reply, 400, { problem: 'Choose a close reason from the list.' });
    }
    const assignee = field(form, 'assignee')?.trim();
    const change: TriageChange = {
      status: status as AlertStatus | undefined,
      closeReason: status === 'closed' ? (reason as CloseReason | undefined) : undefined,
      assignee: assignee === undefined ? undefined : assignee === '' ? null : assignee.slice(0, 200),
      note: field(form, 'note')?.trim().slice(0, 10_000) || undefined,
    };
    try {
      const updated =
        Number.isSafeInteger(id) && id > 0
          ? await triageAlert(service.store, user.scope, id, change, actorName(user.session.principal))
          : undefined;
      if (!updated) return sendPage(reply, 404, errorPage(404, 'There is no such alert here.', user));
    } catch (error) {
      if (error instanceof VigilError) return renderDetail(request, reply, 400, { problem: error.message });
      throw error;
    }
    return reply.redirect(`/console/alerts/${id}?saved=1`, 303);
  });
}
