import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { assessmentFiles, coverageDescription, incomplete, runAssessment } from '../assess/index.js';
import { NEWER_ATTACK_HINT } from '../coverage/index.js';
import {
  addCoverageOptions,
  backlogLines,
  type CoverageFlags,
  coverageOptions,
  outsideLine,
} from './coverage.js';
import { makeOutputDir, parseThreads } from './io.js';
import { formatCount, formatDuration, heading, printable } from './terminal.js';

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
      const threads = flags.threads === undefined ? undefined : parseThreads(flags.threads);
      const out = resolve(flags.out);
      makeOutputDir(out);
      const result = await runAssessment({
        ...coverageOptions(flags, program.opts().content),
        vulns: flags.vulns,
        assets: flags.assets,
        threads,
      });
      for (const file of assessmentFiles(result)) writeFileSync(join(out, file.name), file.text);

      const { run, hunt: huntFindings, exposure, assessment } = result;
      const { report, attack, threats, inventory, advisories } = run;
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
      if (incomplete(result.notices)) process.exitCode = 1;
    });
}
