import { describe, expect, it } from 'vitest';
import { NeighbourIndex } from '../../src/intel/vectors.js';

/**
 * Every example scored and sorted (stably): what nearest() must give, the slow way. Scores add up
 * in the query's term order, and equal scores keep the order examples are first met in (by the
 * query's first term they hold, then by position), as in the index.
 */
function naiveNearest(
  index: NeighbourIndex<number>,
  examples: { label: number; terms: Map<string, number> }[],
  query: Map<string, number>,
  k: number,
): { label: number; similarity: number }[] {
  const terms = [...index.vectorize(query)];
  return examples
    .map(({ label, terms: own }) => {
      const vector = index.vectorize(own);
      let similarity = 0;
      let firstMet = Number.POSITIVE_INFINITY;
      terms.forEach(([term, weight], i) => {
        const mine = vector.get(term);
        if (mine === undefined) return;
        similarity += weight * mine;
        firstMet = Math.min(firstMet, i);
      });
      return { label, similarity, firstMet };
    })
    .filter((s) => s.similarity > 0)
    .sort((a, b) => a.firstMet - b.firstMet)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k)
    .map(({ label, similarity }) => ({ label, similarity }));
}

describe('nearest neighbours', () => {
  it('gives the k most similar examples, as scoring all of them would, ties included', () => {
    let seed = 3;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const bag = (vocabulary: number) => {
      const terms = new Map<string, number>();
      for (let j = 1 + random(4); j > 0; j--) {
        const term = `t${random(vocabulary)}`;
        terms.set(term, (terms.get(term) ?? 0) + 1);
      }
      return terms;
    };
    for (let round = 0; round < 100; round++) {
      const vocabulary = 4 + random(8);
      const examples = Array.from({ length: 5 + random(40) }, (_, label) => ({
        label,
        terms: bag(vocabulary),
      }));
      // Copies of examples score the same as their originals: the first one met ranks first.
      for (let d = 0; d < 5; d++)
        examples.push({ label: examples.length, terms: new Map(examples[random(examples.length)]!.terms) });
      const index = new NeighbourIndex(examples);
      for (let q = 0; q < 10; q++) {
        const query = bag(vocabulary + 2);
        for (const k of [1, 3, 5, 100]) {
          const got = index.nearest(query, k);
          const want = naiveNearest(index, examples, query, k);
          expect(got).toEqual(want);
        }
      }
    }
  });
});
