import type { TechniqueCoverage } from '../coverage/index.js';
import { NEWER_ATTACK_HINT, STATE_COLORS, STATE_LABELS, STATES } from '../coverage/index.js';
import { DECISION_ORDER } from '../vuln/index.js';
import { type Assessment, cveCells, hitConfidence, toolCells } from './assessment.js';

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
  const byTactic = new Map<string, TechniqueCoverage[]>();
  for (const t of c.techniques) {
    for (const tactic of t.tactics) {
      const list = byTactic.get(tactic) ?? [];
      list.push(t);
      byTactic.set(tactic, list);
    }
  }
  const hits = a.hunt?.byTechnique ?? {};
  const matrix = a.tactics
    .map((tactic) => {
      const cells = (byTactic.get(tactic.shortName) ?? [])
        .sort((x, y) => x.id.localeCompare(y.id))
        .map(
          (t) =>
            `<a class="cell state-${t.state}" href="#${escapeHtml(t.id)}" data-technique="${escapeHtml(t.id)}" data-state="${t.state}" title="${escapeHtml(`${t.id} ${t.name}: ${t.state}, detection ${t.detectionScore}/5, visibility ${t.visibilityScore}/5`)}"><span class="id">${escapeHtml(t.id)}</span> ${escapeHtml(t.name)}${hits[t.id] ? ` <b class="hit">${hits[t.id]}</b>` : ''}</a>`,
        )
        .join('');
      return `<div class="tactic" data-tactic="${escapeHtml(tactic.shortName)}"><h3>${escapeHtml(tactic.name)}</h3>${cells || '<p class="none">none in scope</p>'}</div>`;
    })
    .join('');

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

  const backlog = table(
    ['#', 'Technique', 'State', 'Threat profiles', 'Fix'],
    c.backlog.map((b, i) => [String(i + 1), `${b.id} ${b.name}`, b.state, String(b.profiles), b.fix]),
  );
  const confidence = hitConfidence(a);
  const hunt = a.hunt
    ? `<section><h2>Hunt</h2><p>${a.hunt.events} events in ${a.hunt.files} files: ${a.hunt.detections} detections, ${a.hunt.inScopeTotal} of them on the threat's techniques; ${a.hunt.indicatorHitsTotal} indicator hits; ${a.hunt.errors} unreadable records or files.</p>
<h3>Detections of the threat's techniques</h3>${table(
        ['Time', 'Level', 'Rule', 'Techniques', 'Host', 'Source'],
        a.hunt.inScope.map((d) => [
          d.time ?? '',
          d.rule.level,
          d.rule.title,
          d.techniques.join(' '),
          d.host ?? '',
          `${d.source.file}#${d.source.record}`,
        ]),
      )}
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
          f.asset,
          f.cve,
          f.decision,
          f.due ?? '',
          f.kev ? 'yes' : 'no',
          f.epss?.toFixed(3) ?? '',
          f.public_facing ? 'yes' : 'no',
        ]),
      )}
<h3>Most urgent findings</h3>${table(
        ['Decision', 'Due', 'Asset', 'CVE', 'Timeline', 'Why'],
        a.exposure.top
          .slice(0, 100)
          .map((f) => [f.decision, f.due ?? '', f.asset, f.cve, f.timeline, f.reasons[0] ?? '']),
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
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}header p{margin:2px 0;color:#c9cfdb}
main{padding:16px 24px}section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px;margin:0 0 16px}
.kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px}.kpi b{font-size:22px;display:block}
.matrix{display:flex;gap:6px;overflow-x:auto;align-items:flex-start}.tactic{min-width:150px;flex:1}.tactic h3{font-size:12px;margin:0 0 6px;padding:6px;background:#e8ebf0;border-radius:4px;text-align:center}
.cell{display:block;font-size:11px;padding:4px 6px;margin:0 0 3px;border-radius:3px;color:#111;text-decoration:none;word-break:break-word}.cell .id{font-weight:600}.cell .hit{float:right;background:#1d2330;color:#fff;border-radius:8px;padding:0 5px}
${STATES.map((s) => `.state-${s}{background:${STATE_COLORS[s]}}`).join('')}
.state-covered,.state-uncovered{color:#fff}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px}
.none{color:#8a93a3;font-size:12px;margin:2px 0}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #e6e9ef;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}th{background:#f0f2f5}
details{border-bottom:1px solid #e6e9ef;padding:6px 0}summary{cursor:pointer}.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}h4{margin:8px 0 4px}
</style></head>
<body><header><h1>Vigil assessment</h1><p>Threat: ${escapeHtml(threat)}</p><p>Logs: ${escapeHtml(logs)}</p><p>Generated ${escapeHtml(a.generated)} with ATT&amp;CK v${escapeHtml(a.attackVersion ?? '?')}</p></header>
<main>
<div class="kpis"><div class="kpi"><b>${m.score}/100</b>maturity</div><div class="kpi"><b>${c.techniques.length}</b>techniques in scope</div>${STATES.map((s) => `<div class="kpi"><b>${c.counts[s]}</b>${s}</div>`).join('')}${a.hunt ? `<div class="kpi"><b>${a.hunt.inScopeTotal}</b>hunt detections in scope</div>` : ''}</div>
<section><h2>ATT&amp;CK matrix</h2><p>${legend}</p><p class="none">Maturity = 100 × (0.4 × visibility ${m.parts.visibility} + 0.4 × detection ${m.parts.detection} + 0.2 × validation ${m.parts.validation})</p><div class="matrix">${matrix}</div></section>
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

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}
