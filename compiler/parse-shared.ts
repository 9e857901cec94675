// What the two parsers (Ohm's semantic actions in parse.ts, the fast one in parse-fast.ts) share:
// literal tokens as AST values, and the binding strength of the operators.
import type * as A from './ast.ts';

export function decodeString(raw: string): string {
  return raw.slice(1, -1).replace(/\\(u\{[0-9a-fA-F]+\}|.)/gsu, (all, c: string) => {
    if (c.startsWith('u{')) return String.fromCodePoint(parseInt(c.slice(2, -1), 16));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };
    return simple[c] ?? all; // an unknown escape stays as written
  });
}

export function numberLit(span: A.Span, text: string): A.IntLit | A.FloatLit {
  const isInt = /^-?\d+$/.test(text);
  return { kind: 'Lit', type: isInt ? 'int' : 'float', value: Number(text), text, span };
}

/** Binding strength of each binary operator (higher binds tighter); `as` sits between comparisons and `+`. */
export const BINARY_PRECEDENCE: Record<A.BinaryOp | 'as', number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, as: 5,
  '+': 6, '-': 6, '*': 7, '/': 7, '%': 7, '@': 7, '⊙': 7, '**': 8, '⊗': 8,
};
