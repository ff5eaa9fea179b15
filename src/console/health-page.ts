import type { HealthFigures, Series } from './health.js';
import { type Html, html } from './html.js';

const WIDTH = 320;
const HEIGHT = 64;

function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function figure(n: number): string {
  return n >= 100
    ? Math.round(n).toLocaleString('en')
    : n.toFixed(n >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
}

/** A line chart drawn on the server: no script, no style attribute, a title a screen reader reads. */
export function lineChart(series: Series, unit: string): Html {
  const points = series.points;
  const max = Math.max(1e-9, ...points.map(([, v]) => v));
  const first = points[0]?.[0] ?? 0;
  const span = Math.max(1, (points.at(-1)?.[0] ?? 0) - first);
  const xy = points
    .map(
      ([t, v]) =>
        `${(((t - first) / span) * (WIDTH - 2) + 1).toFixed(1)},${(HEIGHT - 2 - (v / max) * (HEIGHT - 4)).toFixed(1)}`,
    )
    .join(' ');
  const latest = points.at(-1)?.[1] ?? 0;
  const peak = Math.max(0, ...points.map(([, v]) => v));
  const label = `${series.tenant} ${series.label}: now ${figure(latest)} ${unit}, peak ${figure(peak)}`;
  return html`<figure class="chart" data-series="${series.tenant}/${series.label}">
  <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${label}"><title>${label}</title>
    <line x1="0" y1="${HEIGHT - 1}" x2="${WIDTH}" y2="${HEIGHT - 1}" class="axis"></line>
    ${points.length > 1 ? html`<polyline points="${xy}" class="line"></polyline>` : html`<circle cx="${WIDTH - 3}" cy="${HEIGHT - 2 - (latest / max) * (HEIGHT - 4)}" r="2" class="dot"></circle>`}
  </svg>
  <figcaption><b>${series.tenant}</b> · ${series.label}: <span class="now">${figure(latest)}</span> ${unit} now, peak ${figure(peak)}${series.total !== undefined && html` · <span class="total">${series.total.toLocaleString('en')}</span> events since start`}</figcaption>
</figure>`;
}

export function healthBody(f: HealthFigures): Html {
  const minutes = Math.round(f.sampledEveryMs / 1000);
  return html`<h1>Health</h1>
<p class="summary-line">Taken every ${minutes} s since the service started (the last hour is kept) and once more as this page opened.</p>
<div class="counts" id="health-counts">
  <span class="facet" data-figure="detections"><b>${f.detections.toLocaleString('en')}</b> detections stored</span>
  ${f.ruleErrors.map((r) => html`<span class="facet${r.count > 0 ? ' overdue-count' : ''}" data-figure="rule-errors"><b>${r.count}</b> ${r.scope} could not be used</span>`)}
  ${f.eventErrors !== undefined && html`<span class="facet" data-figure="event-errors"><b>${f.eventErrors}</b> events unreadable since start</span>`}
</div>
<section class="card" aria-labelledby="rates-title"><h2 id="rates-title">Events per second, by tenant and input</h2>
${f.rates.length === 0 ? html`<p class="empty">No event received since the service started.</p>` : html`<div class="charts" id="rates">${f.rates.map((s) => lineChart(s, 'events/s'))}</div>`}
</section>
<section class="card" aria-labelledby="lag-title"><h2 id="lag-title">Lag: events waiting for detection</h2>
${f.lag.length === 0 ? html`<p class="empty">No tenant has events yet.</p>` : html`<div class="charts" id="lag">${f.lag.map((s) => lineChart(s, 'events'))}</div>`}
</section>
<section class="card" aria-labelledby="storage-title"><h2 id="storage-title">Storage</h2>
<table class="compact" id="storage"><tbody>
${f.storage.map((s) => html`<tr data-tenant="${s.tenant}"><th scope="row">Event log of ${s.tenant}</th><td class="num">${bytes(s.bytes)}</td></tr>`)}
${f.databaseBytes !== undefined && html`<tr><th scope="row">Database (alerts, detections, audit)</th><td class="num">${bytes(f.databaseBytes)}</td></tr>`}
</tbody></table>
</section>`;
}
