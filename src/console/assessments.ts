import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeError } from '../core/index.js';
import { workerScript } from '../detect/index.js';
import { type DetectionService, dataPaths } from '../service/index.js';
import type { AssessMessage, AssessSummary, AssessTask } from './assess-worker.js';
import { storedEvents } from './tenant-coverage.js';

/** Assessments kept per tenant to look at again; the oldest go when a new one starts. */
const KEPT_PER_TENANT = 20;
/** What start() makes: 18 random bytes in base64url. Anything else names no assessment (nor a path). */
const JOB_ID = /^[A-Za-z0-9_-]{24}$/;
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
  summary?: AssessSummary;
}

/**
 * The console's advisory assessments: `vigil assess` for one tenant (its deployed rules, what its
 * stored events show it collects), each on a thread of its own started once the request that asked
 * has been answered, so a large PDF or a slow site holds neither a request nor the service. A URL is fetched through safeFetch with the service's
 * fetch policy: no loopback, private or link-local address unless config.yml allows the host.
 *
 * Each is kept in the data folder, in a folder per tenant (`assessments/TENANT/ID.json`, the report
 * beside it as `ID.html`), so a restart loses no report an analyst asked for and one tenant's
 * folder is never read for another. One under way when the service stopped is failed on start.
 */
export class Assessments {
  private readonly running = new Set<Worker>();
  private readonly dir: string;

  constructor(
    private readonly service: DetectionService,
    private readonly content: string | undefined,
    private readonly log?: (line: string) => void,
  ) {
    this.dir = dataPaths(service.options.dataDir).assessments;
    this.failInterrupted();
  }

  start(tenant: string, input: AdvisoryInput, requestedBy: string): AssessmentJob {
    const job: AssessmentJob = {
      id: randomBytes(18).toString('base64url'),
      tenant,
      requestedBy,
      source: input.kind === 'file' ? input.name : input.url,
      status: 'running',
      startedAt: new Date().toISOString(),
    };
    this.save(job);
    this.forgetOld(tenant);
    // After this tick: the request that started it is answered first.
    setImmediate(() => void this.run(job, input));
    return job;
  }

  /** A job of the tenant (null scope: any tenant's). */
  get(scope: string | null, id: string): AssessmentJob | undefined {
    if (!JOB_ID.test(id)) return undefined;
    for (const tenant of scope === null ? this.tenants() : [scope]) {
      if (existsSync(this.file(tenant, id, 'json'))) return this.read(tenant, `${id}.json`);
    }
    return undefined;
  }

  /** The report of a job that is done (standalone HTML with its own inline style, served apart, sandboxed). */
  report(job: AssessmentJob): string | undefined {
    if (job.status !== 'done') return undefined;
    try {
      return readFileSync(this.file(job.tenant, job.id, 'html'), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The tenant's assessments, newest first. */
  list(tenant: string): AssessmentJob[] {
    const folder = join(this.dir, tenant);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .map((name) => this.read(tenant, name))
      .filter((job): job is AssessmentJob => job !== undefined)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  private file(tenant: string, id: string, kind: 'json' | 'html'): string {
    return join(this.dir, tenant, `${id}.${kind}`);
  }

  private tenants(): string[] {
    return existsSync(this.dir)
      ? readdirSync(this.dir, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => entry.name)
      : [];
  }

  /** A job's record; one that cannot be read is named in the service log and left out. */
  private read(tenant: string, name: string): AssessmentJob | undefined {
    const path = join(this.dir, tenant, name);
    try {
      const job = JSON.parse(readFileSync(path, 'utf8')) as AssessmentJob;
      // Only what this tenant's folder says of this tenant counts.
      return job.tenant === tenant && `${job.id}.json` === name ? job : undefined;
    } catch (error) {
      this.log?.(`assessment ${path} cannot be read, left out: ${describeError(error)}`);
      return undefined;
    }
  }

  /** Written whole then renamed: a page never reads half a record. */
  private write(path: string, text: string): void {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }

  private save(job: AssessmentJob): void {
    mkdirSync(join(this.dir, job.tenant), { recursive: true });
    this.write(this.file(job.tenant, job.id, 'json'), `${JSON.stringify(job)}\n`);
  }

  /** The oldest beyond the number kept; one still under way stays until it ends (it writes its outcome). */
  private forgetOld(tenant: string): void {
    const done = this.list(tenant).filter((job) => job.status !== 'running');
    for (const old of done.slice(KEPT_PER_TENANT)) {
      rmSync(this.file(tenant, old.id, 'html'), { force: true });
      rmSync(this.file(tenant, old.id, 'json'), { force: true });
    }
  }

  /** Jobs the last run of the service left under way: no thread works on them any more. */
  private failInterrupted(): void {
    for (const tenant of this.tenants()) {
      for (const job of this.list(tenant)) {
        if (job.status !== 'running') continue;
        this.save({ ...job, status: 'failed', error: 'the service stopped during the assessment' });
      }
    }
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
      mkdirSync(join(this.dir, job.tenant), { recursive: true });
      this.write(this.file(job.tenant, job.id, 'html'), outcome.html);
      job.summary = { ...outcome.summary, title: outcome.summary.title ?? job.source };
      job.status = 'done';
    } catch (error) {
      // The place an upload had on this server means nothing to the analyst: its name does.
      const message = describeError(error);
      job.error = folder ? message.replaceAll(`${folder}/`, '') : message;
      job.status = 'failed';
      this.log?.(`assessment of ${job.source} for tenant ${job.tenant} failed: ${job.error}`);
    } finally {
      this.saveQuietly(job);
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  }

  /** The outcome on disk; a disk that refuses it is named in the service log (the page then shows the job running). */
  private saveQuietly(job: AssessmentJob): void {
    try {
      this.save(job);
    } catch (error) {
      this.log?.(`assessment ${job.id} of tenant ${job.tenant} could not be saved: ${describeError(error)}`);
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
