import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prioritizeOptions } from '../assess/index.js';
import { describeError, VigilError } from '../core/index.js';
import { workerScript } from '../detect/index.js';
import { actorName, type DetectionService, tenantVulnDb } from '../service/index.js';
import { DEFAULT_EPSS_THRESHOLD, type Prioritized, prioritizeStored, VulnStore } from '../vuln/index.js';
import { type ConsoleOptions, sendPage, tenantChoice, uploadName, userOf } from './context.js';
import { html } from './html.js';
import { errorPage, page } from './layout.js';
import type { ScanMessage, ScanTask } from './scan-worker.js';
import { vulnsBody } from './vulns-page.js';

/** Bytes of a scanner file: a large Nessus export is tens of megabytes. */
const SCAN_LIMIT = 64 * 1024 ** 2;
const SCAN_FILE = /\.(nessus|xml|json|csv)$/i;

function parseOnThread(path: string): Promise<ScanMessage> {
  return new Promise((resolve) => {
    const task: ScanTask = { path };
    const worker = new Worker(workerScript(import.meta.url, 'console/scan-worker.js'), { workerData: task });
    const end = (message: ScanMessage) => {
      resolve(message);
      void worker.terminate();
    };
    worker.once('message', end);
    worker.once('error', (error) => end({ type: 'failed', message: describeError(error) }));
    worker.once('exit', (code) => end({ type: 'failed', message: `the scan's thread stopped (${code})` }));
  });
}

/** The vulnerabilities screen: a tenant's findings decided and ordered, and scanner files imported. */
export function registerVulns(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const dbOf = (tenant: string) => tenantVulnDb(service.options.dataDir, tenant);

  const findingsOf = (tenant: string): { findings: Prioritized[]; unavailable?: string } => {
    const store = VulnStore.open(dbOf(tenant));
    try {
      const decide = prioritizeOptions(
        options.content,
        undefined,
        DEFAULT_EPSS_THRESHOLD,
        undefined,
        () => undefined,
      );
      decide.today = new Date().toISOString().slice(0, 10);
      return { findings: prioritizeStored(store, decide, { all: true }) };
    } catch (error) {
      if (error instanceof VigilError) return { findings: [], unavailable: describeError(error) };
      throw error;
    } finally {
      store.close();
    }
  };

  const vulnsPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    messages: { notice?: string; problem?: string } = {},
  ) => {
    const user = userOf(request);
    if (user.scope === null) {
      return sendPage(
        reply,
        400,
        errorPage(400, 'Vulnerabilities are a tenant’s: pick one in the tenant list at the top first.', user),
      );
    }
    const { findings, unavailable } = findingsOf(user.scope);
    const imported = (request.query as { imported?: string }).imported;
    return sendPage(
      reply,
      status,
      page(
        {
          title: 'Vulnerabilities',
          screen: '/console/vulns',
          user,
          tenants: await tenantChoice(service, user),
          data: { page: 'vulns' },
        },
        vulnsBody({
          user,
          tenant: user.scope,
          findings,
          maxBytes: SCAN_LIMIT,
          unavailable,
          notice: messages.notice ?? (imported && `Imported: ${imported}.`),
          problem: messages.problem,
        }),
      ),
    );
  };

  scope.get('/vulns', async (request, reply) => vulnsPage(request, reply, 200));

  // The file comes as the request's body (the page's script sends it), its name in a header.
  scope.post('/vulns/import', { bodyLimit: SCAN_LIMIT }, async (request, reply) => {
    const user = userOf(request);
    const fail = (status: number, message: string) => sendPage(reply, status, html`${message}`);
    if (user.scope === null) return fail(400, 'Pick a tenant first.');
    if (!user.may('triage')) return fail(403, 'A viewer reads findings; an analyst imports scans.');
    const name = uploadName(request);
    if (!SCAN_FILE.test(name)) return fail(400, 'A scan is a .nessus, .xml, .json or .csv file.');
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) return fail(400, 'The file is empty.');
    const folder = mkdtempSync(join(tmpdir(), 'vigil-scan-'));
    const hide = (text: string) => text.replaceAll(`${folder}/`, '');
    try {
      const file = join(folder, name);
      writeFileSync(file, bytes);
      const parsed = await parseOnThread(file);
      if (parsed.type === 'failed') return fail(400, hide(parsed.message));
      // Recorded by the name the analyst knows it by, not the place it had here a moment.
      const scan = { ...parsed.scan, file: name };
      const store = VulnStore.open(dbOf(user.scope));
      let outcome: ReturnType<VulnStore['importScan']>;
      try {
        outcome = store.importScan(scan);
      } finally {
        store.close();
      }
      const { counts, alreadyImported } = outcome;
      await service.store.audit({
        actor: actorName(user.session.principal),
        action: 'vulns.import',
        tenant: user.scope,
        target: name,
        details: {
          format: scan.format,
          findings: scan.findings.length,
          ...counts,
          skipped: parsed.problems.length,
        },
      });
      const skipped = parsed.problems.length
        ? `, ${parsed.problems.length} entries skipped (first: ${hide(parsed.problems[0]!)})`
        : '';
      const said = alreadyImported
        ? `${name} was imported before (as ${alreadyImported.file}, ${alreadyImported.importedAt.slice(0, 10)}): nothing changed`
        : `${name} (${scan.format}): ${scan.findings.length} findings, ${counts.added} new, ${counts.seenAgain} seen again, ${counts.reopened} reopened, ${counts.fixed} fixed${skipped}`;
      return reply.redirect(`/console/vulns?imported=${encodeURIComponent(said)}`, 303);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
}
