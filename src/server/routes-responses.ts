import type { FastifyInstance } from 'fastify';
import { VigilError } from '../core/index.js';
import {
  actorName,
  type DetectionService,
  playbookChoices,
  ResponseConflict,
  type ResponseRecord,
} from '../service/index.js';
import { errorSchema, type RouteBook, type Schema } from './api.js';
import { ApiError } from './app.js';
import { principalOf, scopeOf } from './scope.js';

const idParams: Schema = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1 } },
  required: ['id'],
};

export function responseView(r: ResponseRecord) {
  return {
    id: r.id,
    tenant: r.tenant,
    alert_id: r.alertId,
    playbook: r.playbook,
    step: r.step,
    action: r.action,
    mode: r.mode,
    state: r.state,
    params: r.params,
    request: r.request,
    result: r.result,
    error: r.error,
    facts: r.facts,
    attempts: r.attempts,
    revert_at: r.revertAt === null ? null : new Date(r.revertAt).toISOString(),
    expires_at: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
    decided_by: r.decidedBy,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

const responseSchema: Schema = { type: 'object', description: 'one step of a playbook run on an alert' };

export function registerResponseRoutes(
  app: FastifyInstance,
  book: RouteBook,
  service: DetectionService,
): void {
  book.add(app, {
    method: 'GET',
    url: '/api/v1/alerts/:id/responses',
    permission: 'read',
    summary: "The response steps of an alert's playbooks: planned, awaiting approval, done, reverted ...",
    tags: ['response'],
    params: idParams,
    responses: {
      200: { description: 'the steps', schema: { type: 'object' } },
      404: { description: 'no such alert for this token', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const tenant = scopeOf(request.principal, undefined);
      if (!(await service.store.alert(tenant, id))) throw new ApiError(404, 'NOT_FOUND', `no alert ${id}`);
      return { responses: (await service.store.responses(tenant, id)).map(responseView) };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/alerts/:id/playbooks',
    permission: 'read',
    summary: 'The playbooks that could run on an alert: whether each applies, and why not',
    description:
      'Every playbook loaded but those meant for other tenants only, with `applies` (its trigger holds for the alert) and otherwise `reason`.',
    tags: ['response'],
    params: idParams,
    responses: {
      200: { description: 'the playbooks', schema: { type: 'object' } },
      404: { description: 'no such alert for this token', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const alert = await service.store.alert(scopeOf(request.principal, undefined), id);
      if (!alert) throw new ApiError(404, 'NOT_FOUND', `no alert ${id}`);
      return { playbooks: playbookChoices(service.responder.playbooks, alert) };
    },
  });

  book.add(app, {
    method: 'POST',
    url: '/api/v1/alerts/:id/respond',
    permission: 'triage',
    summary: 'Run a playbook on an alert by hand: plan it (dry run) or carry it out',
    description:
      'Runs the playbook named (any loaded but one meant for other tenants only, whether its trigger holds or not), or with no name every playbook whose trigger holds. Lookups and decisions are made at once; with `dry_run` every action step is planned only, otherwise steps in approval mode wait for an analyst and auto steps act. The analyst who sends it is the one the audit log names.',
    tags: ['response'],
    params: idParams,
    body: {
      type: 'object',
      properties: {
        playbook: { type: 'string', maxLength: 200 },
        dry_run: { type: 'boolean', description: 'plan only: nothing is sent (default false)' },
      },
      additionalProperties: false,
    },
    responses: {
      200: { description: 'the steps of the playbooks run, as they are now', schema: { type: 'object' } },
      404: { description: 'no such alert for this token, or no such playbook', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const body = (request.body ?? {}) as { playbook?: string; dry_run?: boolean };
      const tenant = scopeOf(request.principal, undefined);
      try {
        const records = await service.responder.run(tenant, id, actorName(principalOf(request)), {
          playbook: body.playbook,
          ceiling: body.dry_run ? 'dry-run' : 'auto',
        });
        return { responses: records.map(responseView) };
      } catch (error) {
        if (
          error instanceof VigilError &&
          (error.code === 'ALERT_NOT_FOUND' || error.code === 'PLAYBOOK_NOT_FOUND')
        )
          throw new ApiError(404, error.code === 'ALERT_NOT_FOUND' ? 'NOT_FOUND' : error.code, error.message);
        throw error;
      }
    },
  });

  const decision = (verb: 'approve' | 'reject' | 'release', summary: string) =>
    book.add(app, {
      method: 'POST',
      url: `/api/v1/responses/:id/${verb}`,
      permission: 'triage',
      summary,
      description: 'The analyst who sends it is the one the audit log names.',
      tags: ['response'],
      params: idParams,
      responses: {
        200: { description: 'the step as it is now', schema: responseSchema },
        404: { description: 'no such step for this token', schema: errorSchema },
        409: { description: 'the step is not in a state this applies to', schema: errorSchema },
      },
      handler: async (request) => {
        const { id } = request.params as { id: number };
        const tenant = scopeOf(request.principal, undefined);
        const actor = actorName(principalOf(request));
        try {
          const record =
            verb === 'release'
              ? await service.responder.release(tenant, id, actor)
              : await service.responder.decide(tenant, id, verb === 'approve', actor);
          if (!record) throw new ApiError(404, 'NOT_FOUND', `no response ${id}`);
          return responseView(record);
        } catch (error) {
          if (error instanceof ResponseConflict) throw new ApiError(409, error.code, error.message);
          throw error;
        }
      },
    });
  decision('approve', 'Approve a step waiting for approval: it is carried out at once');
  decision('reject', 'Reject a step waiting for approval: it is recorded as rejected and not carried out');
  decision('release', 'Revert a containment before its time to live ends (unblock, enable again)');
}
