import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../core/index.js';
import { CollectedLogs, coverageLayer, NEWER_ATTACK_HINT, threatScope } from '../coverage/index.js';
import { addSweep, hunt, type SweepResult } from '../detect/index.js';
import {
  buildAssessment,
  DetectionRollup,
  type Exposure,
  type HuntFindings,
  MAX_LISTED,
  renderHtml,
  renderMarkdown,
} from '../report/index.js';
import {
  byUrgency,
  DEFAULT_EPSS_THRESHOLD,
  groupFindings,
  importFindings,
  knownVectors,
  prioritize,
  readAssets,
  sourcesOfScans,
} from '../vuln/index.js';
import {
  addCoverageOptions,
  backlogLines,
  type CoverageFlags,
  computeCoverage,
  coverageDescription,
  coverageInventory,
  coverageJson,
  loadCoverageInputs,
  logFiles,
  outsideLine,
} from './coverage.js';
import { makeOutputDir, parseThreads } from './io.js';
import { formatCount, formatDuration, heading, printable, problemLine } from './terminal.js';
import { prioritizeOptions } from './vulns.js';

interface AssessFlags extends Omit<CoverageFlags, 'format' | 'navigator'> {
  out: string;
  threads?: string;
  vulns?: string[];
  assets?: string;
}

