import { type Html, type HtmlValue, html } from './html.js';
import type { ConsoleUser } from './session.js';

/** The console's screens, in the order the navigation shows them. */
const SCREENS = [
  { path: '/console/alerts', label: 'Alerts' },
  { path: '/console/rules', label: 'Rules' },
  { path: '/console/coverage', label: 'Coverage' },
  { path: '/console/assess', label: 'Assessment' },
  { path: '/console/vulns', label: 'Vulnerabilities' },
  { path: '/console/health', label: 'Health' },
] as const;

export interface PageChrome {
  title: string;
  /** The screen the page belongs to, for the navigation. */
  screen?: string;
  user?: ConsoleUser;
  /** The service-wide principal's tenant picker: the tenants to offer. */
  tenants?: string[];
  /** Data the page's script reads (never code): `data-*` attributes of the body. */
  data?: Record<string, string>;
}

export function page(chrome: PageChrome, body: HtmlValue): Html {
  const user = chrome.user;
  const data = Object.entries(chrome.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${chrome.title} · Vigil</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body${data}>
<header class="top">
  <a class="brand" href="/console/alerts">Vigil</a>
  ${
    user &&
    html`<nav aria-label="Screens"><ul>${SCREENS.map(
      (s) =>
        html`<li><a href="${s.path}"${s.path === chrome.screen ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
    )}</ul></nav>
  <div class="who">
    ${chrome.tenants && tenantPicker(user, chrome.tenants)}
    <span class="principal">${user.session.principal.label ?? `token ${user.session.principal.tokenId}`} · ${user.session.principal.role}${user.session.principal.tenant ? html` · ${user.session.principal.tenant}` : ''}</span>
    <form method="post" action="/console/sign-out">
      <input type="hidden" name="_csrf" value="${user.session.csrf}">
      <button type="submit" id="sign-out">Sign out</button>
    </form>
  </div>`
  }
</header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

function tenantPicker(user: ConsoleUser, tenants: string[]): Html {
  return html`<form method="post" action="/console/tenant" class="tenant-picker">
  <input type="hidden" name="_csrf" value="${user.session.csrf}">
  <label>Tenant <select name="tenant" id="tenant-picker" data-autosubmit>
    <option value=""${user.scope === null ? html` selected` : ''}>every tenant</option>
    ${tenants.map((t) => html`<option value="${t}"${t === user.scope ? html` selected` : ''}>${t}</option>`)}
  </select></label>
  <noscript><button type="submit">Show</button></noscript>
</form>`;
}

/** A page that says what went wrong, without telling more than the visitor may know. */
export function errorPage(status: number, message: string, user?: ConsoleUser): Html {
  return page(
    { title: `${status}`, user },
    html`<section class="error-page"><h1>${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong'}</h1><p>${message}</p><p><a href="/console/alerts">Back to the alerts</a></p></section>`,
  );
}
