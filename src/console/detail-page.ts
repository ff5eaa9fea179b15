import { basename } from 'node:path';
import type { FieldValue } from '../core/index.js';
import type { IndicatorContext } from '../detect/index.js';
import { toLogEvent } from '../logs/index.js';
import { showFact } from '../respond/index.js';
import {
  ALERT_STATUSES,
  type Alert,
  type AlertDetail,
  CLOSE_REASONS,
  type PlaybookChoice,
  type ResponseRecord,
  type StoredDetection,
  type TimelineEvent,
} from '../service/index.js';
import type { CorrelationRule, DetectionRule } from '../sigma/index.js';
import { clip, type Html, html, webUrl } from './html.js';
import { alertRow, label, shortTime } from './queue-page.js';
import type { ConsoleUser } from './session.js';

/** A value longer than this is shown cut, with its full length: a page must stay readable. */
const VALUE_SHOWN = 20_000;
/** Detections shown with their events on the page (the API pages through all of them). */
const DETECTIONS_SHOWN = 50;
const TIMELINE_SHOWN = 100;

export interface DetailView {
  user: ConsoleUser;
  alert: AlertDetail;
  rule?: DetectionRule | CorrelationRule;
  ruleYaml?: string;
  hostAlerts: Alert[];
  timeline: TimelineEvent[];
  /** The steps of the playbooks run on the alert. */
  responses: ResponseRecord[];
  /** The playbooks an analyst may run on the alert by hand, those meant for it first. */
  playbooks: PlaybookChoice[];
  /** Whether an action can be undone (a containment), so a done step may be released. */
  revertible: (action: string) => boolean;
  techniqueName: (id: string) => string | undefined;
  notice?: string;
  problem?: string;
}

function text(value: FieldValue | unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function shown(value: string): Html {
  if (value.length <= VALUE_SHOWN) return html`${value}`;
  return html`${value.slice(0, VALUE_SHOWN)}<span class="cut"> … (${value.length.toLocaleString('en')} characters in all)</span>`;
}

/** The event's fields as rules name them, the matched ones marked. */
function eventFields(event: unknown, matched: Record<string, FieldValue>): Html {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return html`<pre class="raw">${shown(text(event))}</pre>`;
  }
  const fields = toLogEvent(event as never, 'event', 0).fields;
  const rows = Object.entries(fields).map(([name, value]) => {
    const hit = Object.hasOwn(matched, name);
    return html`<tr${hit ? html` class="match"` : ''}><th scope="row">${name}</th><td>${hit ? html`<mark>${shown(text(value))}</mark>` : shown(text(value))}</td></tr>`;
  });
  return html`<table class="fields"><tbody>${rows}</tbody></table>`;
}

/** What is known of the indicator a detection matched: where it came from, how sure and how old. */
function indicatorFacts(indicator: IndicatorContext): Html {
  return html`<h4>Indicator</h4>
  <dl class="facts indicator" id="indicator">
    <dt>Value</dt><dd><mark>${shown(indicator.value)}</mark> (${indicator.type}, in ${indicator.field})</dd>
    <dt>Source</dt><dd>${basename(indicator.source)}</dd>
    <dt>Confidence</dt><dd>${indicator.confidence}/100</dd>
    ${indicator.firstSeen && html`<dt>First seen</dt><dd>${shortTime(indicator.firstSeen)} UTC</dd>`}
    ${indicator.lastSeen && html`<dt>Last seen</dt><dd>${shortTime(indicator.lastSeen)} UTC</dd>`}
    ${indicator.ageDays !== undefined && html`<dt>Age</dt><dd>${indicator.ageDays} days since last seen</dd>`}
    ${indicator.note && html`<dt>Note</dt><dd>${shown(indicator.note)}</dd>`}
  </dl>`;
}