export function registerAssess(program: Command): void {
  const command = program
    .command('assess')
    .description(
      "the advisory assessment: the threat's techniques against your rules and logs (covered, blind, available, uncovered), a backlog, a hunt of its techniques and indicators in your logs; writes report.html, report.md, report.json and layer.json",
    );
  addCoverageOptions(command)
    .requiredOption('-o, --out <dir>', 'folder to write the report to (created if needed)')
    .option(
      '--vulns <files...>',
      "scanner results (as for vigil vulns import): adds an exposure section, the advisory's CVEs first",
    )
    .option('--assets <file>', 'asset inventory for --vulns (public-facing, criticality)')
    .option(
      '-t, --threads <n>',
      'worker threads that read and hunt the --logs (default 1; more pays off only with many cores and large logs)',
    )
    .action(async (flags: AssessFlags) => {
      const started = performance.now();
      if (flags.threads !== undefined) parseThreads(flags.threads);
      const out = resolve(flags.out);
      makeOutputDir(out);
      const inputs = await loadCoverageInputs(flags, program.opts().content);
      const { attack, threats, advisories } = inputs;

      // One pass over the logs: the hunt, the indicator sweep, and what the logs show is collected.
      let huntFindings: HuntFindings | null = null;
      // Without --logsources, what the logs hold is what counts as collected: seen during the hunt.
      const collected = flags.logs?.length && !flags.logsources ? new CollectedLogs() : undefined;
      if (flags.logs?.length) {
        const { files, unread } = await logFiles(flags.logs);
        const inScope = threatScope(attack, threats);
        const detections = new DetectionRollup();
        const byTechnique: Record<string, number> = {};
        let total = 0;
        let errors = unread;
        const sweep: SweepResult = { events: 0, hits: [], total: 0 };
        const summary = await hunt(files, {
          setup: { rules: inputs.deployedRules },
          loaded: inputs.deployedSetup,
          minLevel: 'informational',
          // Measured on 2 cores: a second thread made assess slower even on 463 MB of logs (the
          // workers compile the rules again and the main thread merges their results).
          threads: flags.threads === undefined ? 1 : parseThreads(flags.threads),
          watch: {
            indicators: advisories.flatMap((a) =>
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
            const relevant = detection.techniques.filter(
              (id) => inScope.has(id) || inScope.has(id.split('.')[0]!),
            );
            if (relevant.length === 0) return;
            for (const id of relevant) byTechnique[id] = (byTechnique[id] ?? 0) + 1;
            detections.add(detection);
          },
        });
        huntFindings = {
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
        // Named as coverage names them: the exit code alone would not say which log it was.
        for (const file of summary.unreadFiles) {
          process.stderr.write(
            `${pc.red('error')} ${printable(file)}: no event could be read; it was not hunted${collected ? ' and shows nothing collected' : ''}\n`,
          );
        }
        if (summary.unreadFiles.length) process.exitCode = 1;
      }
      const run = computeCoverage(inputs, await coverageInventory(flags, collected));
      const { report, inventory } = run;

      const exposure = flags.vulns?.length
        ? exposureOf(
            flags.vulns,
            flags.assets,
            new Set(advisories.flatMap((a) => a.cves.map((c) => c.id))),
            program.opts().content,
          )
        : null;
      const assessment = buildAssessment({
        exposure,
        attack,
        threats,
        inventory,
        coverage: report,
        ruleTitles: run.ruleTitles,
        advisories,
        hunt: huntFindings,
        groups: run.groups,
      });
      const layer = coverageLayer(report, {
        name: 'Vigil assessment',
        description: coverageDescription(threats, inventory),
        attackVersion: attack.version,
      });
      const json = { ...assessment, coverage: coverageJson(report, run.groups) };
      writeFileSync(join(out, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
      writeFileSync(join(out, 'report.md'), renderMarkdown(assessment));
      writeFileSync(join(out, 'report.html'), renderHtml(assessment));
      writeFileSync(join(out, 'layer.json'), `${JSON.stringify(layer, null, 2)}\n`);

      const { counts, maturity } = report;
      const lines = [heading(coverageDescription(threats, inventory))];
      lines.push(
        `  ${report.techniques.length - counts.outside} techniques: ${pc.green(`${counts.covered} covered`)}, ${pc.yellow(`${counts.blind} blind`)}, ${pc.cyan(`${counts.available} available`)}, ${pc.red(`${counts.uncovered} uncovered`)}; maturity ${maturity.score}/100`,
      );
      if (huntFindings) {
        lines.push(
          `  Hunt: ${formatCount(huntFindings.events)} events, ${formatCount(huntFindings.detections)} detections, ${formatCount(huntFindings.inScopeTotal)} on the threat's techniques (${Object.keys(huntFindings.byTechnique).length} techniques); ${formatCount(huntFindings.indicatorHitsTotal)} indicator hits`,
        );
      }
      if (exposure) {
        lines.push(
          `  Exposure: ${formatCount(exposure.findings)} findings on ${formatCount(exposure.assets)} assets, ${exposure.byDecision.act ?? 0} act; ${exposure.advisoryFindings.length} of the advisory's CVEs on our assets`,
        );
      }
      for (const group of assessment.hostGroups) {
        lines.push(
          `  Host group ${printable(group.name)}: maturity ${group.maturity}/100, ${group.counts.covered} covered${group.weaker.length ? `; ${group.weaker.length} techniques covered elsewhere are not here` : ''}`,
        );
      }
      const indicators = advisories.flatMap((a) => a.indicators);
      if (indicators.length) {
        const actionable = indicators.filter((i) => i.actionable);
        const by = (c: string) => actionable.filter((i) => i.confidence === c).length;
        const tools = advisories.flatMap((a) => a.tools.map((t) => t.name));
        lines.push(
          `  Indicators: ${indicators.length}, ${actionable.length} actionable (${by('high')} high, ${by('medium')} medium, ${by('low')} low confidence)${tools.length ? `; Windows binaries named as context, not swept: ${printable(tools.join(', '))}` : ''}`,
        );
      }
      if (report.rulesWithUnknownTags) {
        lines.push(
          pc.yellow(
            `  ${formatCount(report.rulesWithUnknownTags)} rules carry ATT&CK IDs v${attack.version ?? '?'} does not know (${report.unknownTags
              .slice(0, 3)
              .map((u) => u.tag)
              .join(', ')}${report.unknownTags.length > 3 ? ', …' : ''}).`,
          ),
          pc.yellow(`  ${NEWER_ATTACK_HINT}`),
        );
      }
      const outside = outsideLine(report);
      if (outside) lines.push(`  ${outside}`);
      if (report.backlog.length) lines.push('', heading('Build first'), ...backlogLines(report, 8));
      lines.push(
        '',
        `Wrote report.html, report.md, report.json and layer.json to ${out} in ${formatDuration(performance.now() - started)}`,
      );
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** The scans of --vulns, prioritized as `vigil vulns list` would, without touching the database. */
function exposureOf(
  files: string[],
  assetsFile: string | undefined,
  advisoryCves: Set<string>,
  contentFlag: string | undefined,
): Exposure {
  // Skipped entries are told, as `vulns import` tells them: the rest still counts.
  const report = (problems: VigilError[]) => {
    for (const problem of problems) process.stderr.write(`${pc.yellow('skipped')} ${problemLine(problem)}\n`);
  };
  const assets = assetsFile ? readAssets(assetsFile) : undefined;
  if (assets) report(assets.problems);
  const options = prioritizeOptions(contentFlag, assets?.assets, DEFAULT_EPSS_THRESHOLD, advisoryCves);
  const sources = sourcesOfScans(
    files.flatMap((file) => {
      try {
        const imported = importFindings(file);
        report(imported.problems);
        return [imported];
      } catch (error) {
        // A scan that cannot be read is named, and costs the exposure its findings, not the report.
        if (!(error instanceof VigilError)) throw error;
        process.stderr.write(`${pc.red('error')} ${problemLine(error)}\n`);
        process.exitCode = 1;
        return [];
      }
    }),
  );
  options.knownVectors = knownVectors(sources);
  const prioritized = groupFindings(sources, { assets: assets?.assets })
    .map((f) => prioritize(f, options))
    .sort(byUrgency);
  const byDecision: Record<string, number> = {};
  for (const p of prioritized) byDecision[p.decision] = (byDecision[p.decision] ?? 0) + 1;
  return {
    findings: prioritized.length,
    assets: new Set(prioritized.map((p) => p.asset)).size,
    byDecision,
    advisoryFindings: prioritized.filter((p) => p.advisory).slice(0, MAX_LISTED),
    top: prioritized.slice(0, MAX_LISTED),
  };
}
