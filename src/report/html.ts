import type { TechniqueCoverage } from '../coverage/index.js';
import { NEWER_ATTACK_HINT, STATE_LABELS, STATES } from '../coverage/index.js';
import { type Detection, matchedText } from '../detect/index.js';
import { assetPort, DECISION_ORDER, DEFAULT_EPSS_THRESHOLD, epssText } from '../vuln/index.js';
import {
  type Assessment,
  BACKLOG_HEAD,
  backlogCells,
  cveCells,
  type HuntFindings,
  hitConfidence,
  outsideTelemetry,
  toolCells,
} from './assessment.js';
import { type DetectionGroup, EVENTS_PER_GROUP } from './rollup.js';
import { REPORT_STYLE } from './style.js';

/**
 * Everything written into the page goes through here: advisories, rules and logs are hostile
 * input, and a report that ran their `<script>` would hand the analyst's browser to an attacker.
 */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The assessment as one self-contained HTML page: no script, no network (a Content Security
 * Policy forbids both), styles inline. An ATT&CK matrix with every tactic of the release,
 * the techniques in scope coloured by state; then each technique in detail, the backlog, the hunt
 * and the indicators.
 */
export function renderHtml(a: Assessment): string {
  const c = a.coverage;
  const hits = a.hunt?.byTechnique ?? {};
  const legend = STATES.map(
    (s) => `<span class="badge state-${s}">${escapeHtml(STATE_LABELS[s])}: ${c.counts[s]}</span>`,
  ).join(' ');
  const title = (id: string) => (a.ruleTitles[id] ? `${a.ruleTitles[id]} (${id})` : id);
  const ruleList = (ids: string[]) =>
    ids.length
      ? `<ul>${ids
          .slice(0, 30)
          .map((id) => `<li>${escapeHtml(title(id))}</li>`)
          .join('')}${ids.length > 30 ? `<li>… ${ids.length - 30} more</li>` : ''}</ul>`
      : '<p class="none">none</p>';
  const details = c.techniques
    .map(
      (
        t,
      ) => `<details id="${escapeHtml(t.id)}"><summary><span class="badge state-${t.state}">${t.state}</span> <b>${escapeHtml(t.id)}</b> ${escapeHtml(t.name)} — detection ${t.detectionScore}/5, visibility ${t.visibilityScore}/5${hits[t.id] ? `, ${hits[t.id]} hunt hits` : ''}</summary>
<div class="grid"><div><h4>Deployed rules, logs collected</h4>${ruleList(t.rules.deployed)}<h4>Deployed rules, blind</h4>${ruleList(t.rules.blind)}${t.missingLogs.length ? `<p>Missing logs: ${escapeHtml(t.missingLogs.join('; '))}</p>` : ''}<h4>Public rules not deployed</h4>${ruleList(t.rules.available)}</div>
<div><h4>Data components</h4>${t.dataComponents.length ? `<ul>${t.dataComponents.map((d) => `<li>${d.visible ? '✔' : '✘'} ${escapeHtml(d.name)} (${escapeHtml(d.id)})</li>`).join('')}</ul>` : '<p class="none">none listed by ATT&amp;CK</p>'}
<h4>Threat profiles</h4><p>${escapeHtml(t.profiles.join(', ') || '—')}</p>${t.evidence.length ? `<h4>Evidence</h4><ul>${t.evidence.map((e) => `<li><q>${escapeHtml(e)}</q></li>`).join('')}</ul>` : ''}
<p>Validated by regression events: ${t.validated ? 'yes' : 'no'}</p></div></div></details>`,
    )
    .join('\n');

  const backlog = `${table(
    ['#', ...BACKLOG_HEAD],
    c.backlog.map((b, i) => [String(i + 1), ...backlogCells(b)]),
  )}<p class="none">${escapeHtml(outsideTelemetry(c))}</p>`;
  const confidence = hitConfidence(a);
  const hunt = a.hunt
    ? `<section><h2>Hunt</h2><p>${a.hunt.events} events in ${a.hunt.files} files: ${a.hunt.detections} detections, ${a.hunt.inScopeTotal} of them on the threat's techniques; ${a.hunt.indicatorHitsTotal} indicator hits; ${a.hunt.errors} unreadable records or files.</p>
<h3>Detections of the threat's techniques, by rule and host</h3>${detectionGroups(a.hunt)}
<h3>Indicators seen in the logs</h3>${table(
        ['Indicator', 'Type', 'Confidence', 'Field', 'Value there', 'Host', 'Source'],
        a.hunt.indicatorHits.map((h) => [
          h.value,
          h.type,
          confidence(h),
          h.field,
          h.fieldValue,
          h.host ?? '',
          `${h.file}#${h.record}`,
        ]),
      )}</section>`
    : '';
  const indicators = a.advisories.flatMap((x) => x.indicators);
  const tools = a.advisories.flatMap((x) => x.tools);
  const cves = a.advisories.flatMap((x) => x.cves);
  const intel = a.advisories.length
    ? `<section><h2>Indicators</h2>${table(
        ['Type', 'Value', 'Actionable', 'Confidence', 'Why'],
        indicators.map((i) => [i.type, i.value, i.actionable ? 'yes' : 'no', i.confidence, i.reason]),
      )}${tools.length ? `<h3>Windows binaries named (context for the techniques, not swept as indicators)</h3>${table(['Binary', 'Known from', 'Techniques', 'Named in'], tools.map(toolCells))}` : ''}<h2>CVEs</h2>${table(
        ['CVE', 'In KEV', 'Added', 'Known ransomware use'],
        cves.map(cveCells),
      )}</section>`
    : '';
  const exposure = a.exposure
    ? `<section><h2>Exposure</h2><p>${a.exposure.findings} findings on ${a.exposure.assets} assets: ${DECISION_ORDER.map((d) => `${a.exposure!.byDecision[d] ?? 0} ${d}`).join(', ')}. ${a.exposure.advisoryFindings.length} findings are CVEs the advisory names.</p>
