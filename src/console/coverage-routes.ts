import type { FastifyInstance } from 'fastify';
import { describeError } from '../core/index.js';
import type { DetectionService } from '../service/index.js';
import { type ConsoleOptions, sendPage, tenantChoice, userOf } from './context.js';
import { coverageBody } from './coverage-page.js';
import type { CoverageSnapshot } from './coverage-worker.js';
import { errorPage, page } from './layout.js';
import { CoverageCache } from './tenant-coverage.js';

const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

/** The tenant's ATT&CK matrix, a technique's detail, and the backlog. */
export function registerCoverage(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const cache = new CoverageCache(service, options.content);

  scope.get('/coverage', async (request, reply) => {
    const user = userOf(request);
    const tenants = await tenantChoice(service, user);
    if (user.scope === null) {
      return sendPage(
        reply,
        400,
        errorPage(400, 'Coverage is a tenant’s: pick one in the tenant list at the top first.', user),
      );
    }
    const asked = ((request.query as { technique?: string }).technique ?? '').trim().toUpperCase();
    if (asked && !TECHNIQUE_ID.test(asked)) {
      return sendPage(reply, 400, errorPage(400, 'A technique is written T1234 or T1234.001.', user));
    }
    let coverage: CoverageSnapshot;
    try {
      coverage = await cache.get(user.scope);
    } catch (error) {
      options.log?.(`coverage of ${user.scope} failed: ${describeError(error)}`);
      return sendPage(
        reply,
        503,
        errorPage(503, `The coverage cannot be computed now: ${describeError(error).split('\n')[0]}`, user),
      );
    }
    const selected = asked ? coverage.report.techniques.find((t) => t.id === asked) : undefined;
    return sendPage(
      reply,
      200,
      page(
        { title: 'Coverage', screen: '/console/coverage', user, tenants, data: { page: 'coverage' } },
        coverageBody({
          tenant: user.scope,
          run: coverage,
          selected,
          unknown: asked && !selected ? asked : undefined,
          problems: coverage.problems,
        }),
      ),
    );
  });
}
