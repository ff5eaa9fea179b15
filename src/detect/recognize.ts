import type { LogSource, MatchContext, PipelineSet, Predicate } from '../sigma/index.js';

/** One source of a log source entry, as recognition tries it. */
export interface SourceLabel {
  label: string;
  channels?: string[];
  eventIds?: string[];
  residual?: Predicate;
}

/**
 * What kind of source an event is, by the pipelines' own data: its product (the first product
 * selection it meets), then the first log source entry of that product whose sources take it.
 * Named `product/service` (or `product/category`), `zeek/dns` or `linux/auditd`; the product
 * alone when none of its entries takes the event.
 */
export class SourceRecognizer {
  private readonly byProduct = new Map<string, SourceLabel[]>();

  constructor(pipelines: PipelineSet) {
    for (const pipeline of pipelines.pipelines) {
      for (const entry of pipeline.entries) {
        const { product, service, category } = entry.logsource;
        if (product === undefined || !pipelines.products.has(product)) continue;
        const kind = service ?? category;
        const label = kind === undefined ? product : `${product}/${kind}`;
        const list = this.byProduct.get(product) ?? [];
        this.byProduct.set(product, list);
        for (const source of entry.sources)
          list.push({
            label,
            channels: source.channels,
            eventIds: source.eventIds,
            residual: source.residual,
          });
      }
    }
  }

  /** The entries that can take events of this product, channel (lower case) and event id. */
  candidates(product: string | undefined, channel: string, eventId: string): readonly SourceLabel[] {
    if (product === undefined) return [];
    return (this.byProduct.get(product) ?? []).filter(
      (source) =>
        (source.channels === undefined || source.channels.includes(channel)) &&
        (source.eventIds === undefined || source.eventIds.includes(eventId)),
    );
  }

  static label(product: string | undefined, candidates: readonly SourceLabel[], ctx: MatchContext): string {
    if (product === undefined) return UNRECOGNIZED;
    for (const candidate of candidates)
      if (!candidate.residual || candidate.residual(ctx)) return candidate.label;
    return product;
  }
}

/** The label of events no pipeline's product claims: read, but matched by no pipeline. */
export const UNRECOGNIZED = '';

/**
 * The Sigma log sources the events of a recognized source stand for, as an inventory lists what is
 * collected: for `zeek/dns`, `{product: zeek, service: dns}`, `{product: zeek, category: dns}` and
 * `{category: dns}`, each way a rule may name them. Events known only by their product (a Zeek log
 * no entry names) stand for no log source: which rules they would serve is not known.
 */
export function recognizedLogsources(pipelines: PipelineSet, label: string): LogSource[] {
  const [product, kind] = label.split('/') as [string, string | undefined];
  if (label === UNRECOGNIZED || kind === undefined) return [];
  const out: LogSource[] = [];
  for (const pipeline of pipelines.pipelines) {
    for (const { logsource } of pipeline.entries) {
      if (logsource.product !== product || (logsource.service ?? logsource.category) !== kind) continue;
      if (logsource.service) out.push({ product, service: logsource.service });
      if (logsource.category)
        out.push({ product, category: logsource.category }, { category: logsource.category });
    }
  }
  return out;
}
