import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, type VigilError } from '../core/index.js';
import {
  actorName,
  checkRuleText as checkRule,
  type DetectionService,
  dataPaths,
  deployedRuleKey,
  RULE_FILE,
  tenantRulesPath,
} from '../service/index.js';
import type { CorrelationRule, DetectionRule } from '../sigma/index.js';
import { type ConsoleOptions, type Form, field, sendPage, tenantChoice, userOf } from './context.js';
import { errorPage, page } from './layout.js';
import {
  backtestBody,
  editorBody,
  HIT_DAYS,
  problemText,
  type RuleRow,
  type RuleState,
  rulesBody,
  validationResult,
} from './rules-page.js';
import type { ConsoleUser } from './session.js';

/** Rules listed at once; a search finds the others. */
const ROWS_SHOWN = 300;
const BACKTEST_MATCHES_SHOWN = 200;
const DAY_MS = 86_400_000;
/** A backtest reads at most the newest this many events of the tenant, whatever its days. */
const BACKTEST_EVENTS = 1_000_000;

/** The one tenant a rules page is about; a service-wide principal picks one first. */
function pageTenant(user: ConsoleUser, reply: FastifyReply): string | undefined {
  if (user.scope !== null) return user.scope;
  void sendPage(
    reply,
    400,
    errorPage(400, 'Rules belong to a tenant: pick one in the tenant list at the top first.', user),
  );
  return undefined;
}

/** The loader's verdict on a rule text, its problems worded as the page shows them. */
function checkRuleText(text: string, file: string): { problems: string[]; titles: string[] } {
  return checkRule(text, file, problemText);
}

