import type { Alert, AlertFacets, AlertGroup } from '../service/index.js';
import { ALERT_STATUSES, CLOSE_REASONS } from '../service/index.js';
import { LEVELS } from '../sigma/index.js';
import { clip, type Html, html } from './html.js';
import { type QueueFilters, queueUrl } from './queue-filters.js';
import type { ConsoleUser } from './session.js';

export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

const LABELS: Record<string, string> = {
  acknowledged: 'acknowledged',
  true_positive: 'true positive',
  benign_true_positive: 'benign true positive',
  false_positive: 'false positive',
  duplicate: 'duplicate',
};

export function label(value: string): string {
  return LABELS[value] ?? value;
}

/** One row of the queue: also sent alone when a live alert arrives. */
export function alertRow(alert: Alert, user: ConsoleUser): Html {
  return html`<tr class="alert-row level-${alert.rule.level}" tabindex="-1" data-id="${alert.id}" data-href="/console/alerts/${alert.id}">
  <td class="select">${user.may('triage') && html`<input type="checkbox" name="id" value="${alert.id}" form="bulk" aria-label="Select alert ${alert.id}">`}</td>
  <td><span class="level">${alert.rule.level}</span></td>
  <td class="title"><a href="/console/alerts/${alert.id}">${clip(alert.rule.title, 200)}</a></td>
  <td class="host">${clip(alert.host, 120) || '—'}</td>
  ${user.scope === null && html`<td>${alert.tenant}</td>`}
  <td class="techniques">${alert.techniques.slice(0, 4).join(' ')}</td>
  <td class="num">${alert.count.toLocaleString('en')}</td>
  <td class="time">${shortTime(alert.lastSeen)}</td>
  <td><span class="status status-${alert.status}">${label(alert.status)}</span>${alert.closeReason && html` <span class="reason">${label(alert.closeReason)}</span>`}</td>
  <td class="assignee">${alert.assignee ? clip(alert.assignee, 60) : '—'}</td>
</tr>`;
}

function counts(facets: AlertFacets, filters: QueueFilters): Html {
  return html`<div class="counts" aria-label="Counts">
  <ul class="facet">${ALERT_STATUSES.map(
    (s) =>
      html`<li><a href="${queueUrl(filters, { status: [s], cursor: undefined })}" class="status-${s}" data-count-status="${s}">${label(s)} <b>${facets.status[s].toLocaleString('en')}</b></a></li>`,
  )}</ul>
  <ul class="facet">${[...LEVELS]
    .reverse()
    .map(
      (l) =>
        html`<li><a href="${queueUrl(filters, { level: [l], cursor: undefined })}" class="level-${l}" data-count-level="${l}">${l} <b>${(facets.level[l] ?? 0).toLocaleString('en')}</b></a></li>`,
    )}</ul>
</div>`;
}

function filterForm(filters: QueueFilters): Html {
  const checks = (name: 'status' | 'level', options: readonly string[]) =>
    options.map(
      (o) =>
        html`<label class="check"><input type="checkbox" name="${name}" value="${o}"${(filters[name] as string[]).includes(o) ? html` checked` : ''} data-autosubmit> ${label(o)}</label>`,
    );
  const text = (name: 'rule' | 'host' | 'technique' | 'assignee', title: string, hint: string) =>
    html`<label>${title} <input type="text" name="${name}" value="${filters[name] ?? ''}" placeholder="${hint}" id="filter-${name}"></label>`;
  const select = (name: 'group' | 'sort', title: string, options: [string, string][]) =>
    html`<label>${title} <select name="${name}" id="filter-${name}" data-autosubmit>${options.map(
      ([value, text]) =>
        html`<option value="${value}"${(filters[name] ?? '') === value ? html` selected` : ''}>${text}</option>`,
    )}</select></label>`;
  return html`<form class="filters" method="get" action="/console/alerts" id="filters">
  <fieldset><legend>Status</legend>${checks('status', ALERT_STATUSES)}</fieldset>
  <fieldset><legend>Level</legend>${checks('level', [...LEVELS].reverse())}</fieldset>
  <fieldset class="texts">
    ${text('rule', 'Rule', 'id or title')}
    ${text('host', 'Host', 'host name')}
    ${text('technique', 'Technique', 'T1059')}
    ${text('assignee', 'Assignee', 'name, or - for nobody')}
    <label>From <input type="datetime-local" name="since" value="${filters.since ?? ''}" id="filter-since"></label>
    <label>To <input type="datetime-local" name="until" value="${filters.until ?? ''}" id="filter-until"></label>
    <span class="hint">times in UTC</span>
  </fieldset>
  <fieldset class="texts">
    ${select('group', 'Group by', [
      ['', 'nothing'],
      ['rule', 'rule'],
      ['host', 'host'],
    ])}
    ${select('sort', 'Sort by', [
      ['newest', 'newest'],
      ['last_seen', 'last seen'],
      ['level', 'level'],
      ['count', 'detections'],
    ])}
    <button type="submit" id="apply-filters">Apply</button>
    <a href="/console/alerts">Clear</a>
  </fieldset>
</form>`;
}