<h3>CVEs of the advisory on our assets</h3>${table(
        ['Asset', 'CVE', 'Decision', 'Due', 'In KEV', 'EPSS', 'Public-facing'],
        a.exposure.advisoryFindings.map((f) => [
          assetPort(f),
          f.cve,
          f.decision,
          f.due ?? '',
          f.kev ? 'yes' : 'no',
          f.epss === null ? '' : epssText(f.epss, DEFAULT_EPSS_THRESHOLD),
          f.public_facing ? 'yes' : 'no',
        ]),
      )}
<h3>Most urgent findings</h3>${table(
        ['Decision', 'Due', 'Asset', 'CVE', 'Timeline', 'Why'],
        a.exposure.top
          .slice(0, 100)
          .map((f) => [f.decision, f.due ?? '', assetPort(f), f.cve, f.timeline, f.reasons[0] ?? '']),
      )}</section>`
    : '';
  const threat = a.threats.length
    ? a.threats.map((t) => `${t.name} (${t.kind}, ${t.techniques} techniques)`).join('; ')
    : 'all ATT&CK techniques';
  const logs = a.inventory
    ? `${a.inventory.inferred ? '' : 'inventory '}${a.inventory.name}`
    : 'no inventory (nothing counts as collected)';
  const m = c.maturity;
  const hostGroups = a.hostGroups.length
    ? `<section><h2>Host groups</h2><p class="none">Each group of the inventory that collects differently, assessed on its own: what its hosts would show of the same threat.</p>${table(
        ['Group', 'Maturity', ...STATES, 'Covered across the estate, not here'],
        a.hostGroups.map((g) => [
          g.name,
          `${g.maturity}/100`,
          ...STATES.map((s) => String(g.counts[s])),
          g.weaker.map((t) => `${t.id} ${t.name} (${t.state})`).join('; ') || '—',
        ]),
      )}</section>`
    : '';

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil assessment</title>
<style>${REPORT_STYLE}</style></head>
<body><header><h1>Vigil assessment</h1><p>Threat: ${escapeHtml(threat)}</p><p>Logs: ${escapeHtml(logs)}</p><p>Generated ${escapeHtml(a.generated)} with ATT&amp;CK v${escapeHtml(a.attackVersion ?? '?')}</p></header>
<main>
<div class="kpis"><div class="kpi"><b>${m.score}/100</b>maturity</div><div class="kpi"><b>${c.techniques.length}</b>techniques in scope</div>${STATES.map((s) => `<div class="kpi"><b>${c.counts[s]}</b>${s}</div>`).join('')}${a.hunt ? `<div class="kpi"><b>${a.hunt.inScopeTotal}</b>hunt detections in scope</div>` : ''}</div>
<section><h2>ATT&amp;CK matrix</h2><p>${legend}</p><p class="none">Maturity = 100 × (0.4 × visibility ${m.parts.visibility} + 0.4 × detection ${m.parts.detection} + 0.2 × validation ${m.parts.validation})</p>${matrix(a)}</section>
<section><h2>Backlog: what to build first</h2>${backlog}</section>
${hostGroups}
${hunt}
${exposure}
${intel}
<section><h2>Techniques in detail</h2>${details}</section>
${c.unknownTags.length ? `<section><h2>Rule tags ATT&amp;CK v${escapeHtml(a.attackVersion ?? '?')} does not know</h2><p>${c.rulesWithUnknownTags} rules: ${escapeHtml(c.unknownTags.map((u) => `${u.tag} (${u.rules} rules)`).join(', '))}.</p><p>${escapeHtml(NEWER_ATTACK_HINT)}</p></section>` : ''}
</main></body></html>
`;
}

function table(head: string[], rows: string[][], className?: string): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Every tactic of the release, in matrix order, with the threat's techniques under it. */
function matrix(a: Assessment): string {
  const byTactic = new Map<string, TechniqueCoverage[]>();
  for (const t of a.coverage.techniques) {
    for (const tactic of t.tactics) {
      const list = byTactic.get(tactic) ?? [];
      list.push(t);
      byTactic.set(tactic, list);
    }
  }
  const hits = a.hunt?.byTechnique ?? {};
  const columns = a.tactics.map((tactic) => {
    const tiles = (byTactic.get(tactic.shortName) ?? [])
      .sort((x, y) => x.id.localeCompare(y.id))
      .map((t) => techniqueTile(t, hits[t.id]));
    return `<div class="tactic" data-tactic="${escapeHtml(tactic.shortName)}"><h3>${escapeHtml(tactic.name)}</h3>${tiles.join('') || '<p class="none">none in scope</p>'}</div>`;
  });
  return `<div class="matrix">${columns.join('')}</div>`;
}

