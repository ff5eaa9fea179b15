import { STATE_LABELS, STATES } from '../coverage/index.js';
import type { CoverageSnapshot } from './coverage-worker.js';
import { clip, type Html, type HtmlValue, html } from './html.js';
import { shortTime } from './queue-page.js';

type TechniqueCoverage = CoverageSnapshot['report']['techniques'][number];

const BACKLOG_SHOWN = 15;
const RULES_SHOWN = 25;

export interface CoverageView {
  tenant: string;
  run: CoverageSnapshot;
  /** The technique asked for (`?technique=`), when the run knows it. */
  selected?: TechniqueCoverage;
  /** An id asked for that is not in scope. */
  unknown?: string;
  problems: string[];
}

function cell(t: TechniqueCoverage, subs: TechniqueCoverage[], selected: string | undefined): Html {
  const coveredSubs = subs.filter((s) => s.state === 'covered').length;
  return html`<li><a class="cell state-${t.state}${t.id === selected ? ' selected' : ''}" href="/console/coverage?technique=${t.id}#technique" data-technique="${t.id}" data-state="${t.state}" title="${t.id} ${t.name}: ${STATE_LABELS[t.state]}"><b>${t.id}</b> ${clip(t.name, 60)}${subs.length > 0 && html` <small>${coveredSubs}/${subs.length} sub</small>`}</a></li>`;
}

function matrix(view: CoverageView): Html {
  const { run } = view;
  const techniques = run.report.techniques;
  const subsOf = new Map<string, TechniqueCoverage[]>();
  for (const t of techniques) {
    if (t.parent) subsOf.set(t.parent, [...(subsOf.get(t.parent) ?? []), t]);
  }
  const columns = run.tactics
    .map((tactic) => ({
      tactic,
      cells: techniques.filter((t) => !t.parent && t.tactics.includes(tactic.shortName)),
    }))
    .filter((c) => c.cells.length > 0);
  return html`<div class="matrix" id="matrix" role="region" aria-label="ATT&amp;CK matrix" tabindex="0">${columns.map(
    (c) =>
      html`<section class="tactic"><h3>${c.tactic.name} <small>${c.cells.filter((t) => t.state === 'covered').length}/${c.cells.length}</small></h3><ul>${c.cells.map(
        (t) => cell(t, subsOf.get(t.id) ?? [], view.selected?.id),
      )}</ul></section>`,
  )}</div>`;
}

function ruleList(ids: string[], titles: Map<string, string>): Html {
  if (ids.length === 0) return html`<p class="hint">None.</p>`;
  return html`<ul>${ids.slice(0, RULES_SHOWN).map((id) => html`<li>${titles.get(id) ?? id}</li>`)}</ul>${ids.length > RULES_SHOWN && html`<p class="hint">And ${ids.length - RULES_SHOWN} more.</p>`}`;
}

function techniquePanel(view: CoverageView): HtmlValue {
  const t = view.selected;
  if (view.unknown) {
    return html`<section class="card" id="technique"><h2>${view.unknown}</h2><p class="hint">Not in this ATT&amp;CK release's scope (revoked, or newer than the loaded release).</p></section>`;
  }
  if (!t) return undefined;
  const titles = view.run.ruleTitles;
  const subs = view.run.report.techniques.filter((s) => s.parent === t.id);
  return html`<section class="card technique-detail" id="technique" aria-labelledby="technique-title">
  <h2 id="technique-title">${t.id} ${t.name} <span class="rule-state state-${t.state}" id="technique-state">${t.state}</span></h2>
  <p>${STATE_LABELS[t.state]} · detection ${t.detectionScore}/5 · visibility ${t.visibilityScore}/5${t.validated ? ' · validated by regression events' : ''} · <a href="https://attack.mitre.org/techniques/${t.id.replace('.', '/')}/" rel="noreferrer noopener" target="_blank">ATT&amp;CK page</a></p>
  <div class="columns">
    <div><h3>Deployed, logs collected</h3>${ruleList(t.rules.deployed, titles)}</div>
    <div><h3>Deployed, blind</h3>${ruleList(t.rules.blind, titles)}${t.missingLogs.length > 0 && html`<p>Needs: ${t.missingLogs.join('; ')}</p>`}</div>
    <div><h3>Public, not deployed</h3>${ruleList(t.rules.available, titles)}</div>
  </div>
  ${
    t.dataComponents.length > 0 &&
    html`<h3>Data components</h3><ul class="components">${t.dataComponents.map(
      (d) =>
        html`<li class="${d.visible ? 'visible' : 'unseen'}">${d.name} (${d.visible ? 'collected' : 'not collected'})</li>`,
    )}</ul>`
  }
  ${
    subs.length > 0 &&
    html`<h3>Sub-techniques</h3><ul>${subs.map(
      (s) =>
        html`<li><a href="/console/coverage?technique=${s.id}#technique">${s.id}</a> ${s.name}: <span class="rule-state state-${s.state}">${s.state}</span></li>`,
    )}</ul>`
  }
</section>`;
}

function backlog(view: CoverageView): Html {
  const items = view.run.report.backlog.slice(0, BACKLOG_SHOWN);
  if (items.length === 0) return html`<p class="hint">Nothing to do first.</p>`;
  return html`<ol class="backlog" id="backlog">${items.map(
    (item) =>
      html`<li><b>${item.fix}</b> <span class="tag">${item.relevance}</span><br><span class="hint">${item.why}</span> ${item.techniques
        .slice(0, 8)
        .map((t) => html`<a href="/console/coverage?technique=${t.id}#technique">${t.id}</a> `)}</li>`,
  )}</ol>`;
}

/** What the tenant's events show it collects: its Windows channels, and the log sources recognized. */
function collectedLine(run: CoverageView['run']): Html {
  const channels = `${run.channels.toLocaleString('en')} Windows channel${run.channels === 1 ? '' : 's'}`;
  const count = run.sources.length;
  return count
    ? html`Seen: ${channels}; ${count} log source${count === 1 ? '' : 's'} recognized by the pipelines: ${run.sources.map((s, i) => html`${i ? ', ' : ''}<code>${s}</code>`)}`
    : html`Seen: ${channels}; no log source recognized by the pipelines.`;
}

export function coverageBody(view: CoverageView): Html {
  const { report } = view.run;
  const m = report.maturity;
  return html`<h1>Coverage of ${view.tenant}</h1>
<p class="summary-line">ATT&amp;CK v${view.run.attackVersion ?? '?'} · ${view.run.deployed.toLocaleString('en')} rules deployed · collected: ${view.run.collected} · computed ${shortTime(new Date(view.run.computedAt).toISOString())} UTC, again after a rule reload</p>
<p class="hint" id="collected-sources">${collectedLine(view.run)}</p>
${view.problems.length > 0 && html`<ul class="problems">${view.problems.map((p) => html`<li>${p}</li>`)}</ul>`}
<div class="counts" id="coverage-counts">
  <span class="facet"><b>${m.score}</b>/100 maturity</span>
  ${STATES.map((s) => html`<span class="facet state-${s}" data-count-state="${s}"><b>${report.counts[s]}</b> ${s}</span>`)}
</div>
<p class="legend">${STATES.map((s) => html`<span class="cell state-${s}">${STATE_LABELS[s]}</span> `)}</p>
${techniquePanel(view)}
${matrix(view)}
<section class="card" aria-labelledby="backlog-title"><h2 id="backlog-title">Backlog: what to do first</h2>${backlog(view)}</section>`;
}