function detectionBlock(stored: StoredDetection, index: number): Html {
  const d = stored.detection;
  const matched = d.matched ?? {};
  const events = stored.events;
  return html`<details class="detection"${index === 0 ? html` open` : ''} id="detection-${stored.id}">
  <summary>${d.time ? shortTime(d.time) : 'no event time'} · event ${d.source.record} · ${Object.keys(matched).length} matched field${Object.keys(matched).length === 1 ? '' : 's'}${d.correlation && html` · correlation (${d.correlation.type}, ${d.correlation.value})`}</summary>
  ${d.indicator && indicatorFacts(d.indicator)}
  ${d.correlation?.detail && html`<p class="baseline">${d.correlation.detail}</p>`}
  <h4>Why it fired</h4>
  <table class="fields why"><tbody>${Object.entries(matched).map(
    ([name, value]) =>
      html`<tr class="match"><th scope="row">${name}</th><td><mark>${shown(text(value))}</mark></td></tr>`,
  )}</tbody></table>
  ${events.slice(0, 20).map(
    (event, i) => html`<h4>Event${events.length > 1 ? html` ${i + 1} of ${events.length}` : ''}</h4>
  ${eventFields(event, matched)}
  <details class="raw-json"><summary>As received</summary><pre class="raw">${shown(JSON.stringify(event, null, 2))}</pre></details>`,
  )}
</details>`;
}

function ruleSection(view: DetailView): Html {
  const { alert, rule } = view;
  const references = rule?.references ?? [];
  return html`<section class="card" aria-labelledby="rule-title">
  <h2 id="rule-title">Rule</h2>
  <dl class="facts">
    <dt>Title</dt><dd class="rule-name">${rule?.title ?? alert.rule.title}</dd>
    <dt>Id</dt><dd>${alert.rule.id ?? '—'}</dd>
    <dt>Level</dt><dd><span class="level level-${alert.rule.level}">${alert.rule.level}</span></dd>
    ${rule?.author && html`<dt>Author</dt><dd>${rule.author}</dd>`}
    ${rule?.status && html`<dt>Status</dt><dd>${rule.status}</dd>`}
  </dl>
  ${rule?.description && html`<p class="description">${rule.description}</p>`}
  ${
    references.length > 0 &&
    html`<h3>References</h3><ul class="references">${references.map((ref) => {
      const url = webUrl(ref);
      return html`<li>${url ? html`<a href="${url}" rel="noreferrer noopener" target="_blank">${ref}</a>` : ref}</li>`;
    })}</ul>`
  }
  ${
    rule
      ? html`<details class="yaml"><summary>YAML source (${basename(rule.origin.file)}, line ${rule.origin.line})</summary><pre id="rule-yaml">${view.ruleYaml ?? 'the rule file cannot be read now'}</pre></details>`
      : html`<p class="hint">The rule is no longer loaded: what is shown comes from its detections.</p>`
  }
</section>`;
}

function techniques(view: DetailView): Html {
  const ids = view.alert.techniques;
  if (ids.length === 0) return html`<p class="hint">The rule names no ATT&amp;CK technique.</p>`;
  return html`<ul class="techniques-list">${ids.map((id) => {
    const name = view.techniqueName(id);
    return html`<li><a href="/console/coverage?technique=${id}#technique" title="The tenant's coverage of ${id}">${id}</a>${name ? html` ${name}` : ''}</li>`;
  })}</ul>`;
}

function triageSection(view: DetailView): Html {
  const { alert, user } = view;
  const history = alert.history;
  return html`<section class="card" aria-labelledby="triage-title">
  <h2 id="triage-title">Triage</h2>
  <dl class="facts">
    <dt>Status</dt><dd id="alert-status"><span class="status status-${alert.status}">${label(alert.status)}</span></dd>
    <dt>Close reason</dt><dd>${alert.closeReason ? label(alert.closeReason) : '—'}</dd>
    <dt>Assignee</dt><dd id="alert-assignee">${alert.assignee ?? '—'}</dd>
  </dl>
  ${
    user.may('triage') &&
    html`<form method="post" action="/console/alerts/${alert.id}/triage" class="triage" id="triage">
    <input type="hidden" name="_csrf" value="${user.session.csrf}">
    <label>Status <select name="status" id="triage-status">${ALERT_STATUSES.map(
      (s) => html`<option value="${s}"${s === alert.status ? html` selected` : ''}>${label(s)}</option>`,
    )}</select></label>
    <label>Close reason <select name="close_reason" id="triage-reason"><option value="">—</option>${CLOSE_REASONS.map(
      (r) => html`<option value="${r}"${r === alert.closeReason ? html` selected` : ''}>${label(r)}</option>`,
    )}</select></label>
    <label>Assignee <input type="text" name="assignee" value="${alert.assignee ?? ''}" maxlength="200" id="triage-assignee"></label>
    <label class="wide">Note <textarea name="note" maxlength="10000" rows="2" id="triage-note"></textarea></label>
    <button type="submit" id="triage-save">Save</button>
  </form>`
  }
  <h3>History</h3>
  ${
    history.length === 0
      ? html`<p class="hint">No change yet.</p>`
      : html`<ol class="history" id="history">${history.map(
          (h) =>
            html`<li><time>${shortTime(h.time)}</time> <span class="actor">${h.actor}</span> ${Object.entries(
              h.change,
            ).map(([key, change]) =>
              key === 'note'
                ? html`<q class="note">${text(change)}</q> `
                : html`<span class="change">${key.replace('_', ' ')}: ${label(text((change as { from: unknown }).from) || '—')} → ${label(text((change as { to: unknown }).to) || '—')}</span> `,
            )}</li>`,
        )}</ol>`
  }
</section>`;
}

