import { AhoCorasick, type FieldValue, type LogEvent, VigilError } from '../core/index.js';
import {
  AtomIndex,
  type CompiledDetection,
  compileDetection,
  type DetectionRule,
  detectionRequirement,
  type FieldMap,
  MatchContext,
  type PipelineSet,
  type Predicate,
  type Requirement,
  type Route,
  routeFor,
} from '../sigma/index.js';
import { type SourceLabel, SourceRecognizer } from './recognize.js';

/** One way a rule applies to events: a pipeline source with its field names, compiled. */
interface Variant {
  rule: DetectionRule;
  residual?: Predicate;
  /** Rule field -> event field, as the matcher was compiled with. */
  fieldmap: FieldMap;
  matcher: CompiledDetection;
  /** Atoms (literals) one of which the event must hold for this variant to have a chance. */
  requirement: number[] | 'always';
}

/** One automaton per field over the literals of every rule that tests the field, shared by all buckets. */
interface FieldScanner {
  field: string | null;
  automaton: AhoCorasick;
  /** Pattern -> atom id. */
  atomIds: Int32Array;
}

/**
 * The variants that apply to one kind of event (product, channel, event id), in rule order.
 * A scan of the fields they test marks the atoms (field, literal) found in the event, which
 * the variants' compiled items read, and selects the variants that can possibly match.
 */
class Bucket {
  /** The log source entries this bucket's events may belong to, for recognition. */
  sources: readonly SourceLabel[] = [];
  /** Indices of the variants evaluated on every event (no literal requirement). */
  private readonly always: number[] = [];
  private readonly scanners: FieldScanner[];
  /** Atom id -> variants whose requirement it belongs to. */
  private readonly targets = new Map<number, number[]>();
  private readonly stamp: Uint32Array;
  /** Reused between events: the variants to evaluate for the current one. */
  private readonly selected: number[] = [];
  private readonly hits: number[] = [];
  // The scan under way, read by onHit (one function for every search, not a closure per field).
  private atomStamp: Uint32Array = new Uint32Array(0);
  private generation = 0;
  private atomIds: Int32Array = new Int32Array(0);
  private readonly onHit = (pattern: number) => {
    const atom = this.atomIds[pattern]!;
    this.atomStamp[atom] = this.generation;
    const variants = this.targets.get(atom);
    if (variants) {
      for (const index of variants) {
        if (this.stamp[index] !== this.generation) {
          this.stamp[index] = this.generation;
          this.hits.push(index);
        }
      }
    }
  };

  constructor(
    readonly variants: Variant[],
    atoms: AtomIndex,
    scannerFor: (field: string | null) => FieldScanner,
  ) {
    this.stamp = new Uint32Array(variants.length);
    const fields = new Set<string | null>();
    variants.forEach((variant, index) => {
      for (const atom of variant.matcher.atoms) fields.add(atoms.fields[atom]!);
      if (variant.requirement === 'always') {
        this.always.push(index);
        return;
      }
      for (const atom of variant.requirement) {
        fields.add(atoms.fields[atom]!);
        const list = this.targets.get(atom);
        if (!list) this.targets.set(atom, [index]);
        else if (list[list.length - 1] !== index) list.push(index);
      }
    });
    this.scanners = [...fields].map(scannerFor);
  }

  /**
   * Marks the atoms found in the event (in `atomStamp`) and returns the variants that can match,
   * in rule order: those whose requirement was found, and those always evaluated. The texts are
   * scanned as written: the automata ignore case themselves.
   */
  scan(ctx: MatchContext, atomStamp: Uint32Array, generation: number): readonly number[] {
    this.hits.length = 0;
    this.atomStamp = atomStamp;
    this.generation = generation;
    for (const scanner of this.scanners) {
      const texts = scanner.field === null ? ctx.allTexts(true) : ctx.texts(scanner.field, true);
      if (texts.length === 0) continue;
      this.atomIds = scanner.atomIds;
      for (const text of texts) scanner.automaton.search(text, this.onHit);
    }
    const hits = this.hits;
    hits.sort((a, b) => a - b);
    // merge the two sorted lists
    const selected = this.selected;
    selected.length = 0;
    const always = this.always;
    let i = 0;
    let j = 0;
    while (i < hits.length || j < always.length) {
      if (j >= always.length || (i < hits.length && hits[i]! < always[j]!)) selected.push(hits[i++]!);
      else selected.push(always[j++]!);
    }
    return selected;
  }

