import { type FieldValue, type LogEvent, VigilError } from '../core/index.js';
import {
  type CompiledDetection,
  compileDetection,
  type DetectionRule,
  MatchContext,
  type PipelineSet,
  type Predicate,
  type Route,
  routeFor,
} from '../sigma/index.js';

/** One way a rule applies to events: a pipeline source with its field names, compiled. */
interface Variant {
  rule: DetectionRule;
  residual?: Predicate;
  matcher: CompiledDetection;
}

/** The variants of one rule that apply to a kind of event. */
interface Candidate {
  rule: DetectionRule;
  variants: Variant[];
}

export interface RuleMatch {
  rule: DetectionRule;
  event: LogEvent;
  /** Fields (as named in the event) of the items that matched, with their values. */
  matched: Record<string, FieldValue>;
}

export interface RoutingStats {
  /** Rules routed by their log source to specific channels and event ids. */
  mapped: number;
  /** Rules whose category/service no pipeline maps: they see every event of their product. */
  unmapped: { rule: DetectionRule; product: string }[];
  /** Rules that name only a product: they see every event of it. */
  productWide: number;
  /** Rules of products no pipeline identifies: they see events no product claims. */
  unclaimed: number;
  /** Rules without any log source attribute: they see every event. */
  any: number;
}

/**
 * Routes each event to the rules of its log source and evaluates them. Rules are compiled once,
 * per pipeline source (each source may rename fields); events are bucketed by product, channel
 * and event id, and the rules of a bucket are looked up once and cached.
 */
export class DetectionEngine {
  private readonly byKey = new Map<string, Variant[]>();
  private readonly byChannel = new Map<string, Variant[]>();
  private readonly byEventId = new Map<string, Variant[]>();
  private readonly generic: Variant[] = [];
  private readonly byProduct = new Map<string, Variant[]>();
  private readonly unclaimed: Variant[] = [];
  private readonly everywhere: Variant[] = [];
  private readonly candidates = new Map<string, Candidate[]>();
  private readonly order = new Map<DetectionRule, number>();
  readonly routing: RoutingStats = { mapped: 0, unmapped: [], productWide: 0, unclaimed: 0, any: 0 };
  readonly errors: VigilError[] = [];

  constructor(
    readonly rules: readonly DetectionRule[],
    private readonly pipelines: PipelineSet,
  ) {
    rules.forEach((rule, index) => {
      this.order.set(rule, index);
      try {
        this.add(rule, routeFor(pipelines, rule.logsource));
      } catch (error) {
        this.errors.push(
          new VigilError('SIGMA_COMPILE', `cannot compile rule: ${(error as Error).message}`, {
            file: rule.origin.file,
            line: rule.origin.line,
          }),
        );
      }
    });
  }

  private add(rule: DetectionRule, route: Route): void {
    const push = (map: Map<string, Variant[]>, key: string, variant: Variant) => {
      const list = map.get(key);
      if (list) list.push(variant);
      else map.set(key, [variant]);
    };
    const global = this.pipelines.fieldmap;
    if (route.kind !== 'sources') {
      const variant = { rule, matcher: compileDetection(rule.detection, global) };
      if (route.kind === 'product') {
        push(this.byProduct, route.product, variant);
        if (route.mapped) this.routing.productWide++;
        else this.routing.unmapped.push({ rule, product: route.product });
      } else if (route.kind === 'unclaimed') {
        this.unclaimed.push(variant);
        this.routing.unclaimed++;
      } else {
        this.everywhere.push(variant);
        this.routing.any++;
      }
      return;
    }
    this.routing.mapped++;
    const compiled = new Map<string, CompiledDetection>();
    for (const source of route.sources) {
      const fieldmap = new Map([...global, ...source.fieldmap]);
      const key = JSON.stringify([...fieldmap]);
      let matcher = compiled.get(key);
      if (!matcher) {
        matcher = compileDetection(rule.detection, fieldmap);
        compiled.set(key, matcher);
      }
      const variant: Variant = { rule, matcher, residual: source.residual };
      if (source.channels && source.eventIds) {
        for (const channel of source.channels)
          for (const id of source.eventIds) push(this.byKey, `${channel}\0${id}`, variant);
      } else if (source.channels) {
        for (const channel of source.channels) push(this.byChannel, channel, variant);
      } else if (source.eventIds) {
        for (const id of source.eventIds) push(this.byEventId, id, variant);
      } else {
        this.generic.push(variant);
      }
    }
  }

  /** The product an event belongs to, by the pipelines' product selections. */
  private productOf(ctx: MatchContext): string | undefined {
    for (const [product, test] of this.pipelines.products) if (test(ctx)) return product;
    return undefined;
  }

  private candidatesFor(product: string | undefined, channel: string, eventId: string): Candidate[] {
    const key = `${product ?? ''}\0${channel}\0${eventId}`;
    let list = this.candidates.get(key);
    if (list) return list;
    const variants = [
      ...(this.byKey.get(`${channel}\0${eventId}`) ?? []),
      ...(this.byChannel.get(channel) ?? []),
      ...(this.byEventId.get(eventId) ?? []),
      ...this.generic,
      ...(product === undefined ? this.unclaimed : (this.byProduct.get(product) ?? [])),
      ...this.everywhere,
    ];
    const byRule = new Map<DetectionRule, Variant[]>();
    for (const variant of variants) {
      const existing = byRule.get(variant.rule);
      if (existing) {
        if (!existing.includes(variant)) existing.push(variant);
      } else byRule.set(variant.rule, [variant]);
    }
    list = [...byRule].map(([rule, ruleVariants]) => ({ rule, variants: ruleVariants }));
    list.sort((a, b) => this.order.get(a.rule)! - this.order.get(b.rule)!);
    this.candidates.set(key, list);
    return list;
  }

  /** Every rule that matches the event, in rule order. */
  evaluate(event: LogEvent): RuleMatch[] {
    const ctx = new MatchContext(event);
    const channelValue = event.fields.Channel;
    const eventIdValue = event.fields.EventID;
    const channel = typeof channelValue === 'string' ? channelValue.toLowerCase() : '';
    const eventId = eventIdValue === undefined || eventIdValue === null ? '' : String(eventIdValue);
    const matches: RuleMatch[] = [];
    for (const candidate of this.candidatesFor(this.productOf(ctx), channel, eventId)) {
      for (const variant of candidate.variants) {
        if (variant.residual && !variant.residual(ctx)) continue;
        if (variant.matcher.matches(ctx)) {
          matches.push({ rule: candidate.rule, event, matched: variant.matcher.explain(ctx) });
          break;
        }
      }
    }
    return matches;
  }
}
