import { basename } from 'node:path';
import type { VigilError } from '../core/index.js';
import type { Detection } from '../detect/index.js';
import type { RetroHunt } from '../service/index.js';
import type { CorrelationRule, DetectionRule } from '../sigma/index.js';
import { clip, type Html, html } from './html.js';
import { shortTime } from './queue-page.js';
import type { ConsoleUser } from './session.js';

/** Days the hit counts cover, one bar each. */
export const HIT_DAYS = 14;

export type RuleState = 'loaded' | 'disabled' | 'suppressed';

/** One rule of the tenant as the screen lists it. */
export interface RuleRow {
  key: string;
  rule: DetectionRule | CorrelationRule;
  /** `tenant`: in the tenant's own folder (its file name is shown and editable); else a global pack. */
  source: 'tenant' | 'global';
  state: RuleState;
  /** Detections per day, oldest first, HIT_DAYS of them. */
  hits: number[];
}

export interface RulesView {
  user: ConsoleUser;
  tenant: string;
  loadedAt: string;
  rows: RuleRow[];
  /** Rules in all before the search and the limit. */
  total: number;
  query: string;
  /** Rule files (or documents) that could not be used, with why. */
  failures: VigilError[];
  warnings: VigilError[];
  /** The tenant's own rule files. */
  files: string[];
  hunts: RetroHunt[];
  notice?: string;
  problem?: string;
}

/** The place of a problem, with a global pack's file by name only (its folder is the server's). */
export function problemText(error: VigilError): string {
  const where = error.location;
  const parts = [
    where.file && basename(where.file),
    where.line !== undefined && `line ${where.line}`,
    where.field && `field ${where.field}`,
  ].filter(Boolean);
  return parts.length ? `${parts.join(', ')}: ${error.message}` : error.message;
}

/** Hits per day as bars, drawn on the server: no script, no style, one title a screen reader reads. */
export function sparkline(days: readonly number[], label: string): Html {
  const max = Math.max(1, ...days);
  const total = days.reduce((a, b) => a + b, 0);
  const bars = days.map((n, i) => {
    const height = n === 0 ? 1 : Math.max(2, Math.round((n / max) * 18));
    return html`<rect x="${i * 5}" y="${20 - height}" width="4" height="${height}" class="${n === 0 ? 'bar-none' : 'bar'}"></rect>`;
  });
  return html`<svg class="spark" viewBox="0 0 ${days.length * 5} 20" width="${days.length * 5}" height="20" role="img" aria-label="${label}: ${total} detections in ${days.length} days"><title>${label}: ${days.join(', ')}</title>${bars}</svg>`;
}

function stateBadge(state: RuleState): Html {
  return html`<span class="rule-state state-${state}">${state}</span>`;
}

function ruleRow(row: RuleRow, view: RulesView): Html {
  const { rule } = row;
  const kind = 'correlation' in rule && rule.correlation ? 'correlation' : (rule as DetectionRule).level;
  const total = row.hits.reduce((a, b) => a + b, 0);
  const file = basename(rule.origin.file);
  const toggle = view.user.may('manage')
    ? html`<form method="post" action="/console/rules/state" class="rule-toggle">
      <input type="hidden" name="_csrf" value="${view.user.session.csrf}">
      <input type="hidden" name="rule" value="${row.key}">
      <input type="hidden" name="enabled" value="${row.state === 'disabled' ? '1' : '0'}">
      <button type="submit" class="small">${row.state === 'disabled' ? 'Enable' : 'Disable'}</button>
    </form>`
    : '';
  return html`<tr class="rule-row" data-rule="${row.key}">
  <td class="title">${clip(rule.title, 160)}${rule.id && html`<br><small class="hint">${rule.id}</small>`}</td>
  <td><span class="level level-${kind}">${kind}</span></td>
  <td class="file">${
    row.source === 'tenant'
      ? html`<a href="/console/rules/edit?file=${encodeURIComponent(file)}">${file}</a>`
      : html`<span class="hint">global</span> ${file}`
  }, line ${rule.origin.line}</td>
  <td>${stateBadge(row.state)}</td>
  <td class="hits">${sparkline(row.hits, rule.title)} <span class="num">${total.toLocaleString('en')}</span></td>
  <td>${toggle}</td>
</tr>`;
}

export function rulesBody(view: RulesView): Html {
  const { user } = view;
  return html`<h1>Rules of ${view.tenant}</h1>
${view.notice && html`<p class="notice" role="status" id="rules-notice">${view.notice}</p>`}
${view.problem && html`<p class="problem" role="alert">${view.problem}</p>`}
<p class="summary-line">Loaded ${shortTime(view.loadedAt)} UTC · ${view.total.toLocaleString('en')} rules · ${view.failures.length} could not be used · hits are detections per day over the last ${HIT_DAYS} days</p>
<div class="actions">
  ${user.may('triage') && html`<a class="button" href="/console/rules/edit" id="new-rule">New rule or backtest</a>`}
</div>
${
  view.failures.length > 0 &&
  html`<section class="card" aria-labelledby="failed-title"><h2 id="failed-title">Could not be used</h2>
  <ul class="problems" id="rule-failures">${view.failures.slice(0, 200).map((e) => html`<li>${problemText(e)}</li>`)}</ul>
  ${view.failures.length > 200 && html`<p class="hint">The first 200 of ${view.failures.length}.</p>`}</section>`
}
${
  view.warnings.length > 0 &&
  html`<section class="card" aria-labelledby="warned-title"><h2 id="warned-title">Warnings</h2>
  <ul class="problems">${view.warnings.slice(0, 100).map((e) => html`<li>${problemText(e)}</li>`)}</ul></section>`
}
<form method="get" action="/console/rules" class="filters" role="search">
  <label>Search <input type="search" name="q" value="${view.query}" id="rules-search" placeholder="title, id or file"></label>
  <button type="submit">Search</button>
</form>
<table class="rules" id="rules">
  <thead><tr><th scope="col">Rule</th><th scope="col">Level</th><th scope="col">File</th><th scope="col">Status</th><th scope="col">Hits (${HIT_DAYS} days)</th><th scope="col"><span class="visually-hidden">Change</span></th></tr></thead>
  <tbody>${view.rows.map((row) => ruleRow(row, view))}</tbody>
</table>
${view.rows.length < view.total && html`<p class="hint">${view.rows.length} of ${view.total.toLocaleString('en')} shown, those with hits and the tenant's own first: search to find others.</p>`}
${
  view.hunts.length > 0 &&
  html`<section class="card" aria-labelledby="backtests-title"><h2 id="backtests-title">Recent backtests and hunts</h2>
  <ul>${view.hunts
    .slice(0, 10)
    .map(
      (h) =>
        html`<li><a href="/console/rules/backtests/${h.id}">#${h.id}</a> ${shortTime(h.startedAt)} · ${h.status} · ${h.events.toLocaleString('en')} events · ${h.detections.toLocaleString('en')} matches</li>`,
    )}</ul></section>`
}`;
}