const STEP_STATES: Record<ResponseRecord['state'], string> = {
  planned: 'Planned (dry run)',
  'awaiting-approval': 'Awaiting approval',
  rejected: 'Rejected',
  expired: 'Approval lapsed',
  skipped: 'Skipped',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  reverted: 'Reverted',
};

function responseForm(user: DetailView['user'], record: ResponseRecord, verb: string, caption: string): Html {
  return html`<form method="post" action="/console/responses/${record.id}/${verb}" class="inline">
    <input type="hidden" name="_csrf" value="${user.session.csrf}">
    <button type="submit" class="${verb}" id="response-${record.id}-${verb}">${caption}</button>
  </form>`;
}

/** What a lookup found, as a short list under its step (instead of its one-line result). */
function factList(record: ResponseRecord): Html | undefined {
  if (!record.facts || !record.action.startsWith('enrich.')) return undefined;
  return html`<dl class="facts step-facts">${Object.entries(record.facts).map(
    ([name, value]) => html`<dt>${name}</dt><dd>${clip(showFact(value), 300)}</dd>`,
  )}</dl>`;
}

/**
 * Running a playbook by hand: any playbook of the alert's tenant, those whose trigger holds first
 * and the others with the reason they would not trigger. A dry run plans every action step (lookups
 * and decisions are made, nothing is sent); a run carries it out as its modes say.
 */
function runForm(view: DetailView): Html {
  const { user, alert, playbooks } = view;
  if (!user.may('triage') || playbooks.length === 0) return html``;
  return html`<form method="post" action="/console/alerts/${alert.id}/respond" class="run-playbook" id="run-playbook">
    <input type="hidden" name="_csrf" value="${user.session.csrf}">
    <label>Playbook <select name="playbook" id="run-playbook-name">${playbooks.map(
      (p) =>
        html`<option value="${p.name}">${p.name} (${p.mode})${p.applies ? ' — applies' : ` — would not trigger: ${p.reason}`}</option>`,
    )}</select></label>
    <button type="submit" name="run" value="dry-run" id="run-playbook-dry">Dry run</button>
    <button type="submit" name="run" value="run" id="run-playbook-run">Run</button>
  </form>`;
}

function responseSection(view: DetailView): Html {
  const { user, responses } = view;
  return html`<section class="card" aria-labelledby="response-title">
  <h2 id="response-title">Response</h2>
  ${runForm(view)}
  ${
    responses.length === 0
      ? html`<p class="hint">No playbook ran on this alert.</p>`
      : html`<ol class="responses" id="responses">${responses.map(
          (r) => html`<li class="response state-${r.state}" id="response-${r.id}">
    <p><strong>${r.playbook}</strong> · ${r.step} · <code>${r.action}</code> · ${r.mode}
      <span class="status">${STEP_STATES[r.state]}</span></p>
    ${r.request && html`<p class="hint">${clip(r.request, 500)}</p>`}
    ${r.action === 'decide' && html`<p class="hint">${r.params.condition}</p>`}
    ${factList(r) ?? (r.result && html`<p>${clip(r.result, 500)}</p>`)}
    ${r.error && html`<p class="problem">${clip(r.error, 500)}</p>`}
    ${r.expiresAt !== null && r.state === 'awaiting-approval' && html`<p class="hint">The request lapses at ${shortTime(new Date(r.expiresAt).toISOString())} UTC.</p>`}
    ${r.revertAt !== null && r.state === 'done' && html`<p class="hint">Ends at ${shortTime(new Date(r.revertAt).toISOString())} UTC.</p>`}
    ${r.decidedBy && html`<p class="hint">Decided by ${r.decidedBy}.</p>`}
    ${
      user.may('triage') &&
      html`${r.state === 'awaiting-approval' && html`${responseForm(user, r, 'approve', 'Approve')} ${responseForm(user, r, 'reject', 'Reject')}`}${
        r.state === 'done' && view.revertible(r.action) && responseForm(user, r, 'release', 'Release')
      }`
    }
  </li>`,
        )}</ol>`
  }
</section>`;
}