/** The rules screen: the tenant's rules and the global packs, their state and hits, the editor and backtests. */
export function registerRules(
  scope: FastifyInstance,
  service: DetectionService,
  options: ConsoleOptions,
): void {
  const store = service.store;
  const folderOf = (tenant: string) =>
    tenantRulesPath(dataPaths(service.options.dataDir).tenantRules, tenant);
  const actor = (user: ConsoleUser) => actorName(user.session.principal);
  const reload = (user: ConsoleUser) =>
    service
      .reloadRules(actor(user))
      .catch((error) => options.log?.(`reload failed: ${describeError(error)}`));

  const renderRules = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    messages: { notice?: string; problem?: string } = {},
  ) => {
    const user = userOf(request);
    const tenant = pageTenant(user, reply);
    if (tenant === undefined) return reply;
    const query = ((request.query as { q?: string }).q ?? '').trim().slice(0, 200);
    const rules = service.tenantRules(tenant);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const since = today - (HIT_DAYS - 1) * DAY_MS;
    const [hits, disabled, suppressions, hunts, tenants] = await Promise.all([
      store.ruleHits(tenant, since),
      store.disabledRules(tenant),
      store.suppressions(tenant),
      store.hunts(tenant),
      tenantChoice(service, user),
    ]);
    const hitsOf = new Map<string, number[]>();
    for (const h of hits) {
      const days = hitsOf.get(h.rule) ?? new Array<number>(HIT_DAYS).fill(0);
      const index = Math.round((Date.parse(`${h.day}T00:00:00Z`) - since) / DAY_MS);
      if (index >= 0 && index < HIT_DAYS) days[index]! += h.detections;
      hitsOf.set(h.rule, days);
    }
    const off = new Set(disabled.map((d) => d.rule));
    const silenced = new Set(
      suppressions
        .filter(
          (s) => s.rule !== null && s.host === null && s.field === null && s.until > new Date().toISOString(),
        )
        .map((s) => s.rule!.toLowerCase()),
    );
    const own = folderOf(tenant);
    const stateOf = (key: string, title: string): RuleState =>
      off.has(key)
        ? 'disabled'
        : silenced.has(key.toLowerCase()) || silenced.has(title.toLowerCase())
          ? 'suppressed'
          : 'loaded';
    // A global rule the tenant's filters replaced is shown by its filtered copy only.
    const local = new Set(rules.local);
    const place = (rule: DetectionRule | CorrelationRule) => `${rule.origin.file}\0${rule.origin.document}`;
    const copied = new Set(rules.local.map(place));
    const all: RuleRow[] = [...rules.rules, ...rules.correlations]
      .filter((rule) => local.has(rule as DetectionRule) || !copied.has(place(rule)))
      .map((rule) => {
        const key = deployedRuleKey(rule);
        return {
          key,
          rule,
          source: rule.origin.file.startsWith(own) ? 'tenant' : 'global',
          state: stateOf(key, rule.title),
          hits: hitsOf.get(key) ?? new Array<number>(HIT_DAYS).fill(0),
        };
      });
    const needle = query.toLowerCase();
    const found = needle
      ? all.filter((r) =>
          [r.rule.title, r.rule.id ?? '', r.rule.origin.file].some((t) => t.toLowerCase().includes(needle)),
        )
      : all;
    const weight = (r: RuleRow) =>
      (r.source === 'tenant' ? 2 : 0) + (r.state !== 'loaded' ? 1 : 0) + (r.hits.some((n) => n > 0) ? 2 : 0);
    const rows = found
      .map((row, order) => ({ row, order, weight: weight(row) }))
      .sort((a, b) => b.weight - a.weight || a.order - b.order)
      .slice(0, ROWS_SHOWN)
      .map((r) => r.row);
    const fromTenant = (errors: VigilError[]) => errors.filter((e) => e.location.file?.startsWith(own));
    return sendPage(
      reply,
      status,
      page(
        { title: 'Rules', screen: '/console/rules', user, tenants, data: { page: 'rules' } },
        rulesBody({
          user,
          tenant,
          loadedAt: service.rulesStatus().loadedAt,
          rows,
          total: found.length,
          query,
          failures: [...service.globalRules.errors, ...fromTenant(rules.errors)],
          warnings: fromTenant(rules.warnings),
          files: existsSync(own) ? readdirSync(own).filter((f) => RULE_FILE.test(f)) : [],
          hunts,
          notice:
            messages.notice ??
            ((request.query as { saved?: string }).saved && 'Saved: the rules are reloading.'),
          problem: messages.problem,
        }),
      ),
    );
  };

  const renderEditor = (
    reply: FastifyReply,
    status: number,
    user: ConsoleUser,
    tenant: string,
    file: string,
    text: string,
    problems: string[],
    tenants: string[] | undefined,
  ) =>
    sendPage(
      reply,
      status,
      page(
        { title: 'Rule editor', screen: '/console/rules', user, tenants, data: { page: 'rule-editor' } },
        editorBody({ user, tenant, file, text, problems }),
      ),
    );

  scope.get('/rules', async (request, reply) => renderRules(request, reply, 200));

  scope.post('/rules/state', async (request, reply) => {
    const user = userOf(request);
    if (!user.may('manage')) {
      return sendPage(reply, 403, errorPage(403, 'Only an admin turns rules on and off.', user));
    }
    const tenant = pageTenant(user, reply);
    if (tenant === undefined) return reply;
    const form = request.body as Form;
    const key = field(form, 'rule') ?? '';
    const enable = field(form, 'enabled') === '1';
    const rules = service.tenantRules(tenant);
    const rule = [...rules.rules, ...rules.correlations].find((r) => deployedRuleKey(r) === key);
    if (!rule) return renderRules(request, reply, 404, { problem: 'There is no such rule for this tenant.' });
    const changed = await store.setRuleDisabled(tenant, key, !enable, actor(user));
    if (changed) void reload(user);
    return renderRules(request, reply, 200, {
      notice: changed
        ? `${rule.title}: ${enable ? 'enabled' : 'disabled'} for ${tenant}; the rules are reloading.`
        : `${rule.title} already was ${enable ? 'enabled' : 'disabled'}.`,
    });
  });

  scope.get('/rules/edit', async (request, reply) => {
    const user = userOf(request);
    const tenant = pageTenant(user, reply);
    if (tenant === undefined) return reply;
    const file = (request.query as { file?: string }).file ?? '';
    let text = '';
    if (file) {
      const path = join(folderOf(tenant), file);
      if (!RULE_FILE.test(file) || !existsSync(path)) {
        return sendPage(reply, 404, errorPage(404, 'The tenant has no such rule file.', user));
      }
      text = readFileSync(path, 'utf8');
    }
    const problems = text ? checkRuleText(text, file).problems : [];
    return renderEditor(reply, 200, user, tenant, file, text, problems, await tenantChoice(service, user));
  });

  // What the editor's script sends as the analyst types (debounced there): the loader's verdict.
  // Typing is a person's use of the console: it keeps the session alive like a page does.
  scope.post('/rules/validate', async (request, reply) => {
    const form = request.body as Form;
    const file = field(form, 'file') || 'rule.yml';
    const { problems, titles } = checkRuleText(field(form, 'text') ?? '', file);
    return sendPage(reply, 200, validationResult(problems, titles));
  });

  scope.post('/rules/save', async (request, reply) => {
    const user = userOf(request);
    const tenant = pageTenant(user, reply);
    if (tenant === undefined) return reply;
    const form = request.body as Form;
    const file = (field(form, 'file') ?? '').trim();
    const text = field(form, 'text') ?? '';
    const tenants = await tenantChoice(service, user);
    if (!user.may('manage')) {
      return sendPage(
        reply,
        403,
        errorPage(403, 'Only an admin saves rules; an analyst may backtest them.', user),
      );
    }
    if (!RULE_FILE.test(file)) {
      const problem =
        'The file name is letters, digits, dots, dashes and underscores, ending in .yml or .yaml.';
      return renderEditor(reply, 400, user, tenant, file, text, [problem], tenants);
    }
    const { problems, titles } = checkRuleText(text, file);
    if (problems.length > 0 || titles.length === 0) {
      const shown = problems.length ? problems : ['The text holds no rule.'];
      return renderEditor(reply, 400, user, tenant, file, text, shown, tenants);
    }
    // Checked above, with the page's wording of the problems: deployed as it stands.
    await service.deployTenantRule(tenant, file, text, titles, actor(user));
    return reply.redirect('/console/rules?saved=1', 303);
  });

  scope.post('/rules/backtest', async (request, reply) => {
    const user = userOf(request);
    const tenant = pageTenant(user, reply);
    if (tenant === undefined) return reply;
    const form = request.body as Form;
    const file = (field(form, 'file') ?? '').trim();
    const text = field(form, 'text') ?? '';
    const tenants = await tenantChoice(service, user);
    if (!user.may('triage')) {
      return sendPage(reply, 403, errorPage(403, 'A viewer reads rules; an analyst backtests them.', user));
    }
    const days = Number(field(form, 'days') ?? 30);
    if (!Number.isInteger(days) || days < 1 || days > 365) {
      return renderEditor(reply, 400, user, tenant, file, text, ['Backtest over 1 to 365 days.'], tenants);
    }
    const { problems, titles } = checkRuleText(text, file || 'rule.yml');
    if (problems.length > 0 || titles.length === 0) {
      const shown = problems.length ? problems : ['The text holds no rule.'];
      return renderEditor(reply, 400, user, tenant, file, text, shown, tenants);
    }
    const hunt = await service.hunts.start(
      { tenant, rules: [text], since: Date.now() - days * DAY_MS, newest: BACKTEST_EVENTS },
      actor(user),
    );
    return reply.redirect(`/console/rules/backtests/${hunt.id}`, 303);
  });

  scope.get('/rules/backtests/:id', async (request, reply) => {
    const user = userOf(request);
    const id = Number((request.params as { id: string }).id);
    const found =
      Number.isSafeInteger(id) && id > 0
        ? await store.hunt(user.scope, id, BACKTEST_MATCHES_SHOWN, 0)
        : undefined;
    if (!found) return sendPage(reply, 404, errorPage(404, 'There is no such backtest here.', user));
    const running = found.hunt.status === 'running';
    return sendPage(
      reply,
      200,
      page(
        {
          title: `Backtest ${id}`,
          screen: '/console/rules',
          user,
          tenants: await tenantChoice(service, user),
          // The page's script reloads it while the backtest runs.
          data: { page: 'backtest', ...(running && { refresh: '1000' }) },
        },
        backtestBody(found.hunt, found.detections),
      ),
    );
  });
}
