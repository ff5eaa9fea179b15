import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VigilError } from '../core/index.js';
import {
  DetectionEngine,
  IndicatorIndex,
  IocMatcher,
  loadRuleSetup,
  type RuleSetup,
  type SetupOptions,
} from '../detect/index.js';
import { assembleRuleSet, type CorrelationRule, type DetectionRule, readRuleFiles } from '../sigma/index.js';
import type { IndicatorSets } from './indicators.js';

/** Where the service's rules come from: global packs for every tenant, and each tenant's own folder. */
export interface ServiceRuleOptions {
  global: SetupOptions;
  /** Each tenant's own rules, filters and correlations are in `<dir>/<tenant>/`. */
  tenantRulesDir: string;
  tenants: readonly string[];
  /** Indicators matched beside the rules (see ServiceIndicators). */
  indicators?: IndicatorSets;
  /** Rule keys (see deployedRuleKey) each tenant turned off: their matches do not count for it. */
  disabled?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The rules one tenant's events meet: the global rules (those the tenant's filters name replaced
 * by filtered copies) and the tenant's own, with every correlation of both. Only `local` needs
 * compiling beside the global engine: a hundred tenants share one compiled copy of SigmaHQ.
 */
export interface TenantRules {
  /** Every detection rule, in order: global first, then the tenant's. Correlation inputs name rules by index here. */
  rules: DetectionRule[];
  correlations: CorrelationRule[];
  /** The tenant's own rules and the filtered copies of global ones. */
  local: DetectionRule[];
  /** Global rules whose matches do not count for this tenant (a filtered copy stands in). */
  replaced: Set<DetectionRule>;
  /**
   * Correlations the tenant turned off: they do not run (see runningCorrelations), but they stay
   * in `correlations`, so the rules they name stay as quiet as while they ran and the correlations
   * that read them still know them (and wait for them in vain).
   */
  off: ReadonlySet<CorrelationRule>;
  errors: VigilError[];
  warnings: VigilError[];
}

export interface ServiceRules {
  global: RuleSetup;
  tenants: Map<string, TenantRules>;
}

export function tenantRulesPath(dir: string, tenant: string): string {
  return join(dir, tenant);
}

/** Loads the global rules once and links each tenant's own rules to them. */
export async function loadServiceRules(options: ServiceRuleOptions): Promise<ServiceRules> {
  const global = await loadRuleSetup(options.global);
  const tenants = new Map<string, TenantRules>();
  for (const tenant of options.tenants) {
    const linked = await linkTenantRules(global, options, tenant);
    tenants.set(tenant, withoutDisabled(linked, new Set(options.disabled?.[tenant] ?? [])));
  }
  return { global, tenants };
}

/** How detections and the console name a rule: its id, or its file and title when it has none. */
export function deployedRuleKey(rule: DetectionRule | CorrelationRule): string {
  return rule.id ?? `${rule.origin.file}#${rule.title}`;
}

/**
 * A tenant's rules less those it turned off: a global rule joins the ones whose matches do not
 * count for it, a rule of its own leaves its engine, a correlation stops running. The lists keep
 * them all (correlations name rules by index, and the rules a correlation silenced stay silent).
 */
function withoutDisabled(rules: TenantRules, disabled: ReadonlySet<string>): TenantRules {
  if (disabled.size === 0) return rules;
  const isOff = (rule: DetectionRule | CorrelationRule) => disabled.has(deployedRuleKey(rule));
  const replaced = new Set(rules.replaced);
  for (const rule of rules.rules) if (isOff(rule) && !rules.local.includes(rule)) replaced.add(rule);
  return {
    ...rules,
    local: rules.local.filter((rule) => !isOff(rule)),
    replaced,
    off: new Set(rules.correlations.filter(isOff)),
  };
}

/** The correlations that run for a tenant: all of them but those it turned off. */
export function runningCorrelations(rules: TenantRules): CorrelationRule[] {
  return rules.off.size ? rules.correlations.filter((rule) => !rules.off.has(rule)) : rules.correlations;
}