function bulkForm(user: ConsoleUser, returnTo: string): Html {
  return html`<form id="bulk" class="bulk" method="post" action="/console/alerts/triage">
  <input type="hidden" name="_csrf" value="${user.session.csrf}">
  <input type="hidden" name="return" value="${returnTo}">
  <label>Selected alerts <select name="action" id="bulk-action">
    <option value="acknowledge">acknowledge</option>
    <option value="close">close</option>
    <option value="assign">assign</option>
    <option value="reopen">reopen</option>
  </select></label>
  <label>Close reason <select name="close_reason" id="bulk-reason">
    <option value="">—</option>
    ${CLOSE_REASONS.map((r) => html`<option value="${r}">${label(r)}</option>`)}
  </select></label>
  <label>Assignee <input type="text" name="assignee" id="bulk-assignee" maxlength="200"></label>
  <label>Note <input type="text" name="note" id="bulk-note" maxlength="10000"></label>
  <button type="submit" id="bulk-apply">Apply</button>
</form>`;
}

function helpDialog(): Html {
  return html`<dialog id="help" aria-labelledby="help-title">
  <h2 id="help-title">Keys</h2>
  <dl class="keys">
    <dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous alert</dd>
    <dt><kbd>x</kbd></dt><dd>select the alert (for the bulk actions)</dd>
    <dt><kbd>a</kbd></dt><dd>acknowledge the selected alerts, or the one in focus</dd>
    <dt><kbd>Enter</kbd></dt><dd>open the alert</dd>
    <dt><kbd>/</kbd></dt><dd>filter by rule</dd>
    <dt><kbd>?</kbd></dt><dd>this help</dd>
  </dl>
  <form method="dialog"><button type="submit">Close</button></form>
</dialog>`;
}

export interface QueueView {
  user: ConsoleUser;
  filters: QueueFilters;
  facets: AlertFacets;
  alerts?: { items: Alert[]; next: string | null };
  groups?: AlertGroup[];
  notice?: string;
  problem?: string;
}

export function queueBody(view: QueueView): Html {
  const { user, filters } = view;
  const here = queueUrl(filters);
  return html`<h1 class="visually-hidden">Alert queue</h1>
${view.notice && html`<p class="notice" role="status">${view.notice}</p>`}
${view.problem && html`<p class="problem" role="alert">${view.problem}</p>`}
${counts(view.facets, filters)}
${filterForm(filters)}
<p id="live-status" class="live" role="status" aria-live="polite"></p>
${view.groups && groupTable(view.groups, filters)}
${
  view.alerts &&
  html`${user.may('triage') && bulkForm(user, here)}
<table class="queue" id="queue" aria-label="Alerts">
  <thead><tr><th class="select"><span class="visually-hidden">Select</span></th><th>Level</th><th>Rule</th><th>Host</th>${user.scope === null && html`<th>Tenant</th>`}<th>Techniques</th><th class="num">Detections</th><th>Last seen (UTC)</th><th>Status</th><th>Assignee</th></tr></thead>
  <tbody>${view.alerts.items.map((a) => alertRow(a, user))}</tbody>
</table>
${view.alerts.items.length === 0 && html`<p class="empty">No alert matches these filters.</p>`}
<nav class="pages" aria-label="Pages">
  ${filters.cursor && html`<a href="${queueUrl(filters, { cursor: undefined })}">First page</a>`}
  ${view.alerts.next && html`<a href="${queueUrl(filters, { cursor: view.alerts.next })}" id="next-page" rel="next">Next page</a>`}
</nav>`
}
${helpDialog()}`;
}

function groupTable(groups: AlertGroup[], filters: QueueFilters): Html {
  const by = filters.group!;
  return html`<table class="groups" id="groups" aria-label="Alerts by ${by}">
  <thead><tr><th>${by === 'rule' ? 'Rule' : 'Host'}</th><th class="num">Alerts</th></tr></thead>
  <tbody>${groups.map(
    (g) =>
      html`<tr><td><a href="${queueUrl(filters, { group: undefined, [by]: g.key, cursor: undefined })}">${clip(g.label || '(no host)', 200)}</a></td><td class="num">${g.count.toLocaleString('en')}</td></tr>`,
  )}</tbody>
</table>`;
}
