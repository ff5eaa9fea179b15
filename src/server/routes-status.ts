import type { FastifyInstance } from 'fastify';
import type { DetectionService } from '../service/index.js';
import type { RouteBook } from './api.js';
import { pageQuery, scopeOf } from './scope.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function registerStatusRoutes(
  app: FastifyInstance,
  book: RouteBook,
  service: DetectionService,
  openApi: () => Record<string, unknown>,
): void {
  const store = service.store;
  const accepted = (tenant: string | null) =>
    tenant === null
      ? service.events.tenants().reduce((sum, t) => sum + service.events.head(t), 0)
      : service.events.head(tenant);

  book.add(app, {
    method: 'GET',
    url: '/api/v1/stats',
    permission: 'read',
    summary: "Events accepted and processed, detections and alerts, for the token's tenants",
    description: 'When `processed` equals `accepted`, detection has seen every event acknowledged so far.',
    tags: ['status'],
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: {
      200: {
        description: 'counts',
        schema: {
          type: 'object',
          properties: {
            accepted: { type: 'integer' },
            processed: { type: 'integer' },
            detections: { type: 'integer' },
            alerts: { type: 'integer' },
          },
        },
      },
    },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, (request.query as { tenant?: string }).tenant);
      const stats = await store.stats(tenant);
      return { accepted: accepted(tenant), ...stats };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/health',
    permission: 'read',
    summary: 'Whether the service works, and how far behind detection is',
    tags: ['status'],
    responses: { 200: { description: 'healthy', schema: { type: 'object' } } },
    handler: async () => ({
      status: 'ok',
      backlog: service.backlog,
      rules_loaded_at: service.rulesStatus().loadedAt,
    }),
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/openapi.json',
    permission: 'read',
    summary: 'This API, described as OpenAPI 3.1',
    tags: ['status'],
    responses: { 200: { description: 'the OpenAPI document', schema: { type: 'object' } } },
    handler: async () => openApi(),
  });

  book.add(app, {
    method: 'GET',
    url: '/metrics',
    permission: 'read',
    summary: 'Prometheus metrics',
    tags: ['status'],
    responses: {
      200: {
        description: 'metrics in the Prometheus text format',
        contentType: 'text/plain',
        schema: { type: 'string' },
      },
    },
    handler: async (request, reply) => {
      const tenant = scopeOf(request.principal, undefined);
      const lines: string[] = [];
      const metric = (
        name: string,
        type: string,
        help: string,
        samples: [Record<string, string>, number][],
      ) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of samples) {
          const text = Object.entries(labels)
            .map(([k, v]) => `${k}="${label(v)}"`)
            .join(',');
          lines.push(`${name}${text ? `{${text}}` : ''} ${value}`);
        }
      };
      const bySource = (counts: Map<string, number>) =>
        [...counts]
          .map(([key, n]) => [key.split('\0'), n] as const)
          .filter(([[t]]) => tenant === null || t === tenant)
          .map(
            ([[t, source], n]) => [{ tenant: t!, source: source! }, n] as [Record<string, string>, number],
          );
      metric(
        'vigil_events_accepted_total',
        'counter',
        'Events accepted since start, by tenant and input.',
        bySource(service.accepted),
      );
      metric(
        'vigil_events_rejected_total',
        'counter',
        'Events rejected since start, by tenant and input.',
        bySource(service.rejected),
      );
      const tenants = service.events.tenants().filter((t) => tenant === null || t === tenant);
      const positions = await Promise.all(tenants.map(async (t) => [t, await store.position(t)] as const));
      metric(
        'vigil_events_processed',
        'gauge',
        "Position up to which detection has processed each tenant's event log.",
        positions.map(([t, p]) => [{ tenant: t }, p]),
      );
      metric(
        'vigil_detection_lag_events',
        'gauge',
        'Events accepted and not yet processed, by tenant.',
        positions.map(([t, p]) => [{ tenant: t }, service.events.head(t) - p]),
      );
      metric(
        'vigil_correlation_late_total',
        'counter',
        'Matches left out of correlation for coming later than the lateness allows, by tenant.',
        [...service.lateMatches()]
          .filter(([t]) => tenant === null || t === tenant)
          .map(([t, n]) => [{ tenant: t }, n]),
      );
      const counters = service.counters;
      if (tenant === null) {
        metric('vigil_events_evaluated_total', 'counter', 'Events run through the rules since start.', [
          [{}, counters.events],
        ]);
        metric('vigil_detections_total', 'counter', 'Detections stored since start.', [
          [{}, counters.detections],
        ]);
        metric(
          'vigil_detections_suppressed_total',
          'counter',
          'Detections a suppression kept out of alerts since start.',
          [[{}, counters.suppressed]],
        );
        metric(
          'vigil_event_errors_total',
          'counter',
          'Stored events that could not be evaluated since start.',
          [[{}, counters.eventErrors]],
        );
        const stages = service.stageSeconds();
        metric(
          'vigil_stage_seconds_total',
          'counter',
          'Seconds spent since start in each stage: log_append (ingest, summed over requests), log_read, detection_threads (summed over threads), detection_wait (for the threads), store_commit, correlation_snapshot (writing correlation state out to save it).',
          [
            [{ stage: 'log_append' }, stages.logAppend],
            [{ stage: 'log_read' }, stages.logRead],
            [{ stage: 'detection_threads' }, stages.detectionThreads],
            [{ stage: 'detection_wait' }, stages.detectionWait],
            [{ stage: 'store_commit' }, stages.storeCommit],
            [{ stage: 'correlation_snapshot' }, stages.correlationSnapshot],
          ],
        );
        const rules = service.rulesStatus();
        metric('vigil_rule_errors', 'gauge', 'Rules that could not be loaded, global and per tenant.', [
          [{ scope: 'global' }, rules.global.errors.length],
          ...[...rules.tenants].map(
            ([t, s]) => [{ scope: t }, s.errors.length] as [Record<string, string>, number],
          ),
        ]);
        const memory = process.memoryUsage();
        metric('vigil_process_resident_memory_bytes', 'gauge', 'Resident memory of the service process.', [
          [{}, memory.rss],
        ]);
        metric('vigil_process_heap_used_bytes', 'gauge', 'JavaScript heap in use on the main thread.', [
          [{}, memory.heapUsed],
        ]);
      }
      const counts = await store.alertCounts(tenant);
      metric(
        'vigil_alerts',
        'gauge',
        'Alerts by status.',
        Object.entries(counts).map(([status, n]) => [{ status }, n]),
      );
      reply.type('text/plain; version=0.0.4');
      return `${lines.join('\n')}\n`;
    },
  });
}
