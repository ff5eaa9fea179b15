import { SigmaError } from './errors.js';

/**
 * The condition language of Sigma: `and`, `or`, `not`, parentheses, and `1 of` / `any of` /
 * `all of` over identifier patterns or `them`. Precedence, least binding first: or, and, not,
 * `x of`, parentheses.
 */
export type ConditionNode =
  | { kind: 'and'; children: ConditionNode[] }
  | { kind: 'or'; children: ConditionNode[] }
  | { kind: 'not'; child: ConditionNode }
  | { kind: 'ref'; name: string }
  /** `count` is the number of identifiers that must hold: 1 for `1 of`/`any of`, 'all' for `all of`. */
  | { kind: 'of'; count: number | 'all'; pattern: string };

interface Token {
  text: string;
  offset: number;
}

const TOKEN = /\s*(\(|\)|\||[^\s()|]+)/y;

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (;;) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(condition);
    if (!match) {
      if (condition.slice(start).trim() !== '')
        throw conditionError(condition, start, 'unexpected character');
      return tokens;
    }
    tokens.push({ text: match[1]!, offset: match.index + match[0].length - match[1]!.length });
  }
}

function conditionError(condition: string, offset: number, message: string): SigmaError {
  return new SigmaError('SIGMA_CONDITION', `condition '${condition}': ${message} at column ${offset + 1}`);
}

const IDENTIFIER = /^[A-Za-z0-9_][A-Za-z0-9_\-.]*$/;
const PATTERN = /^[A-Za-z0-9_*][A-Za-z0-9_\-.*]*$/;
const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

export function parseCondition(condition: string): ConditionNode {
  const tokens = tokenize(condition);
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const isWord = (token: Token | undefined, word: string) => token?.text.toLowerCase() === word;
  const endOffset = condition.length;

  function expect(what: string): Token {
    const token = tokens[index];
    if (!token) throw conditionError(condition, endOffset, `expected ${what} but the condition ends`);
    index++;
    return token;
  }

  function orExpr(): ConditionNode {
    const children = [andExpr()];
    while (isWord(peek(), 'or')) {
      index++;
      children.push(andExpr());
    }
    return children.length === 1 ? children[0]! : { kind: 'or', children };
  }

  function andExpr(): ConditionNode {
    const children = [notExpr()];
    while (isWord(peek(), 'and')) {
      index++;
      children.push(notExpr());
    }
    return children.length === 1 ? children[0]! : { kind: 'and', children };
  }

  function notExpr(): ConditionNode {
    if (isWord(peek(), 'not')) {
      index++;
      return { kind: 'not', child: notExpr() };
    }
    return primary();
  }

  function primary(): ConditionNode {
    const token = expect('an identifier');
    if (token.text === '(') {
      const inner = orExpr();
      const close = expect("')'");
      if (close.text !== ')')
        throw conditionError(condition, close.offset, `expected ')' but found '${close.text}'`);
      return inner;
    }
    if (token.text === ')') throw conditionError(condition, token.offset, "unexpected ')'");
    const lower = token.text.toLowerCase();
    const quantity =
      lower === 'all' ? 'all' : lower === 'any' ? 1 : /^\d+$/.test(lower) ? Number(lower) : undefined;
    if (quantity !== undefined && isWord(peek(), 'of')) {
      index++;
      const target = expect("an identifier pattern or 'them'");
      if (quantity === 0) throw conditionError(condition, token.offset, "'0 of' can never hold");
      const pattern = target.text.toLowerCase() === 'them' ? 'them' : target.text;
      if (pattern !== 'them' && !PATTERN.test(pattern)) {
        throw conditionError(condition, target.offset, `'${target.text}' is not an identifier pattern`);
      }
      return { kind: 'of', count: quantity, pattern };
    }
    if (KEYWORDS.has(lower) || !IDENTIFIER.test(token.text)) {
      throw conditionError(condition, token.offset, `unexpected '${token.text}'`);
    }
    return { kind: 'ref', name: token.text };
  }

  if (tokens.length === 0) throw conditionError(condition, 0, 'empty condition');
  const pipe = tokens.find((t) => t.text === '|');
  if (pipe) {
    throw conditionError(
      condition,
      pipe.offset,
      "aggregations after '|' are not part of Sigma 2 (write a correlation rule instead)",
    );
  }
  const tree = orExpr();
  const rest = peek();
  if (rest) throw conditionError(condition, rest.offset, `unexpected '${rest.text}'`);
  return tree;
}

/** Identifiers an `x of` pattern stands for; `them` and patterns not starting with `_` skip `_`-prefixed ones. */
export function identifiersMatching(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((name) => !name.startsWith('_'));
  const skipPrivate = !pattern.startsWith('_');
  return identifiers.filter((name) => wildcardMatch(pattern, name) && !(skipPrivate && name.startsWith('_')));
}

/** Whether `name` matches `pattern`, whose only wildcard is `*` (any run of characters). */
function wildcardMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last))
    return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = name.indexOf(parts[i]!, at);
    if (found < 0 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}
