import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../core/index.js';
import {
  actorName,
  CLOSE_REASONS,
  type CloseReason,
  type DetectionService,
  type TriageChange,
  triageAlert,
} from '../service/index.js';
import { type Form, field, fields, sendPage, tenantChoice, userOf } from './context.js';
import { html } from './html.js';
import { errorPage, page } from './layout.js';
import { FilterError, PAGE_SIZE, parseQueueFilters, queueUrl, storeQuery } from './queue-filters.js';
import { alertRow, queueBody } from './queue-page.js';

const BULK_MAX = 500;

/** The alert queue, the rows the live queue adds, and bulk triage. */
export function registerQueue(scope: FastifyInstance, service: DetectionService): void {
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