  /** Forgets every mark (when the generation counter wraps). */
  reset(): void {
    this.stamp.fill(0);
  }
}

export interface RuleMatch {
  rule: DetectionRule;
  event: LogEvent;
  /** Fields (as named in the event) of the items that matched, with their values. */
  matched: Record<string, FieldValue>;
  /** Rule field -> event field for this event's log source: how to read other rule fields in it. */
  fieldmap: FieldMap;
}

export interface EngineOptions {
  /**
   * Skip rules whose literals an event lacks, and test values only where their literal was
   * found (default true). Off, every rule of the event's log source is evaluated in full: the
   * reference the prefilter is tested against.
   */
  prefilter?: boolean;
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
  /** Sources that test fields other than Channel and EventID, filed under their entry's product. */
  private readonly genericByProduct = new Map<string, Variant[]>();
  private readonly byProduct = new Map<string, Variant[]>();
  private readonly unclaimed: Variant[] = [];
  private readonly everywhere: Variant[] = [];
  private readonly buckets = new Map<string, Bucket>();
  /** Literal atoms of all compiled rules, and the scan generation each was last seen in. */
  private readonly atoms = new AtomIndex();
  private atomStamp: Uint32Array = new Uint32Array(0);
  private generation = 0;
  private readonly scanners = new Map<string | null, FieldScanner>();
  private readonly order = new Map<DetectionRule, number>();
  readonly routing: RoutingStats = { mapped: 0, unmapped: [], productWide: 0, unclaimed: 0, any: 0 };
  readonly errors: VigilError[] = [];
  private readonly recognizer: SourceRecognizer;
  /** Events evaluated by recognized source (see SourceRecognizer), since the last `takeRecognized`. */
  private recognized = new Map<string, number>();

  /** Compile with atoms (or not) and with requirements (or evaluate every rule of a bucket). */
  private readonly prefilter: boolean;

  constructor(
    readonly rules: readonly DetectionRule[],
    private readonly pipelines: PipelineSet,
    options: EngineOptions = {},
  ) {
    this.prefilter = options.prefilter ?? true;
    this.recognizer = new SourceRecognizer(pipelines);
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
      const variant: Variant = {
        rule,
        fieldmap: global,
        matcher: compileDetection(rule.detection, global, this.prefilter ? this.atoms : undefined),
        requirement: this.atomsOf(detectionRequirement(rule.detection, global)),
      };
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
    const compiled = new Map<
      string,
      { fieldmap: FieldMap; matcher: CompiledDetection; requirement: number[] | 'always' }
    >();
    for (const source of route.sources) {
      const fieldmap = new Map([...global, ...source.fieldmap]);
      const key = JSON.stringify([...fieldmap]);
      let shared = compiled.get(key);
      if (!shared) {
        shared = {
          fieldmap,
          matcher: compileDetection(rule.detection, fieldmap, this.prefilter ? this.atoms : undefined),
          requirement: this.atomsOf(detectionRequirement(rule.detection, fieldmap)),
        };
        compiled.set(key, shared);
      }
      const variant: Variant = { rule, ...shared, residual: source.residual };
      if (source.channels && source.eventIds) {
        for (const channel of source.channels)
          for (const id of source.eventIds) push(this.byKey, `${channel}\0${id}`, variant);
      } else if (source.channels) {
        for (const channel of source.channels) push(this.byChannel, channel, variant);
      } else if (source.eventIds) {
        for (const id of source.eventIds) push(this.byEventId, id, variant);
      } else if (source.product !== undefined && this.pipelines.products.has(source.product)) {
        push(this.genericByProduct, source.product, variant);
      } else {
        this.generic.push(variant);
      }
    }
  }

