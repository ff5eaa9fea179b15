import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorName, allows, type DetectionService } from '../service/index.js';
import { type ConsoleOptions, crossSite, type Form, field, sendPage, userOf } from './context.js';
import { html } from './html.js';
import { errorPage, page } from './layout.js';
import { clearCookie, cookies, SESSION_COOKIE, SIGN_IN_COOKIE, sameSecret, setCookie } from './session.js';

/** Signing in with a token, signing out, and a service-wide principal's choice of tenant. */
export function registerSignIn(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const store = service.store;
  const signInPage = (reply: FastifyReply, status: number, problem?: string) => {
    const nonce = randomBytes(24).toString('base64url');
    setCookie(reply, SIGN_IN_COOKIE, nonce, { secure: options.secure, maxAgeSeconds: 3600 });
    return sendPage(
      reply,
      status,
      page(
        { title: 'Sign in' },
        html`<section class="sign-in">
  <h1>Sign in</h1>
  <p>Paste an API token (<code>vigil admin token add</code> makes one). It is exchanged for a session of this browser; the token itself is not kept here.</p>
  ${problem && html`<p class="problem" role="alert" id="sign-in-problem">${problem}</p>`}
  <form method="post" action="/console/sign-in" id="sign-in">
    <input type="hidden" name="_signin" value="${nonce}">
    <label for="token">Token</label>
    <input type="password" name="token" id="token" autocomplete="off" required autofocus>
    <button type="submit">Sign in</button>
  </form>
</section>`,
      ),
    );
  };

  scope.get('/sign-in', { config: { console: 'public' } }, async (_request, reply) => signInPage(reply, 200));

  scope.post('/sign-in', { config: { console: 'public' } }, async (request, reply) => {
    const form = request.body as Form | undefined;
    if (
      crossSite(request) ||
      !sameSecret(field(form, '_signin'), cookies(request).get(SIGN_IN_COOKIE) ?? '')
    ) {
      return signInPage(reply, 403, 'This sign-in form is out of date or came from another site: try again.');
    }
    const token = field(form, 'token')?.trim() ?? '';
    const principal = token ? await store.authenticate(token) : undefined;
    if (!principal) return signInPage(reply, 401, 'This token is unknown or revoked.');
    if (!allows(principal.role, 'read')) {
      return signInPage(
        reply,
        403,
        `A ${principal.role} token cannot read alerts: use a viewer, analyst or admin token.`,
      );
    }
    const { secret } = await store.startSession(principal, options.sessions);
    clearCookie(reply, SIGN_IN_COOKIE, options.secure);
    setCookie(reply, SESSION_COOKIE, secret, {
      secure: options.secure,
      maxAgeSeconds: Math.floor(options.sessions.absoluteMs / 1000),
    });
    return reply.redirect('/console/alerts', 303);
  });

  scope.post('/sign-out', async (request, reply) => {
    const user = userOf(request);
    await store.endSession(user.session.id, actorName(user.session.principal), 'sign-out');
    clearCookie(reply, SESSION_COOKIE, options.secure);
    return reply.redirect('/console/sign-in', 303);
  });

  scope.post('/tenant', async (request, reply) => {
    const user = userOf(request);
    if (user.session.principal.tenant !== null) {
      return sendPage(reply, 403, errorPage(403, 'This token belongs to one tenant.', user));
    }
    const tenant = field(request.body as Form, 'tenant') || null;
    if (tenant !== null && !(await store.hasTenant(tenant))) {
      return sendPage(reply, 404, errorPage(404, 'There is no such tenant.', user));
    }
    await store.chooseSessionTenant(user.session.id, tenant);
    return reply.redirect('/console/alerts', 303);
  });
}
