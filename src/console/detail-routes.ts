import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../core/index.js';
import { ACTIONS } from '../respond/index.js';
import {
  ALERT_STATUSES,
  type AlertStatus,
  actorName,
  CLOSE_REASONS,
  type CloseReason,
  type DetectionService,
  hostTimeline,
  playbookChoices,
  ResponseConflict,
  ruleSource,
  type TriageChange,
  triageAlert,
} from '../service/index.js';
import { type ConsoleOptions, type Form, field, sendPage, tenantChoice, userOf } from './context.js';
import { detailBody } from './detail-page.js';
import { errorPage, page } from './layout.js';

/** An alert's page and its triage form. */
export function registerDetail(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
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
    const [hostAlerts, timeline, tenants, responses] = await Promise.all([
      alert.host ? store.alerts({ tenant: alert.tenant, host: alert.host, limit: 20 }) : { items: [] },
      alert.host && first ? hostTimeline(service.events, alert.tenant, alert.host, first.seq) : [],
      tenantChoice(service, user),
      store.responses(alert.tenant, alert.id),
    ]);
    const query = request.query as { saved?: string; ran?: string };
    const ran =
      query.ran === 'dry-run'
        ? 'Planned: nothing was sent. The steps below show what a run would do.'
        : query.ran === 'run'
          ? 'The playbook ran: its steps are below.'
          : undefined;
    const saved = query.saved === '1';
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
          responses,
          playbooks: playbookChoices(service.responder.playbooks, alert),
          revertible: (action) => ACTIONS[action]?.revertible ?? false,
          techniqueName: options.techniqueName,
          notice: messages.notice ?? ran ?? (saved ? 'Saved.' : undefined),
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

  // A playbook run by hand from the alert page: a dry run plans it, a run carries it out.
  scope.post('/alerts/:id/respond', async (request, reply) => {
    const user = userOf(request);
    const id = Number((request.params as { id: string }).id);
    if (!user.may('triage'))
      return sendPage(
        reply,
        403,
        errorPage(403, `A ${user.session.principal.role} may not run playbooks.`, user),
      );
    const form = request.body as Form;
    const playbook = field(form, 'playbook') ?? '';
    const dryRun = field(form, 'run') === 'dry-run';
    const alert = Number.isSafeInteger(id) && id > 0 ? await store.alert(user.scope, id) : undefined;
    if (!alert) return sendPage(reply, 404, errorPage(404, 'There is no such alert here.', user));
    if (!playbookChoices(service.responder.playbooks, alert).some((p) => p.name === playbook))
      return renderDetail(request, reply, 400, { problem: 'Choose a playbook from the list.' });
    try {
      await service.responder.run(user.scope, id, actorName(user.session.principal), {
        playbook,
        ceiling: dryRun ? 'dry-run' : 'auto',
      });
    } catch (error) {
      if (error instanceof VigilError) return renderDetail(request, reply, 400, { problem: error.message });
      throw error;
    }
    return reply.redirect(`/console/alerts/${id}?ran=${dryRun ? 'dry-run' : 'run'}`, 303);
  });

  // An analyst's answer to a response step: approve, reject, or release a containment early.
  for (const verb of ['approve', 'reject', 'release'] as const) {
    scope.post(`/responses/:id/${verb}`, async (request, reply) => {
      const user = userOf(request);
      const id = Number((request.params as { id: string }).id);
      if (!user.may('triage'))
        return sendPage(
          reply,
          403,
          errorPage(403, `A ${user.session.principal.role} may not answer responses.`, user),
        );
      const record = Number.isSafeInteger(id) && id > 0 ? await store.response(user.scope, id) : undefined;
      if (!record) return sendPage(reply, 404, errorPage(404, 'There is no such response step here.', user));
      const actor = actorName(user.session.principal);
      try {
        if (verb === 'release') await service.responder.release(user.scope, id, actor);
        else await service.responder.decide(user.scope, id, verb === 'approve', actor);
      } catch (error) {
        if (error instanceof ResponseConflict) {
          (request.params as { id: string }).id = String(record.alertId);
          return renderDetail(request, reply, 409, { problem: error.message });
        }
        throw error;
      }
      return reply.redirect(`/console/alerts/${record.alertId}?saved=1`, 303);
    });
  }
}