export interface EditorView {
  user: ConsoleUser;
  tenant: string;
  file: string;
  text: string;
  problems: string[];
  notice?: string;
}

/** The validation under the editor: the loader's errors, or what the text holds. */
export function validationResult(problems: readonly string[], titles: readonly string[]): Html {
  if (problems.length > 0) {
    return html`<ul class="problems" id="validation-errors" role="alert">${problems.map((p) => html`<li>${p}</li>`)}</ul>`;
  }
  if (titles.length === 0) return html`<p class="hint" id="validation-ok">Nothing to check yet.</p>`;
  return html`<p class="ok" id="validation-ok" role="status">Valid: ${titles.length} rule${titles.length === 1 ? '' : 's'} (${titles.map((t) => clip(t, 80)).join('; ')}).</p>`;
}

export function editorBody(view: EditorView): Html {
  const csrf = view.user.session.csrf;
  return html`<p class="crumbs"><a href="/console/rules">Rules</a> › ${view.file || 'new rule'}</p>
<h1>${view.file ? html`Edit ${view.file}` : 'New rule'}</h1>
${view.notice && html`<p class="notice" role="status">${view.notice}</p>`}
<p class="hint">A rule of the tenant ${view.tenant}, in its own folder. Checked by the Sigma loader as you type; saved, it goes live at the service's next rule reload, which starts at once. Backtest it first against the tenant's stored events.</p>
<form method="post" action="/console/rules/save" class="editor" id="rule-editor" data-validate="/console/rules/validate">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>File name <input type="text" name="file" id="rule-file" value="${view.file}" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*\\.ya?ml" maxlength="120" placeholder="my-rule.yml"></label>
  <label>Load from a file <input type="file" id="rule-upload" accept=".yml,.yaml,text/yaml,text/plain"></label>
  <label class="wide">Rule (YAML) <textarea name="text" id="rule-text" rows="22" spellcheck="false" maxlength="60000" required>${view.text}</textarea></label>
  <div id="validation" aria-live="polite">${validationResult(view.problems, [])}</div>
  <div class="buttons">
    ${view.user.may('manage') && html`<button type="submit" id="rule-save">Save</button>`}
    <label>Backtest over the last <input type="number" name="days" id="backtest-days" value="30" min="1" max="365"> days</label>
    <button type="submit" formaction="/console/rules/backtest" id="rule-backtest">Backtest</button>
  </div>
</form>`;
}

export function backtestBody(hunt: RetroHunt, detections: Detection[]): Html {
  const running = hunt.status === 'running';
  return html`<p class="crumbs"><a href="/console/rules">Rules</a> › backtest ${hunt.id}</p>
<h1>Backtest ${hunt.id}</h1>
<p class="summary-line" id="backtest-status" data-status="${hunt.status}">${
    running
      ? 'Running…'
      : hunt.status === 'failed'
        ? html`Failed: ${hunt.error ?? 'no reason given'}`
        : 'Done'
  } · ${hunt.events.toLocaleString('en')} events read · ${hunt.detections.toLocaleString('en')} matches${hunt.since !== null && html` · events since ${shortTime(new Date(hunt.since).toISOString())} UTC`}</p>
<p class="hint">The tenant's stored events (its newest million at most) replayed through the rule, apart from live detection: these matches open no alert.</p>
${
  detections.length === 0
    ? html`<p class="empty">${running ? 'No match yet.' : 'No match: the rule would not have fired on these events.'}</p>`
    : html`<table class="timeline" id="backtest-matches"><thead><tr><th>Time (UTC)</th><th>Host</th><th>Rule</th><th>Matched</th></tr></thead><tbody>${detections.map(
        (d) =>
          html`<tr><td class="time">${d.time ? shortTime(d.time) : '—'}</td><td class="host">${clip(d.host ?? '', 120) || '—'}</td><td>${clip(d.rule.title, 120)}</td><td>${Object.entries(
            d.matched ?? {},
          ).map(([k, v]) => html`<code>${k}</code>=<mark>${clip(String(v), 200)}</mark> `)}</td></tr>`,
      )}</tbody></table>`
}
${hunt.detections > detections.length && html`<p class="hint">The first ${detections.length} of ${hunt.detections.toLocaleString('en')}; the API (GET /api/v1/hunts/${hunt.id}) pages through them all.</p>`}`;
}
