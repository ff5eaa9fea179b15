import { stem, words } from '../attack/index.js';

/**
 * Words that say nothing about behaviour: English function words, and the words every threat
 * report and every ATT&CK entry use ("adversaries may use…").
 */
const STOPWORDS = new Set(
  (
    'a about above after again against all also although am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing done down during each either etc few for from further had has have ' +
    'having he her here hers him his how however i if in into is it its itself just may me might more most much must my ' +
    'no nor not now of off often on once one only or other our ours out over own per same several she should since so ' +
    'some such than that the their theirs them then there these they this those through thus to too under until up upon ' +
    'us use used uses using very via was we were what when where whether which while who whom whose why will with within ' +
    'without would you your adversary adversaries attacker attackers actor actors threat group groups campaign ' +
    'operator operators observed identified reported report reports including include includes included example ' +
    'examples well like new first second third like known able utilize utilized utilizes leverage leveraged leverages ' +
    'citation http https www com html'
  ).split(' '),
);

/** Content stems of a text, in order, stopwords and one-letter tokens left out. */
export function contentStems(text: string): string[] {
  const out: string[] = [];
  for (const word of words(text)) {
    if (word.length < 2 || STOPWORDS.has(word) || /^\d+$/.test(word)) continue;
    out.push(stem(word));
  }
  return out;
}

/** Stems and adjacent pairs of stems ("shadow copy", "schedul task"), as terms with counts. */
export function termCounts(text: string, weight = 1, into = new Map<string, number>()): Map<string, number> {
  return stemTermCounts(contentStems(text), weight, into);
}

/** termCounts of text whose content stems are known already. */
export function stemTermCounts(
  stems: readonly string[],
  weight = 1,
  into = new Map<string, number>(),
): Map<string, number> {
  for (let i = 0; i < stems.length; i++) {
    const term = stems[i]!;
    into.set(term, (into.get(term) ?? 0) + weight);
    if (i + 1 < stems.length) {
      const pair = `${term} ${stems[i + 1]}`;
      into.set(pair, (into.get(pair) ?? 0) + weight);
    }
  }
  return into;
}

/** A sparse vector of unit length. */
export type SparseVector = Map<string, number>;

/**
 * Labelled short texts for nearest-neighbour search: TF-IDF vectors (log-scaled term frequency,
 * smoothed inverse document frequency over the examples) behind an inverted index, so that a query
 * only meets the examples that share a term with it.
 */
export class NeighbourIndex<Label> {
  private readonly idf = new Map<string, number>();
  /** Term -> the examples holding it and its weight in each, as pairs: [example, weight, …]. */
  private readonly postings = new Map<string, number[]>();
  readonly labels: Label[];
  /** One score slot per example, reused across queries: only the touched ones are read and reset. */
  private readonly scores: Float64Array;

  constructor(examples: { label: Label; terms: Map<string, number> }[]) {
    this.labels = examples.map((e) => e.label);
    this.scores = new Float64Array(examples.length);
    const df = new Map<string, number>();
    for (const { terms } of examples) for (const term of terms.keys()) df.set(term, (df.get(term) ?? 0) + 1);
    const n = examples.length;
    for (const [term, count] of df) this.idf.set(term, Math.log((1 + n) / (1 + count)) + 1);
    examples.forEach(({ terms }, example) => {
      let norm = 0;
      for (const [term, count] of terms) {
        if (count <= 0) continue;
        const weight = (1 + Math.log(count)) * this.idf.get(term)!;
        norm += weight * weight;
      }
      norm = Math.sqrt(norm);
      if (norm === 0) return;
      for (const [term, count] of terms) {
        if (count <= 0) continue;
        const weight = ((1 + Math.log(count)) * this.idf.get(term)!) / norm;
        const list = this.postings.get(term);
        if (list) list.push(example, weight);
        else this.postings.set(term, [example, weight]);
      }
    });
  }

  vectorize(counts: Map<string, number>): SparseVector {
    const vector: SparseVector = new Map();
    let norm = 0;
    for (const [term, count] of counts) {
      const idf = this.idf.get(term);
      if (idf === undefined || count <= 0) continue;
      const weight = (1 + Math.log(count)) * idf;
      vector.set(term, weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (const [term, weight] of vector) vector.set(term, weight / norm);
    return vector;
  }

  /** The k examples most similar (cosine) to the text's terms, best first. */
  nearest(counts: Map<string, number>, k: number): { label: Label; similarity: number }[] {
    const { scores } = this;
    const touched: number[] = [];
    for (const [term, weight] of this.vectorize(counts)) {
      const list = this.postings.get(term);
      if (!list) continue;
      for (let i = 0; i < list.length; i += 2) {
        const example = list[i]!;
        if (scores[example] === 0) touched.push(example);
        scores[example]! += weight * list[i + 1]!;
      }
    }
    // The best k by insertion, ties to the one met first: as a stable sort of all would give.
    const best: number[] = [];
    for (const example of touched) {
      const score = scores[example]!;
      if (best.length === k && score <= scores[best[k - 1]!]!) continue;
      let at = Math.min(best.length, k - 1);
      while (at > 0 && scores[best[at - 1]!]! < score) at--;
      best.splice(at, 0, example);
      if (best.length > k) best.pop();
    }
    const out = best.map((example) => ({ label: this.labels[example]!, similarity: scores[example]! }));
    for (const example of touched) scores[example] = 0;
    return out;
  }
}
