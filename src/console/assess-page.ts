import type { AssessmentJob } from './assessments.js';
import { type Html, html } from './html.js';
import { shortTime } from './queue-page.js';
import type { ConsoleUser } from './session.js';

export interface AssessView {
  user: ConsoleUser;
  tenant: string;
  jobs: AssessmentJob[];
  maxBytes: number;
  problem?: string;
}

function jobLine(job: AssessmentJob): Html {
  return html`<li><a href="/console/assess/${job.id}">${job.summary?.title ?? job.source}</a> · ${shortTime(job.startedAt)} · ${job.status}</li>`;
}

export function assessBody(view: AssessView): Html {
  const csrf = view.user.session.csrf;
  return html`<h1>Assess an advisory for ${view.tenant}</h1>
<p class="hint">The advisory's techniques, indicators and CVEs against the rules deployed for ${view.tenant} and the logs its stored events show: the report <code>vigil assess</code> writes. Text, HTML, PDF or STIX/JSON.</p>
${view.problem && html`<p class="problem" role="alert" id="assess-problem">${view.problem}</p>`}
<div class="columns two">
<form method="post" action="/console/assess/upload" class="card" id="assess-upload" data-max="${view.maxBytes}" data-file-input="advisory-file">
  <h2>A file</h2>
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Advisory file <input type="file" id="advisory-file" required accept=".txt,.md,.html,.htm,.pdf,.json"></label>
  <p class="hint">At most ${Math.round(view.maxBytes / 1024 ** 2)} MB.</p>
  <button type="submit" id="assess-upload-submit">Assess</button>
  <noscript><p class="problem">Sending a file needs the console's script; give a URL instead.</p></noscript>
</form>
<form method="post" action="/console/assess/url" class="card" id="assess-url">
  <h2>A URL</h2>
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Advisory URL <input type="url" name="url" id="advisory-url" required maxlength="2000" placeholder="https://www.cisa.gov/…"></label>
  <p class="hint">Fetched by the service: never from a loopback, private or link-local address unless an admin allows the host (config.yml, fetch.allow_hosts).</p>
  <button type="submit" id="assess-url-submit">Fetch and assess</button>
</form>
</div>
${view.jobs.length > 0 && html`<section class="card"><h2>Recent assessments</h2><ul id="assessments">${view.jobs.map(jobLine)}</ul></section>`}`;
}

export function jobBody(job: AssessmentJob): Html {
  const s = job.summary;
  return html`<p class="crumbs"><a href="/console/assess">Assessment</a> › ${job.source}</p>
<h1>${s?.title ?? job.source}</h1>
<p class="summary-line" id="assess-status" data-status="${job.status}">${
    job.status === 'running' ? 'Running…' : job.status === 'failed' ? 'Failed' : 'Done'
  } · started ${shortTime(job.startedAt)} UTC by ${job.requestedBy}</p>
${job.error && html`<p class="problem" role="alert" id="assess-error">${job.error}</p>`}
${
  s &&
  html`<div class="counts"><span class="facet"><b>${s.maturity}</b>/100 maturity</span><span class="facet"><b>${s.techniques}</b> techniques</span><span class="facet state-covered"><b>${s.covered}</b> covered</span><span class="facet state-blind"><b>${s.blind}</b> blind</span></div>
<p><a href="/console/assess/${job.id}/report" target="_blank" rel="noopener">Open the report on its own</a></p>
<iframe class="report" id="report" src="/console/assess/${job.id}/report" sandbox="" title="The assessment report"></iframe>`
}`;
}
