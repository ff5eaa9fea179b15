import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAssessment } from '../assess/index.js';
import { describeError } from '../core/index.js';
import { renderHtml } from '../report/index.js';
import type { DetectionService } from '../service/index.js';
import { tenantInventory } from './tenant-coverage.js';

/** Assessments kept per tenant to look at again (in memory: a restart forgets them). */
const KEPT_PER_TENANT = 20;

/** An advisory as the analyst gave it: a file's bytes, or a URL the service fetches. */
export type AdvisoryInput = { kind: 'file'; name: string; bytes: Buffer } | { kind: 'url'; url: string };

export interface AssessmentJob {
  /** Unguessable: it names the report's own path. */
  id: string;
  tenant: string;
  requestedBy: string;
  source: string;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  error?: string;
  /** The report, once done: standalone HTML with its own inline style (served apart, sandboxed). */
  html?: string;
  summary?: { title: string; techniques: number; covered: number; blind: number; maturity: number };
}

/**
 * The console's advisory assessments: `vigil assess` for one tenant (its deployed rules, what its
 * stored events show it collects), run after the request that asked has been answered, so a large
 * PDF or a slow site never holds a request. A URL is fetched through safeFetch with the service's
 * fetch policy: no loopback, private or link-local address unless config.yml allows the host.
 */
export class Assessments {
  private readonly jobs = new Map<string, AssessmentJob>();

  constructor(
    private readonly service: DetectionService,
    private readonly content: string | undefined,
    private readonly log?: (line: string) => void,
  ) {}

  start(tenant: string, input: AdvisoryInput, requestedBy: string): AssessmentJob {
    const job: AssessmentJob = {
      id: randomBytes(18).toString('base64url'),
      tenant,
      requestedBy,
      source: input.kind === 'file' ? input.name : input.url,
      status: 'running',
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    this.forgetOld(tenant);
    // After this tick: the request that started it is answered first.
    setImmediate(() => void this.run(job, input));
    return job;
  }

  /** A job of the tenant (null scope: any tenant's). */
  get(scope: string | null, id: string): AssessmentJob | undefined {
    const job = this.jobs.get(id);
    return job && (scope === null || job.tenant === scope) ? job : undefined;
  }

  list(scope: string): AssessmentJob[] {
    return [...this.jobs.values()].filter((j) => j.tenant === scope).reverse();
  }

  private forgetOld(tenant: string): void {
    const mine = [...this.jobs.values()].filter((j) => j.tenant === tenant);
    for (const old of mine.slice(0, Math.max(0, mine.length - KEPT_PER_TENANT))) this.jobs.delete(old.id);
  }

  private async run(job: AssessmentJob, input: AdvisoryInput): Promise<void> {
    let folder: string | undefined;
    try {
      let advisory: string;
      if (input.kind === 'file') {
        folder = mkdtempSync(join(tmpdir(), 'vigil-advisory-'));
        advisory = join(folder, input.name);
        writeFileSync(advisory, input.bytes);
      } else advisory = input.url;
      const fetchPolicy = this.service.options.config.fetch;
      const result = await runAssessment({
        advisories: [advisory],
        fetch: {
          allowHosts: fetchPolicy.allowHosts,
          maxBytes: fetchPolicy.maxBytes,
          timeoutMs: fetchPolicy.timeoutMs,
        },
        rules: [...this.service.deployedSetup(job.tenant).rules],
        inventory: await tenantInventory(this.service, job.tenant),
        content: this.content,
      });
      const report = result.run.report;
      job.summary = {
        title: result.assessment.advisories[0]?.title ?? job.source,
        techniques: report.techniques.length,
        covered: report.counts.covered,
        blind: report.counts.blind,
        maturity: report.maturity.score,
      };
      job.html = renderHtml(result.assessment);
      job.status = 'done';
    } catch (error) {
      // The place an upload had on this server means nothing to the analyst: its name does.
      const message = describeError(error);
      job.error = folder ? message.replaceAll(`${folder}/`, '') : message;
      job.status = 'failed';
      this.log?.(`assessment of ${job.source} for tenant ${job.tenant} failed: ${job.error}`);
    } finally {
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  }
}