export async function linkTenantRules(
  global: RuleSetup,
  options: Pick<ServiceRuleOptions, 'global' | 'tenantRulesDir'>,
  tenant: string,
): Promise<TenantRules> {
  const dir = tenantRulesPath(options.tenantRulesDir, tenant);
  const own = existsSync(dir)
    ? await readRuleFiles([dir], {
        placeholders: global.pipelines.placeholders,
        cacheDir: options.global.ruleCache,
      })
    : { parsed: [], files: 0, errors: [] };
  if (own.parsed.length === 0) return { ...globalOnly(global), errors: own.errors };
  // The tenant's filters and correlations may name global rules: link everything together. The
  // global filters are already applied to the global rules, so only the tenant's apply anew.
  const linked = assembleRuleSet(
    [...global.ruleSet.rules, ...global.ruleSet.correlations, ...own.parsed],
    own.files,
    own.errors,
  );
  const globalRules = new Set(global.ruleSet.rules);
  const byOrigin = new Map(global.ruleSet.rules.map((rule) => [originKey(rule), rule]));
  const local: DetectionRule[] = [];
  const replaced = new Set<DetectionRule>();
  for (const rule of linked.rules) {
    if (globalRules.has(rule)) continue;
    local.push(rule);
    const original = byOrigin.get(originKey(rule));
    if (original) replaced.add(original);
  }
  return {
    rules: linked.rules,
    correlations: linked.correlations,
    local,
    replaced,
    off: new Set(),
    errors: linked.errors,
    // Global rules share ids with nothing new: only warnings about the tenant's files matter here.
    warnings: linked.warnings.filter((warning) => warning.location.file?.startsWith(dir) ?? false),
  };
}

/** What a tenant without rules of its own meets: the global rules alone. */
export function globalOnly(global: RuleSetup): TenantRules {
  return {
    rules: global.ruleSet.rules,
    correlations: global.ruleSet.correlations,
    local: [],
    replaced: new Set(),
    off: new Set(),
    errors: [],
    warnings: [],
  };
}

function originKey(rule: DetectionRule): string {
  return `${rule.origin.file}\0${rule.origin.document}`;
}

/** Compiled rules for a thread that evaluates events: the global engine once, a small one per tenant. */
export class CompiledServiceRules {
  readonly global: DetectionEngine;
  private readonly perTenant = new Map<string, DetectionEngine | null>();
  readonly errors: VigilError[];
  private readonly globalOnly: TenantRules;
  private readonly matchers = new Map<string, IocMatcher | null>();
  private globalIndex: IndicatorIndex | undefined;

  constructor(
    readonly rules: ServiceRules,
    private readonly indicators?: IndicatorSets,
  ) {
    this.global = new DetectionEngine(rules.global.ruleSet.rules, rules.global.pipelines);
    this.errors = [...this.global.errors];
    this.globalOnly = globalOnly(rules.global);
  }

  /** A tenant's rules; a tenant added since the rules were loaded has the global ones. */
  tenant(name: string): TenantRules {
    return this.rules.tenants.get(name) ?? this.globalOnly;
  }

  /**
   * The indicators a tenant's events are matched against (the global ones and its own), built on
   * first use; null when there are none.
   */
  iocMatcher(name: string): IocMatcher | null {
    let matcher = this.matchers.get(name);
    if (matcher === undefined) {
      const sets = this.indicators;
      const own = sets && Object.hasOwn(sets.tenants, name) ? sets.tenants[name]! : undefined;
      if (sets?.global.count) this.globalIndex ??= new IndicatorIndex(sets.global);
      const indexes = [
        ...(this.globalIndex ? [this.globalIndex] : []),
        ...(own?.count ? [new IndicatorIndex(own)] : []),
      ];
      matcher = indexes.length ? new IocMatcher(indexes) : null;
      this.matchers.set(name, matcher);
    }
    return matcher;
  }

  /** The engine of a tenant's own rules (compiled on first use), or null when it has none. */
  localEngine(name: string): DetectionEngine | null {
    let engine = this.perTenant.get(name);
    if (engine === undefined) {
      const tenant = this.rules.tenants.get(name);
      engine = tenant?.local.length ? new DetectionEngine(tenant.local, this.rules.global.pipelines) : null;
      this.perTenant.set(name, engine);
    }
    return engine;
  }
}
