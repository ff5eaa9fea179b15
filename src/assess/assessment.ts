import {
  type Assessment,
  buildAssessment,
  type Exposure,
  type HuntFindings,
  renderHtml,
  renderMarkdown,
} from '../report/index.js';
import { coverageJson, navigatorLayer } from './coverage-output.js';
import {
  type CoverageOptions,
  type CoverageRun,
  computeCoverage,
  loadCoverageInputs,
} from './coverage-run.js';
import { exposureOf } from './exposure.js';
import { huntThreat } from './hunt.js';
import { coverageInventory } from './inventory.js';
import { type Notice, Notices } from './notices.js';

export interface AssessmentOptions extends CoverageOptions {
  /** Scanner results: the assessment gains an exposure section, the advisories' CVEs first. */
  vulns?: string[];
  /** The asset inventory for `vulns`. */
  assets?: string;
  /**
   * Threads that read and hunt the logs. Default 1: measured on 2 cores, a second thread made the
   * assessment slower even on 463 MB of logs (the workers compile the rules again and the main
   * thread merges their results).
   */
  threads?: number;
}

export interface AssessmentResult {
  run: CoverageRun;
  /** The hunt of the logs, when there are logs. */
  hunt: HuntFindings | null;
  exposure: Exposure | null;
  /** What the reports show. */
  assessment: Assessment;
  /** report.json: the assessment, with the coverage as `vigil coverage --format json` gives it. */
  json: ReturnType<typeof assessmentJson>;
  /** layer.json: the coverage as an ATT&CK Navigator layer. */
  layer: ReturnType<typeof navigatorLayer>;
  notices: Notice[];
}

/**
 * The advisory assessment: the threat's coverage by the rules and logs, a hunt of its techniques
 * and indicators through the logs (read once: without an inventory they also stand for what is
 * collected), and with scans, the exposure.
 */
export async function runAssessment(options: AssessmentOptions): Promise<AssessmentResult> {
  const notices = new Notices(options.onNotice);
  const inputs = await loadCoverageInputs(options, notices.tell);
  const hunted = options.logs?.length
    ? await huntThreat(
        inputs,
        options.logs,
        { threads: options.threads ?? 1, collect: !options.logsources },
        notices.tell,
      )
    : undefined;
  const inventory = await coverageInventory(options, notices.tell, hunted?.collected);
  options.onInventory?.(inventory);
  const run = computeCoverage(inputs, inventory);
  options.onCoverage?.(run);
  const { advisories } = inputs;
  const exposure = options.vulns?.length
    ? exposureOf(
        {
          scans: options.vulns,
          assets: options.assets,
          advisoryCves: new Set(advisories.flatMap((a) => a.cves.map((c) => c.id))),
          content: options.content,
        },
        notices.tell,
      )
    : null;
  const hunt = hunted?.findings ?? null;
  const assessment = buildAssessment({
    exposure,
    attack: run.attack,
    threats: run.threats,
    inventory,
    coverage: run.report,
    ruleTitles: run.ruleTitles,
    advisories,
    hunt,
    groups: run.groups,
  });
  return {
    run,
    hunt,
    exposure,
    assessment,
    json: assessmentJson(assessment, run),
    layer: navigatorLayer(run, 'Vigil assessment'),
    notices: notices.list,
  };
}

function assessmentJson(assessment: Assessment, run: CoverageRun) {
  return { ...assessment, coverage: coverageJson(run.report, run.groups) };
}

/** The report files of an assessment, by name, in the order they are written. */
export function assessmentFiles(result: AssessmentResult): { name: string; text: string }[] {
  return [
    { name: 'report.json', text: `${JSON.stringify(result.json, null, 2)}\n` },
    { name: 'report.md', text: renderMarkdown(result.assessment) },
    { name: 'report.html', text: renderHtml(result.assessment) },
    { name: 'layer.json', text: `${JSON.stringify(result.layer, null, 2)}\n` },
  ];
}
