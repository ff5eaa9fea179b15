/**
 * The condition language of `decide` steps: comparisons of what enrichment found, the inputs and
 * the alert, joined by `and`, `or`, `not` and parentheses. It is parsed into a small tree once, when
 * the playbook is read, checked against the names and types the steps before it provide, and
 * evaluated by walking the tree: nothing is ever run as code.
 *
 *   vulns.kev > 0 or asset.tags contains 'server'
 *   ioc.actionable and not (alert.level == 'low')
 *   alert.level in ['high', 'critical']
 */

/** What a value a condition reads can be. */
export type FactType = 'text' | 'number' | 'boolean' | 'list';
export type FactValue = string | number | boolean | string[];

const OPERATORS = ['==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'contains'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Operand =
  | { kind: 'ref'; name: string; at: number }
  | { kind: 'literal'; value: FactValue; at: number };

export type Predicate =
  | { kind: 'and'; left: Predicate; right: Predicate }
  | { kind: 'or'; left: Predicate; right: Predicate }
  | { kind: 'not'; inner: Predicate }
  | { kind: 'compare'; op: Operator; left: Operand; right: Operand; at: number }
  | { kind: 'truth'; operand: Operand };

/** A condition that cannot be read, with the column (1-based) where reading stopped. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

interface Token {
  kind: 'word' | 'text' | 'number' | 'symbol' | 'end';
  text: string;
  at: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const SYMBOL = /==|!=|<=|>=|<|>|\(|\)|\[|\]|,/y;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'true', 'false']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const take = (pattern: RegExp) => {
    pattern.lastIndex = i;
    return pattern.exec(source)?.[0];
  };
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new ConditionError(`the text opened here is not closed with ${c}`, i + 1);
      tokens.push({ kind: 'text', text: source.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const found =
      (take(NUMBER) && { kind: 'number' as const, text: take(NUMBER)! }) ||
      (take(WORD) && { kind: 'word' as const, text: take(WORD)! }) ||
      (take(SYMBOL) && { kind: 'symbol' as const, text: take(SYMBOL)! });
    if (!found) throw new ConditionError(`'${c}' has no meaning here`, i + 1);
    tokens.push({ ...found, at: i });
    i += found.text.length;
  }
  tokens.push({ kind: 'end', text: 'the end', at: source.length });
  return tokens;
}

/** Reads a condition; a ConditionError says what is wrong and at which column. */
export function parseCondition(source: string): Predicate {
  const tokens = tokenize(source);
  let p = 0;
  const peek = (offset = 0) => tokens[Math.min(p + offset, tokens.length - 1)]!;
  const is = (text: string, offset = 0) => {
    const t = peek(offset);
    return (t.kind === 'word' || t.kind === 'symbol') && t.text === text;
  };
  const fail = (what: string): never => {
    const t = peek();
    throw new ConditionError(`${what}, not ${t.kind === 'end' ? 'the end' : `'${t.text}'`}`, t.at + 1);
  };
  const expect = (text: string) => {
    if (!is(text)) fail(`expected '${text}'`);
    p++;
  };
  /** The token read now, and on to the next. */
  const next = () => tokens[p++]!;

  const literal = (): FactValue | undefined => {
    const t = peek();
    if (t.kind === 'text') return next().text;
    if (t.kind === 'number') return Number(next().text);
    if (is('true') || is('false')) return next().text === 'true';
    return undefined;
  };
  const operand = (): Operand => {
    const t = peek();
    if (is('[')) {
      p++;
      const items: string[] = [];
      while (!is(']')) {
        const value = literal();
        if (value === undefined || typeof value === 'boolean')
          fail('expected a text or a number in the list');
        items.push(String(value));
        if (!is(']')) expect(',');
      }
      p++;
      return { kind: 'literal', value: items, at: t.at };
    }
    const value = literal();
    if (value !== undefined) return { kind: 'literal', value, at: t.at };
    if (t.kind === 'word' && !KEYWORDS.has(t.text)) return { kind: 'ref', name: next().text, at: t.at };
    return fail(
      'expected a value (a name such as vulns.kev, a quoted text, a number, true, false or a [list])',
    );
  };
  const operator = (): Operator | undefined => {
    if (is('not') && is('in', 1)) {
      p += 2;
      return 'not in';
    }
    const t = peek();
    if ((OPERATORS as readonly string[]).includes(t.text) && t.kind !== 'text')
      return next().text as Operator;
    return undefined;
  };
  const comparison = (): Predicate => {
    const left = operand();
    const at = peek().at;
    const op = operator();
    if (!op) return { kind: 'truth', operand: left };
    return { kind: 'compare', op, left, right: operand(), at };
  };
  const unary = (): Predicate => {
    if (is('not')) {
      p++;
      return { kind: 'not', inner: unary() };
    }
    if (is('(')) {
      p++;
      const inner = or();
      expect(')');
      return inner;
    }
    return comparison();
  };
  const and = (): Predicate => {
    let left = unary();
    while (is('and')) {
      p++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const or = (): Predicate => {
    let left = and();
    while (is('or')) {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  if (peek().kind === 'end') throw new ConditionError('the condition is empty', 1);
  const predicate = or();
  if (peek().kind !== 'end') fail("expected 'and', 'or' or the end");
  return predicate;
}

/** Every name a condition reads, in order, each once. */
export function conditionNames(predicate: Predicate): string[] {
  const names: string[] = [];
  const walk = (node: Predicate) => {
    const add = (o: Operand) => {
      if (o.kind === 'ref' && !names.includes(o.name)) names.push(o.name);
    };
    if (node.kind === 'and' || node.kind === 'or') {
      walk(node.left);
      walk(node.right);
    } else if (node.kind === 'not') walk(node.inner);
    else if (node.kind === 'truth') add(node.operand);
    else {
      add(node.left);
      add(node.right);
    }
  };
  walk(predicate);
  return names;
}

function literalType(value: FactValue): FactType {
  if (Array.isArray(value)) return 'list';
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text';
}

/**
 * What is wrong with a condition, given the type of each name it may read (undefined: not known
 * here): names no earlier step provides, and comparisons of values that cannot be compared.
 */
export function checkCondition(
  predicate: Predicate,
  typeOf: (name: string) => FactType | undefined,
): { message: string; column: number }[] {
  const problems: { message: string; column: number }[] = [];
  const type = (o: Operand): FactType | undefined => {
    if (o.kind === 'literal') return literalType(o.value);
    const found = typeOf(o.name);
    if (!found) problems.push({ message: `'${o.name}' is not known here`, column: o.at + 1 });
    return found;
  };
  const walk = (node: Predicate): void => {
    if (node.kind === 'and' || node.kind === 'or') {
      walk(node.left);
      walk(node.right);
      return;
    }
    if (node.kind === 'not') {
      walk(node.inner);
      return;
    }
    if (node.kind === 'truth') {
      const t = type(node.operand);
      if (t && t !== 'boolean')
        problems.push({
          message: `${describe(node.operand)} is a ${t}, not true or false: compare it (== != < <= > >= in contains)`,
          column: node.operand.at + 1,
        });
      return;
    }
    const left = type(node.left);
    const right = type(node.right);
    if (!left || !right) return;
    const problem = (message: string) => problems.push({ message, column: node.at + 1 });
    switch (node.op) {
      case '==':
      case '!=':
        if (left === 'list' || right === 'list')
          problem(`'${node.op}' compares single values; for a list use 'contains' or 'in'`);
        else if (left !== right)
          problem(
            `${describe(node.left)} is a ${left} and ${describe(node.right)} a ${right}: they are never equal`,
          );
        return;
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (left !== 'number' || right !== 'number')
          problem(`'${node.op}' compares numbers; here a ${left} and a ${right}`);
        return;
      case 'in':
      case 'not in':
        if (right !== 'list')
          problem(`'${node.op}' needs a list on its right (a [list] or a list value), not a ${right}`);
        else if (left === 'list' || left === 'boolean')
          problem(`'${node.op}' looks for a text or a number, not a ${left}`);
        return;
      case 'contains':
        if (left !== 'list') problem(`'contains' looks into a list, and ${describe(node.left)} is a ${left}`);
        else if (right === 'list' || right === 'boolean')
          problem(`'contains' looks for a text or a number, not a ${right}`);
        return;
    }
  };
  walk(predicate);
  return problems;
}

function describe(o: Operand): string {
  return o.kind === 'ref' ? `'${o.name}'` : JSON.stringify(o.value);
}

/** A name a condition reads has no value (its enrichment failed, or the alert lacks an input). */
export class MissingValue extends Error {
  constructor(
    readonly valueName: string,
    readonly why: string,
  ) {
    super(`${valueName} has no value (${why})`);
  }
}

const same = (a: FactValue, b: FactValue) => String(a).toLowerCase() === String(b).toLowerCase();

/**
 * Whether a condition holds for the values given. Text is compared without case. Throws
 * MissingValue when a name it needs has none: a decision is never made on missing facts.
 */
export function evaluateCondition(
  predicate: Predicate,
  lookUp: (name: string) => FactValue | undefined,
  whyMissing: (name: string) => string = () => 'unknown',
): boolean {
  const value = (o: Operand): FactValue => {
    if (o.kind === 'literal') return o.value;
    const found = lookUp(o.name);
    if (found === undefined) throw new MissingValue(o.name, whyMissing(o.name));
    return found;
  };
  const walk = (node: Predicate): boolean => {
    switch (node.kind) {
      case 'and':
        return walk(node.left) && walk(node.right);
      case 'or':
        return walk(node.left) || walk(node.right);
      case 'not':
        return !walk(node.inner);
      case 'truth':
        return value(node.operand) === true;
    }
    const left = value(node.left);
    const right = value(node.right);
    switch (node.op) {
      case '==':
        return same(left, right);
      case '!=':
        return !same(left, right);
      case '<':
        return Number(left) < Number(right);
      case '<=':
        return Number(left) <= Number(right);
      case '>':
        return Number(left) > Number(right);
      case '>=':
        return Number(left) >= Number(right);
      case 'in':
        return (right as string[]).some((item) => same(item, left));
      case 'not in':
        return !(right as string[]).some((item) => same(item, left));
      case 'contains':
        return (left as string[]).some((item) => same(item, right));
    }
  };
  return walk(predicate);
}

/** A value as a person reads it in a result: lists joined, booleans as yes and no. */
export function showFact(value: FactValue | undefined): string {
  if (value === undefined) return 'no value';
  if (Array.isArray(value)) return value.length ? `[${value.join(', ')}]` : '[]';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
