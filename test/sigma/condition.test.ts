import { describe, expect, it } from 'vitest';
import { parseCondition, SigmaError } from '../../src/sigma/index.js';
import { matches, ruleError } from '../helpers/sigma.js';

const three = `    a:
        A: 1
    b:
        B: 1
    c:
        C: 1
`;

function truth(condition: string, rows: [number, number, number][]): boolean[] {
  return matches(
    `${three}    condition: ${condition}`,
    rows.map(([a, b, c]) => ({ A: a, B: b, C: c })),
  );
}

const ALL_ROWS: [number, number, number][] = [];
for (let i = 0; i < 8; i++) ALL_ROWS.push([(i >> 2) & 1, (i >> 1) & 1, i & 1]);

describe('condition precedence: or < and < not < x of < ( )', () => {
  it('and binds tighter than or', () => {
    expect(truth('a or b and c', ALL_ROWS)).toEqual(ALL_ROWS.map(([a, b, c]) => !!a || (!!b && !!c)));
  });

  it('not binds tighter than and', () => {
    expect(truth('not a and b', ALL_ROWS)).toEqual(ALL_ROWS.map(([a, b]) => !a && !!b));
  });

  it('parentheses override', () => {
    expect(truth('(a or b) and c', ALL_ROWS)).toEqual(ALL_ROWS.map(([a, b, c]) => (!!a || !!b) && !!c));
    expect(truth('not (a or b)', ALL_ROWS)).toEqual(ALL_ROWS.map(([a, b]) => !a && !b));
  });

  it('double negation and chains', () => {
    expect(truth('not not a', ALL_ROWS)).toEqual(ALL_ROWS.map(([a]) => !!a));
    expect(truth('a and b and c', ALL_ROWS)).toEqual(ALL_ROWS.map(([a, b, c]) => !!a && !!b && !!c));
  });

  it('x of binds tighter than not', () => {
    expect(truth('not 1 of a*', ALL_ROWS)).toEqual(ALL_ROWS.map(([a]) => !a));
  });

  it('a list of conditions is OR', () => {
    const result = matches(
      `${three}    condition:\n        - a and b\n        - c`,
      ALL_ROWS.map(([a, b, c]) => ({ A: a, B: b, C: c })),
    );
    expect(result).toEqual(ALL_ROWS.map(([a, b, c]) => (!!a && !!b) || !!c));
  });
});

describe('x of', () => {
  const sel = `    selection_a:
        A: 1
    selection_b:
        B: 1
    filter_c:
        C: 1
    _private:
        D: 1
`;
  const rows = [
    { A: 1, B: 0, C: 0, D: 0 },
    { A: 1, B: 1, C: 0, D: 0 },
    { A: 0, B: 0, C: 1, D: 0 },
    { A: 0, B: 0, C: 0, D: 1 },
  ];

  it('1 of / any of / all of a pattern', () => {
    expect(matches(`${sel}    condition: 1 of selection_*`, rows)).toEqual([true, true, false, false]);
    expect(matches(`${sel}    condition: any of selection_*`, rows)).toEqual([true, true, false, false]);
    expect(matches(`${sel}    condition: all of selection_*`, rows)).toEqual([false, true, false, false]);
  });

  it('a pattern with a wildcard inside, or none, takes exactly the names it fits', () => {
    expect(matches(`${sel}    condition: 1 of sel*_b`, rows)).toEqual([false, true, false, false]);
    expect(matches(`${sel}    condition: 1 of *_*a`, rows)).toEqual([true, true, false, false]);
    expect(matches(`${sel}    condition: 1 of filter_c`, rows)).toEqual([false, false, true, false]);
    expect(matches(`${sel}    condition: 1 of filter_c*`, rows)).toEqual([false, false, true, false]);
    expect(matches(`${sel}    condition: 1 of *`, rows)).toEqual([true, true, true, false]);
  });

  it('them covers every identifier but those starting with _', () => {
    expect(matches(`${sel}    condition: 1 of them`, rows)).toEqual([true, true, true, false]);
    expect(matches(`${sel}    condition: all of them`, rows)).toEqual([false, false, false, false]);
  });

  it('a pattern starting with _ does reach private identifiers', () => {
    expect(matches(`${sel}    condition: 1 of _priv*`, rows)).toEqual([false, false, false, true]);
  });

  it('a typical SigmaHQ condition', () => {
    expect(
      matches(`${sel}    condition: all of selection_* and not 1 of filter_*`, [
        { A: 1, B: 1, C: 0 },
        { A: 1, B: 1, C: 1 },
      ]),
    ).toEqual([true, false]);
  });

  it('N of needs at least N', () => {
    expect(matches(`${sel}    condition: 2 of selection_* or 2 of filter_*`, rows)).toEqual([
      false,
      true,
      false,
      false,
    ]);
  });
});

describe('condition errors', () => {
  const rule = (condition: string) =>
    `title: t\nlogsource: {product: x}\ndetection:\n    selection:\n        A: 1\n    condition: ${condition}\n`;

  it('an unknown identifier is an error naming it and the line', () => {
    const error = ruleError(rule('selection and not filter'));
    expect(error?.code).toBe('SIGMA_CONDITION');
    expect(error?.message).toContain("'filter'");
    expect(error?.location.line).toBe(6);
  });

  it('a pattern that matches nothing is an error', () => {
    expect(ruleError(rule('selection and not 1 of filter_*'))?.code).toBe('SIGMA_CONDITION');
  });

  it('syntax errors say where', () => {
    for (const bad of [
      'selection and',
      '(selection',
      'selection)',
      'and selection',
      'selection | count() > 5',
      '',
    ]) {
      expect(() => parseCondition(bad)).toThrow(SigmaError);
    }
    expect(() => parseCondition('(selection')).toThrow(/expected '\)'/);
    expect(() => parseCondition('selection | count() > 5')).toThrow(/correlation rule/);
  });

  it('parses to the expected tree', () => {
    expect(parseCondition('a or not b and 1 of c*')).toEqual({
      kind: 'or',
      children: [
        { kind: 'ref', name: 'a' },
        {
          kind: 'and',
          children: [
            { kind: 'not', child: { kind: 'ref', name: 'b' } },
            { kind: 'of', count: 1, pattern: 'c*' },
          ],
        },
      ],
    });
  });
});

describe('keywords', () => {
  it('a list of strings searches every value of the event (OR)', () => {
    const rule = "    keywords:\n        - 'event::clear'\n        - 'event::drop'\n    condition: keywords";
    expect(
      matches(rule, [{ CommandLine: 'mimikatz EVENT::Clear' }, { A: 'x', B: 'event::drop' }, { A: 'other' }]),
    ).toEqual([true, true, false]);
  });

  it("'|all' needs every keyword somewhere in the event", () => {
    const rule =
      "    keywords_cmdlet:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords_cmdlet";
    expect(
      matches(rule, [{ A: 'Set-OabVirtualDirectory -ExternalUrl http://x' }, { A: 'OabVirtualDirectory' }]),
    ).toEqual([true, false]);
  });

  it('keywords also look into numbers and nested values', () => {
    const rule = "    keywords:\n        - '4444'\n    condition: keywords";
    expect(matches(rule, [{ DestinationPort: 4444 }, { Data: ['a', 'port 4444'] }, { Port: 80 }])).toEqual([
      true,
      true,
      false,
    ]);
  });
});
