import type { FastifyInstance } from 'fastify';
import type { DetectionService } from '../service/index.js';
import { sendPage, tenantChoice, userOf } from './context.js';
import { HealthSampler } from './health.js';
import { healthBody } from './health-page.js';
import { page } from './layout.js';

/** The health screen: events per second, lag, rule errors and storage, as small charts. */
export function registerHealth(scope: FastifyInstance, service: DetectionService): void {
  const sampler = new HealthSampler(service);
  scope.addHook('onClose', async () => sampler.stop());

  scope.get('/health', async (request, reply) => {
    const user = userOf(request);
    return sendPage(
      reply,
      200,
      page(
        {
          title: 'Health',
          screen: '/console/health',
          user,
          tenants: await tenantChoice(service, user),
          data: { page: 'health' },
        },
        healthBody(await sampler.figures(user.scope)),
      ),
    );
  });
}
