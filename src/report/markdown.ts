import { NEWER_ATTACK_HINT } from '../coverage/index.js';
import { assetPort, DECISION_ORDER } from '../vuln/index.js';
import {
  type Assessment,
  BACKLOG_HEAD,
  backlogCells,
  cveCells,
  hitConfidence,
  outsideTelemetry,
  toolCells,
} from './assessment.js';

/** Text from advisories, rules and logs as a Markdown table cell: one line, markup characters escaped. */
export function mdText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_{}[\]<>()#+!|]/g, (c) => `\\${c}`);
}

function table(head: string[], rows: (string | number)[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

export function renderMarkdown(a: Assessment): string {
  const { coverage } = a;
  const lines: string[] = ['# Vigil assessment', ''];
  lines.push(`Generated ${a.generated} with ATT&CK v${a.attackVersion ?? '?'}.`, '');
  lines.push(
    `Threat: ${a.threats.length ? a.threats.map((t) => `${mdText(t.name)} (${t.kind}, ${t.techniques} techniques)`).join('; ') : 'all ATT&CK techniques'}.`,
  );
  lines.push(
    `Logs: ${a.inventory ? `${a.inventory.inferred ? '' : 'inventory '}${mdText(a.inventory.name)}` : 'no inventory given (nothing counts as collected)'}.`,
    '',
  );
  const c = coverage.counts;
  lines.push('## Summary', '');
  lines.push(
    `- ${coverage.techniques.length - c.outside} techniques: **${c.covered} covered**, ${c.blind} blind, ${c.available} available, ${c.uncovered} uncovered${c.outside ? `; ${c.outside} more outside your telemetry (pre-compromise)` : ''}`,
    `- Maturity **${coverage.maturity.score}/100** (visibility ${coverage.maturity.parts.visibility}, detection ${coverage.maturity.parts.detection}, validation ${coverage.maturity.parts.validation})`,
  );
  if (a.hunt) {
    lines.push(
      `- Hunt: ${a.hunt.events} events in ${a.hunt.files} files; ${a.hunt.detections} detections, ${a.hunt.inScopeTotal} of the threat's techniques; ${a.hunt.indicatorHitsTotal} indicator hits`,
    );
  }
  const indicators = a.advisories.flatMap((x) => x.indicators);
  if (indicators.length) {
    lines.push(
      `- Indicators: ${indicators.length}, ${indicators.filter((i) => i.actionable).length} actionable`,
    );
  }
  lines.push('', '## Techniques', '');
  lines.push(
    ...table(
      [
        'ID',
        'Technique',
        'Tactics',
        'State',
        'Detection',
        'Visibility',
        'Deployed',
        'Blind',
        'Available',
        'Hunt hits',
      ],
      coverage.techniques.map((t) => [
        t.id,
        mdText(t.name),
        t.tactics.join(', '),
        t.state,
        t.detectionScore,
        t.visibilityScore,
        t.rules.deployed.length,
        t.rules.blind.length,
        t.rules.available.length,
        a.hunt?.byTechnique[t.id] ?? '',
      ]),
    ),
  );
  lines.push('', '## Backlog', '');
  lines.push(
    ...table(
      ['#', ...BACKLOG_HEAD],
      coverage.backlog.map((b, i) => [i + 1, ...backlogCells(b).map(mdText)]),
    ),
  );
  const outside = outsideTelemetry(coverage);
  if (outside) lines.push('', mdText(outside));
  if (a.hostGroups.length) {
    lines.push('', '## Host groups', '');
    lines.push(
      ...table(
        [
          'Group',
          'Maturity',
          'Covered',
          'Blind',
          'Available',
          'Uncovered',
          'Covered across the estate, not here',
        ],
        a.hostGroups.map((g) => [
          mdText(g.name),
          `${g.maturity}/100`,
          g.counts.covered,
          g.counts.blind,
          g.counts.available,
          g.counts.uncovered,
          mdText(g.weaker.map((t) => `${t.id} ${t.name} (${t.state})`).join('; ') || '—'),
        ]),
      ),
    );
  }
  if (a.hunt) {
    lines.push('', "## Hunt detections of the threat's techniques, by rule and host", '');
    const shown = a.hunt.detectionGroups.slice(0, 100);
    lines.push(
      `${a.hunt.inScopeTotal} detections from ${a.hunt.detectionGroupsTotal} pairs of rule and host, the most severe first${a.hunt.detectionGroupsTotal > shown.length ? ` (${shown.length} listed here, ${a.hunt.detectionGroups.length} in report.html and report.json)` : ''}.`,
      '',
      ...table(
        ['Level', 'Rule', 'Host', 'Events', 'First', 'Last', 'Techniques', 'First event'],
        shown.map((g) => [
          g.rule.level,
          mdText(g.rule.title),
          mdText(g.host ?? 'unknown'),
          g.count,
          g.firstTime ?? '',
          g.lastTime ?? '',
          g.techniques.join(' '),
          g.events[0] ? mdText(`${g.events[0].source.file}#${g.events[0].source.record}`) : '',
        ]),
      ),
    );
    if (a.hunt.indicatorHits.length) {
      const confidence = hitConfidence(a);
      lines.push('', '## Indicators seen in the logs', '');
      lines.push(
        ...table(
          ['Indicator', 'Type', 'Confidence', 'Field', 'Host', 'Source'],
          a.hunt.indicatorHits
            .slice(0, 100)
            .map((h) => [
              mdText(h.value),
              h.type,
              confidence(h),
              mdText(h.field),
              mdText(h.host ?? ''),
              mdText(`${h.file}#${h.record}`),
            ]),
        ),
      );
    }
  }
  if (a.exposure) {
    const e = a.exposure;
    lines.push('', '## Exposure', '');
    lines.push(
      `${e.findings} findings on ${e.assets} assets: ${DECISION_ORDER.map((d) => `${e.byDecision[d] ?? 0} ${d}`).join(', ')}; ${e.advisoryFindings.length} of the advisory's CVEs.`,
      '',
    );
    lines.push(
      ...table(
        ['Asset', 'CVE', 'Decision', 'Due', 'In KEV', 'Advisory'],
        e.top
          .slice(0, 100)
          .map((f) => [
            mdText(assetPort(f)),
            f.cve,
            f.decision,
            f.due ?? '',
            f.kev ? 'yes' : 'no',
            f.advisory ? 'yes' : '',
          ]),
      ),
    );
  }
  if (indicators.length) {
    lines.push('', '## Indicators', '');
    lines.push(
      ...table(
        ['Type', 'Value', 'Actionable', 'Confidence', 'Why'],
        indicators.map((i) => [
          i.type,
          mdText(i.value),
          i.actionable ? 'yes' : 'no',
          i.confidence,
          mdText(i.reason),
        ]),
      ),
    );
  }
  const tools = a.advisories.flatMap((x) => x.tools);
  if (tools.length) {
    lines.push('', '## Windows binaries named (context for the techniques, not swept as indicators)', '');
    lines.push(
      ...table(
        ['Binary', 'Known from', 'Techniques', 'Named in'],
        tools.map((t) => toolCells(t).map(mdText)),
      ),
    );
  }
  const cves = a.advisories.flatMap((x) => x.cves);
  if (cves.length) {
    lines.push('', '## CVEs', '');
    lines.push(...table(['CVE', 'In KEV', 'Added', 'Ransomware'], cves.map(cveCells)));
  }
  if (coverage.unknownTags.length) {
    lines.push(
      '',
      `${coverage.rulesWithUnknownTags} rules carry tags ATT&CK v${a.attackVersion ?? '?'} does not know: ${coverage.unknownTags.map((u) => `${mdText(u.tag)} (${u.rules})`).join(', ')}. ${NEWER_ATTACK_HINT}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
