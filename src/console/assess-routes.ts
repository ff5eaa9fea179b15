import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorName, type DetectionService } from '../service/index.js';
import { assessBody, jobBody } from './assess-page.js';
import { Assessments } from './assessments.js';
import {
  type ConsoleOptions,
  type Form,
  field,
  sendPage,
  tenantChoice,
  uploadName,
  userOf,
} from './context.js';
import { html } from './html.js';
import { errorPage, page } from './layout.js';

/** Bytes of an uploaded advisory: a long PDF report is a few megabytes. */
const UPLOAD_LIMIT = 32 * 1024 ** 2;
const ADVISORY_FILE = /\.(txt|md|html?|pdf|json)$/i;

/**
 * The report is a standalone page with its own inline style: served apart, framed only by the
 * console, in a sandbox where nothing in it runs (its own CSP allows no script at all).
 */
const REPORT_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
  'x-frame-options': 'SAMEORIGIN',
};

/** The assessment screen: an advisory (file or URL) assessed for the tenant, and its report. */
export function registerAssess(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const assessments = new Assessments(service, options.content, options.log);
  scope.addHook('preClose', async () => assessments.close());
  const limit = Math.min(UPLOAD_LIMIT, service.options.config.fetch.maxBytes);

  const assessPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    problem?: string,
  ) => {
    const user = userOf(request);
    const tenant = user.scope;
    if (tenant === null) {
      return sendPage(
        reply,
        400,
        errorPage(400, 'An assessment is for a tenant: pick one in the tenant list at the top first.', user),
      );
    }
    return sendPage(
      reply,
      status,
      page(
        {
          title: 'Assessment',
          screen: '/console/assess',
          user,
          tenants: await tenantChoice(service, user),
          data: { page: 'assess' },
        },
        assessBody({ user, tenant, jobs: assessments.list(tenant), maxBytes: limit, problem }),
      ),
    );
  };

  scope.get('/assess', async (request, reply) => assessPage(request, reply, 200));

  // The file comes as the request's body (the page's script sends it), its name in a header.
  scope.post('/assess/upload', { bodyLimit: limit }, async (request, reply) => {
    const user = userOf(request);
    const tenant = user.scope;
    const fail = (status: number, message: string) => sendPage(reply, status, html`${message}`);
    if (tenant === null) return fail(400, 'Pick a tenant first.');
    if (!user.may('triage')) return fail(403, 'A viewer reads; an analyst assesses advisories.');
    const base = uploadName(request);
    if (!ADVISORY_FILE.test(base)) {
      return fail(400, 'An advisory is a .txt, .md, .html, .pdf or .json (STIX) file.');
    }
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) return fail(400, 'The file is empty.');
    const job = assessments.start(
      tenant,
      { kind: 'file', name: base, bytes },
      actorName(user.session.principal),
    );
    return reply.redirect(`/console/assess/${job.id}`, 303);
  });

  scope.post('/assess/url', async (request, reply) => {
    const user = userOf(request);
    const tenant = user.scope;
    if (tenant === null) return assessPage(request, reply, 400);
    if (!user.may('triage'))
      return assessPage(request, reply, 403, 'A viewer reads; an analyst assesses advisories.');
    const url = (field(request.body as Form, 'url') ?? '').trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
      return assessPage(request, reply, 400, 'Give an http or https URL.');
    }
    const job = assessments.start(
      tenant,
      { kind: 'url', url: parsed.href },
      actorName(user.session.principal),
    );
    return reply.redirect(`/console/assess/${job.id}`, 303);
  });

  scope.get('/assess/:id', async (request, reply) => {
    const user = userOf(request);
    const job = assessments.get(user.scope, (request.params as { id: string }).id);
    if (!job) return sendPage(reply, 404, errorPage(404, 'There is no such assessment here.', user));
    return sendPage(
      reply,
      200,
      page(
        {
          title: 'Assessment',
          screen: '/console/assess',
          user,
          tenants: await tenantChoice(service, user),
          data: { page: 'assessment', ...(job.status === 'running' && { refresh: '1000' }) },
        },
        jobBody(job),
      ),
    );
  });

  scope.get('/assess/:id/report', async (request, reply) => {
    const user = userOf(request);
    const job = assessments.get(user.scope, (request.params as { id: string }).id);
    const report = job && assessments.report(job);
    if (!report) return sendPage(reply, 404, errorPage(404, 'There is no such report here.', user));
    return reply.headers(REPORT_HEADERS).type('text/html; charset=utf-8').send(report);
  });
}
