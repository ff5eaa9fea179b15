import { VigilError } from '../core/index.js';
import { CollectedLogs, threatScope } from '../coverage/index.js';
import { addSweep, hunt, recognizedLogsources, type SweepResult } from '../detect/index.js';
import { DetectionRollup, type HuntFindings, MAX_LISTED } from '../report/index.js';
import type { CoverageInputs } from './coverage-run.js';
import { logFiles } from './inventory.js';
import type { NoticeListener } from './notices.js';

export interface ThreatHuntOptions {
  /** Threads that read and hunt the logs. */
  threads: number;
  /** Also note every (channel, event ID) the logs hold: they stand for the inventory. */
  collect: boolean;
}

/**
 * One pass over the logs: the deployed rules hunt them, keeping the detections of the threat's
 * techniques; the advisories' actionable indicators are swept for; and, when asked, what the logs
 * show is collected is noted. A log not one event could be read from is told as an error.
 */
export async function huntThreat(
  inputs: CoverageInputs,
  logs: string[],
  options: ThreatHuntOptions,
  tell: NoticeListener,
): Promise<{ findings: HuntFindings; collected: CollectedLogs | undefined }> {
  const collected = options.collect ? new CollectedLogs() : undefined;
  const { files, unread } = await logFiles(logs, tell);
  const inScope = threatScope(inputs.attack, inputs.threats);
  const detections = new DetectionRollup();
  const byTechnique: Record<string, number> = {};
  let total = 0;
  let errors = unread;
  const sweep: SweepResult = { events: 0, hits: [], total: 0 };
  const summary = await hunt(files, {
    setup: { rules: inputs.deployedRules },
    loaded: inputs.deployedSetup,
    minLevel: 'informational',
    threads: options.threads,
    watch: {
      indicators: inputs.advisories.flatMap((a) =>
        a.indicators
          .filter((i) => i.actionable && i.type !== 'cve')
          .map(({ type, value }) => ({ type, value })),
      ),
      channels: collected !== undefined,
    },
    onWatched: (watched) => {
      if (watched.sweep) addSweep(sweep, watched.sweep);
      for (const [channel, ids] of watched.channels ?? []) collected?.addIds(channel, ids);
    },
    onError: () => {
      errors++;
    },
    onDetection: (detection) => {
      total++;
      const relevant = detection.techniques.filter((id) => inScope.has(id) || inScope.has(id.split('.')[0]!));
      if (relevant.length === 0) return;
      for (const id of relevant) byTechnique[id] = (byTechnique[id] ?? 0) + 1;
      detections.add(detection);
    },
  });
  for (const { key } of summary.bySource)
    for (const logsource of recognizedLogsources(inputs.deployedSetup.pipelines, key))
      collected?.addLogsource(logsource);
  const unhunted = `no event could be read; it was not hunted${collected ? ' and shows nothing collected' : ''}`;
  tell({
    severity: 'error',
    input: 'logs',
    problems: summary.unreadFiles.map((file) => new VigilError('LOG_UNREAD', unhunted, { file })),
  });
  const findings: HuntFindings = {
    files: files.length,
    events: summary.events,
    detections: total,
    detectionGroups: detections.groups(MAX_LISTED),
    detectionGroupsTotal: detections.groupCount,
    inScopeTotal: detections.total,
    byTechnique,
    indicatorHits: sweep.hits.slice(0, MAX_LISTED),
    indicatorHitsTotal: sweep.total,
    errors,
  };
  return { findings, collected };
}
