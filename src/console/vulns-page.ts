import { DECISION_ORDER, type Prioritized } from '../vuln/index.js';
import { clip, type Html, html } from './html.js';
import type { ConsoleUser } from './session.js';

/** Findings listed at once, most urgent first; `vigil vulns list` gives them all. */
export const FINDINGS_SHOWN = 300;

export interface VulnsView {
  user: ConsoleUser;
  tenant: string;
  /** Every finding, fixed ones included, most urgent first. */
  findings: Prioritized[];
  maxBytes: number;
  /** Why findings cannot be decided (no SSVC tables). */
  unavailable?: string;
  notice?: string;
  problem?: string;
}

function findingRow(f: Prioritized): Html {
  return html`<tr class="finding${f.overdue ? ' overdue' : ''}" data-cve="${f.cve}" data-asset="${f.asset}">
  <td><span class="decision decision-${f.decision.toLowerCase().replace('*', '-star')}">${f.decision}</span></td>
  <td><a href="https://nvd.nist.gov/vuln/detail/${f.cve}" rel="noreferrer noopener" target="_blank">${f.cve}</a>${f.kev && html` <span class="tag">KEV</span>`}</td>
  <td class="host">${clip(f.asset, 80)}${f.port !== null && html`:${f.port}`}${f.public_facing && html` <span class="tag">public</span>`}</td>
  <td>${clip(f.product ?? f.service ?? '—', 80)}</td>
  <td class="num">${f.cvss ?? '—'}</td>
  <td class="num">${f.epss === null ? '—' : `${(f.epss * 100).toFixed(1)} %`}</td>
  <td class="time">${f.due ?? f.timeline}${f.overdue && html` <span class="overdue-flag">overdue</span>`}</td>
  <td>${f.accepted ? html`accepted until ${f.accepted_until ?? '—'}` : f.owner ? clip(f.owner, 60) : '—'}</td>
  <td><details><summary>why</summary><ul class="reasons">${f.reasons.map((r) => html`<li>${r}</li>`)}</ul></details></td>
</tr>`;
}

export function vulnsBody(view: VulnsView): Html {
  const open = view.findings.filter((f) => f.status === 'open');
  const waiting = open.filter((f) => !f.accepted);
  const overdue = waiting.filter((f) => f.overdue).length;
  const accepted = open.length - waiting.length;
  const fixed = view.findings.length - open.length;
  return html`<h1>Vulnerabilities of ${view.tenant}</h1>
${view.notice && html`<p class="notice" role="status" id="vulns-notice">${view.notice}</p>`}
${view.problem && html`<p class="problem" role="alert" id="vulns-problem">${view.problem}</p>`}
${view.unavailable && html`<p class="problem" role="alert">${view.unavailable}</p>`}
<div class="counts" id="vuln-counts">
  <span class="facet" data-count="open"><b>${waiting.length}</b> open</span>
  ${DECISION_ORDER.map((d) => html`<span class="facet" data-count-decision="${d}"><b>${waiting.filter((f) => f.decision === d).length}</b> ${d}</span>`)}
  <span class="facet overdue-count" data-count="overdue"><b>${overdue}</b> overdue</span>
  <span class="facet" data-count="accepted"><b>${accepted}</b> accepted</span>
  <span class="facet" data-count="fixed"><b>${fixed}</b> fixed</span>
</div>
${
  view.user.may('triage') &&
  html`<form method="post" action="/console/vulns/import" class="card upload" id="vulns-upload" data-max="${view.maxBytes}" data-file-input="scan-file">
  <input type="hidden" name="_csrf" value="${view.user.session.csrf}">
  <label>Scanner file (Nessus .nessus, OpenVAS/GVM XML, Trivy or Grype JSON, CSV) <input type="file" id="scan-file" required accept=".nessus,.xml,.json,.csv"></label>
  <button type="submit" id="scan-import">Import</button>
  <span class="hint">At most ${Math.round(view.maxBytes / 1024 ** 2)} MB. A finding closes only when its own check ran again on the asset and did not find it.</span>
</form>`
}
${
  waiting.length === 0
    ? html`<p class="empty">No open finding.</p>`
    : html`<table class="findings" id="findings"><thead><tr><th scope="col">Decision</th><th scope="col">CVE</th><th scope="col">Asset</th><th scope="col">Product</th><th scope="col">CVSS</th><th scope="col">EPSS</th><th scope="col">Due</th><th scope="col">Owner</th><th scope="col"><span class="visually-hidden">Reasons</span></th></tr></thead>
<tbody>${open.slice(0, FINDINGS_SHOWN).map(findingRow)}</tbody></table>
${open.length > FINDINGS_SHOWN && html`<p class="hint">The ${FINDINGS_SHOWN} most urgent of ${open.length}.</p>`}`
}`;
}