function techniqueTile(t: TechniqueCoverage, hits: number | undefined): string {
  const about = `${t.id} ${t.name}: ${t.state}, detection ${t.detectionScore}/5, visibility ${t.visibilityScore}/5`;
  const badge = hits
    ? `<b class="hit" title="${hits} hunt detections">${escapeHtml(compactCount(hits))}</b>`
    : '';
  return `<a class="cell state-${t.state}" href="#${escapeHtml(t.id)}" data-technique="${escapeHtml(t.id)}" data-state="${t.state}" title="${escapeHtml(about)}"><span class="id">${escapeHtml(t.id)}</span>${badge}<span class="name">${escapeHtml(t.name)}</span></a>`;
}

/** A count short enough for a tile's badge: 999, 1.2k, 12k, 1.2M (the exact count is in its title). */
function compactCount(n: number): string {
  if (n < 1000) return String(n);
  const [value, unit] = n < 1_000_000 ? [n / 1000, 'k'] : [n / 1_000_000, 'M'];
  return `${value < 10 ? Math.floor(value * 10) / 10 : Math.floor(value)}${unit}`;
}

/** One row per rule and host, most severe first; a row opens (no script: <details>) on its events. */
function detectionGroups(hunt: HuntFindings): string {
  const groups = hunt.detectionGroups;
  if (groups.length === 0) return '<p class="none">none</p>';
  const listed =
    hunt.detectionGroupsTotal > groups.length
      ? `; the ${groups.length} most severe are listed, ${hunt.detectionGroupsTotal - groups.length} more are not`
      : '';
  const head = ['', 'Level', 'Rule', 'Host', 'Events', 'First', 'Last', 'Techniques'];
  return `<p class="none">${hunt.inScopeTotal} detections from ${hunt.detectionGroupsTotal} pairs of rule and host${listed}. Open a row for its events (the earliest ${EVENTS_PER_GROUP} of each).</p>
<div class="groups"><div class="group-head">${head.map((h) => `<span>${h}</span>`).join('')}</div>${groups.map(groupRow).join('\n')}</div>`;
}

function groupRow(g: DetectionGroup): string {
  const level = g.rule.level === 'informational' ? 'info' : g.rule.level;
  const cells = [
    `<span class="level level-${escapeHtml(g.rule.level)}">${escapeHtml(level)}</span>`,
    `<span class="rule">${escapeHtml(g.rule.title)}</span>`,
    `<span class="host">${g.host === null ? '<i>unknown</i>' : escapeHtml(g.host)}</span>`,
    `<span class="num">${g.count}</span>`,
    timeCell(g.firstTime),
    timeCell(g.lastTime),
    techniquesCell(g.techniques),
  ];
  const more = g.count - g.events.length;
  const rule = [g.rule.id, g.rule.author && `by ${g.rule.author}`, g.rule.file].filter(Boolean).join(', ');
  return `<details class="group"><summary>${cells.join('')}</summary>
${table(['Time', 'Event', 'Matched', 'Source'], g.events.map(eventCells), 'events')}${more > 0 ? `<p class="none group-more">… and ${more} more of this rule on this host.</p>` : ''}<p class="none group-more">Rule ${escapeHtml(rule)}; techniques ${escapeHtml(g.techniques.join(' '))}</p></details>`;
}

/** A rule tagged with many techniques would make its row tall: the first few, and how many more. */
function techniquesCell(techniques: string[]): string {
  const shown = techniques.slice(0, SUMMARY_TECHNIQUES).join(' ');
  const rest = techniques.length - SUMMARY_TECHNIQUES;
  return rest > 0
    ? `<span title="${escapeHtml(techniques.join(' '))}">${escapeHtml(shown)} <i>+${rest} more</i></span>`
    : `<span>${escapeHtml(shown)}</span>`;
}

const SUMMARY_TECHNIQUES = 4;

/** A summary's time to the second; the events below give it in full. */
function timeCell(time: string | undefined): string {
  if (time === undefined) return '<span class="time"></span>';
  const short = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(time);
  return `<span class="time" title="${escapeHtml(time)}">${escapeHtml(short ? `${short[1]} ${short[2]}Z` : time)}</span>`;
}

function eventCells(d: Detection): string[] {
  const event = d.correlation
    ? (d.correlation.detail ??
      `correlation ${d.correlation.type} ${d.correlation.value} (${d.correlation.events.length} events)`)
    : [d.eventId === undefined ? '' : String(d.eventId), d.channel].filter(Boolean).join(' ');
  return [d.time ?? '', event, matchedText(d.matched), `${d.source.file}#${d.source.record}`];
}