function timelineSection(view: DetailView): Html {
  const fired = new Set(view.alert.detections.map((d) => d.seq));
  const events = view.timeline.slice(0, TIMELINE_SHOWN);
  return html`<section class="card" aria-labelledby="timeline-title">
  <h2 id="timeline-title">Events of ${view.alert.host || 'the host'} around the first detection</h2>
  <p class="hint">From the tenant's event log: the events of the same host among the 200 received before and after it.</p>
  ${
    events.length === 0
      ? html`<p class="hint">The event log no longer holds these events.</p>`
      : html`<table class="timeline" id="timeline"><thead><tr><th>Time (UTC)</th><th>Position</th><th>Event</th></tr></thead><tbody>${events.map(
          (e) => html`<tr${fired.has(e.seq) ? html` class="fired"` : ''}>
      <td class="time">${e.time === undefined ? '—' : shortTime(new Date(e.time).toISOString())}</td>
      <td class="num">${e.seq}</td>
      <td>${summary(e.fields)}${fired.has(e.seq) && html` <span class="tag">detection</span>`}</td></tr>`,
        )}</tbody></table>`
  }
</section>`;
}

/** A line that says what an event is: its id and channel, then the first few fields. */
function summary(fields: Readonly<Record<string, FieldValue>>): string {
  const parts: string[] = [];
  for (const name of ['EventID', 'Channel', 'Image', 'CommandLine', 'TargetUserName', 'action', 'message']) {
    if (fields[name] !== undefined) parts.push(`${name}=${text(fields[name])}`);
  }
  if (parts.length < 3) {
    for (const [name, value] of Object.entries(fields)) {
      if (parts.length >= 5) break;
      if (!parts.some((p) => p.startsWith(`${name}=`))) parts.push(`${name}=${text(value)}`);
    }
  }
  return clip(parts.join(' · '), 300);
}

export function detailBody(view: DetailView): Html {
  const { alert, user } = view;
  const others = view.hostAlerts.filter((a) => a.id !== alert.id);
  return html`<p class="crumbs"><a href="/console/alerts">Alerts</a> › alert ${alert.id}</p>
${view.notice && html`<p class="notice" role="status">${view.notice}</p>`}
${view.problem && html`<p class="problem" role="alert">${view.problem}</p>`}
<h1 class="alert-title"><span class="level level-${alert.rule.level}">${alert.rule.level}</span> ${alert.rule.title}</h1>
<p class="summary-line">${alert.host || 'no host'} · tenant ${alert.tenant} · ${alert.count} detection${alert.count === 1 ? '' : 's'} · ${shortTime(alert.firstSeen)} → ${shortTime(alert.lastSeen)} UTC</p>
<div class="detail-grid">
<div class="detail-main">
${ruleSection(view)}
<section class="card" aria-labelledby="detections-title">
  <h2 id="detections-title">Detections</h2>
  ${alert.detections.length > DETECTIONS_SHOWN && html`<p class="hint">The first ${DETECTIONS_SHOWN} of ${alert.detections.length}; the API gives them all.</p>`}
  ${alert.detections.slice(0, DETECTIONS_SHOWN).map(detectionBlock)}
</section>
${timelineSection(view)}
</div>
<div class="detail-side">
${triageSection(view)}
${responseSection(view)}
<section class="card" aria-labelledby="attack-title"><h2 id="attack-title">ATT&amp;CK</h2>${techniques(view)}</section>
<section class="card" aria-labelledby="host-title">
  <h2 id="host-title">Other alerts of ${alert.host || 'the host'}</h2>
  ${
    others.length === 0
      ? html`<p class="hint">None.</p>`
      : html`<table class="queue compact"><tbody>${others.map((a) => alertRow(a, { ...user, may: () => false }))}</tbody></table>`
  }
</section>
</div>
</div>`;
}
