import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeError } from '../core/index.js';
import { workerScript } from '../detect/index.js';
import type { DetectionService } from '../service/index.js';
import type { AssessMessage, AssessSummary, AssessTask } from './assess-worker.js';
import { storedEvents } from './tenant-coverage.js';

/** Assessments kept per tenant to look at again (in memory: a restart forgets them). */
const KEPT_PER_TENANT = 20;
/** An assessment that takes longer is stopped (the fetch has its own, shorter, limits). */
const ASSESS_TIMEOUT_MS = 10 * 60_000;

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
  summary?: AssessSummary;
}

/**
 * The console's advisory assessments: `vigil assess` for one tenant (its deployed rules, what its
 * stored events show it collects), each on a thread of its own started once the request that asked
 * has been answered, so a large PDF or a slow site holds neither a request nor the service. A URL is fetched through safeFetch with the service's
 * fetch policy: no loopback, private or link-local address unless config.yml allows the host.
 */
export class Assessments {
  private readonly jobs = new Map<string, AssessmentJob>();
  private readonly running = new Set<Worker>();

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
      const policy = this.service.options.config.fetch;
      const task: AssessTask = {
        advisory,
        fetch: { allowHosts: policy.allowHosts, maxBytes: policy.maxBytes, timeoutMs: policy.timeoutMs },
        rules: [...this.service.deployedSetup(job.tenant).rules],
        events: storedEvents(this.service, job.tenant),
        content: this.content,
      };
      const outcome = await this.onThread(task);
      if (outcome.type === 'failed') throw new Error(outcome.message);
      job.summary = { ...outcome.summary, title: outcome.summary.title ?? job.source };
      job.html = outcome.html;
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

  private onThread(task: AssessTask): Promise<AssessMessage> {
    return new Promise((resolve) => {
      const worker = new Worker(workerScript(import.meta.url, 'console/assess-worker.js'), {
        workerData: task,
      });
      this.running.add(worker);
      const timer = setTimeout(
        () =>
          end({
            type: 'failed',
            message: `the assessment took more than ${ASSESS_TIMEOUT_MS / 60_000} minutes`,
          }),
        ASSESS_TIMEOUT_MS,
      );
      const end = (message: AssessMessage) => {
        clearTimeout(timer);
        this.running.delete(worker);
        resolve(message);
        void worker.terminate();
      };
      worker.once('message', end);
      worker.once('error', (error) => end({ type: 'failed', message: describeError(error) }));
      worker.once('exit', (code) =>
        end({ type: 'failed', message: `the assessment's thread stopped (${code})` }),
      );
    });
  }

  /** Stops the assessments under way (the service is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((worker) => worker.terminate()));
  }
}