  private atomsOf(requirement: Requirement): number[] | 'always' {
    if (requirement === 'always' || !this.prefilter) return 'always';
    return [...new Set(requirement.map(({ field, literal }) => this.atoms.id(field, literal)))];
  }

  /**
   * The automaton of a field, over every atom of that field (built on first use, once every rule
   * is compiled, so the atoms are all known).
   */
  private scannerFor(field: string | null): FieldScanner {
    let scanner = this.scanners.get(field);
    if (!scanner) {
      const ids = this.atoms.idsOf(field);
      scanner = {
        field,
        atomIds: Int32Array.from(ids),
        automaton: new AhoCorasick(
          ids.map((id) => this.atoms.literals[id]!),
          { caseInsensitive: true },
        ),
      };
      this.scanners.set(field, scanner);
    }
    return scanner;
  }

  /** The product an event belongs to, by the pipelines' product selections. */
  private productOf(ctx: MatchContext): string | undefined {
    for (const [product, test] of this.pipelines.products) if (test(ctx)) return product;
    return undefined;
  }

  private bucketFor(product: string | undefined, channel: string, eventId: string): Bucket {
    const key = `${product ?? ''}\0${channel}\0${eventId}`;
    let bucket = this.buckets.get(key);
    if (bucket) return bucket;
    const variants = [
      ...(this.byKey.get(`${channel}\0${eventId}`) ?? []),
      ...(this.byChannel.get(channel) ?? []),
      ...(this.byEventId.get(eventId) ?? []),
      ...this.generic,
      ...(product === undefined ? [] : (this.genericByProduct.get(product) ?? [])),
      ...(product === undefined ? this.unclaimed : (this.byProduct.get(product) ?? [])),
      ...this.everywhere,
    ];
    // One entry per (rule, variant), the variants of a rule next to each other, rules in load order.
    const unique = [...new Set(variants)];
    unique.sort((a, b) => this.order.get(a.rule)! - this.order.get(b.rule)!);
    bucket = new Bucket(unique, this.atoms, (field) => this.scannerFor(field));
    bucket.sources = this.recognizer.candidates(product, channel, eventId);
    if (this.atomStamp.length < this.atoms.size) {
      const grown = new Uint32Array(this.atoms.size);
      grown.set(this.atomStamp);
      this.atomStamp = grown;
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** How many events of each recognized source were evaluated since the last call ('' = none). */
  takeRecognized(): [string, number][] {
    const taken = [...this.recognized];
    this.recognized = new Map();
    return taken;
  }

  /** Every rule that matches the event, in rule order. */
  evaluate(event: LogEvent): RuleMatch[] {
    const ctx = new MatchContext(event);
    const channelValue = event.fields.Channel;
    const eventIdValue = event.fields.EventID;
    const channel = typeof channelValue === 'string' ? channelValue.toLowerCase() : '';
    const eventId = eventIdValue === undefined || eventIdValue === null ? '' : String(eventIdValue);
    const matches: RuleMatch[] = [];
    const product = this.productOf(ctx);
    const bucket = this.bucketFor(product, channel, eventId);
    const label = SourceRecognizer.label(product, bucket.sources, ctx);
    this.recognized.set(label, (this.recognized.get(label) ?? 0) + 1);
    if (++this.generation === 0xffffffff) {
      this.atomStamp.fill(0);
      for (const b of this.buckets.values()) b.reset();
      this.generation = 1;
    }
    const generation = this.generation;
    ctx.atomStamp = this.atomStamp;
    ctx.atomGeneration = generation;
    const selected = bucket.scan(ctx, this.atomStamp, generation);
    const variants = bucket.variants;
    let matched: DetectionRule | undefined;
    for (const index of selected) {
      const variant = variants[index]!;
      if (variant.rule === matched) continue; // another source of a rule that already matched
      if (variant.residual && !variant.residual(ctx)) continue;
      if (variant.matcher.matches(ctx)) {
        matched = variant.rule;
        matches.push({
          rule: variant.rule,
          event,
          matched: variant.matcher.explain(ctx),
          fieldmap: variant.fieldmap,
        });
      }
    }
    return matches;
  }
}
