// Lowering of the assertion builtins (checked at run time by runtime/assertions.ts) and of
// `__bench_keep`, which compiler/lower/blocks.ts adds to the end of a bench body.
import type * as A from '../ast.ts';
import type { HostExpr, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { NONE, stat, type Val } from './values.ts';
import { ASSERTIONS } from '../../runtime/assertions.ts';

type Lower = (L: Lowerer, args: Val[], span: A.Span) => Val;

/**
 * An assertion: a host call, with the place as its last argument, bound to a variable so it runs in
 * its turn. One whose values are all known at build time and that holds is dropped; one that fails is
 * kept, so it fails when the run gets there (after the output before it), as in the original.
 */
function assertion(fn: string, params: number): Lower {
  return (L, given, span) => {
    const args = [...given, ...new Array<Val>(params - given.length).fill(stat(null))]; // so the place is always last
    const at = `${span.file}:${span.line}:${span.col}`;
    if (args.every((a) => a.t === 'static') && holds(fn, [...args.map((a) => (a as { v: HostValue }).v), at])) return NONE;
    const call: HostExpr = { k: 'call', fn, args: [...args.map((a) => L.hostExpr(a, span)), { k: 'const', value: at }] };
    L.emit({ k: 'let', name: L.fresh('_assert'), value: call });
    return NONE;
  };
}

function holds(fn: string, values: HostValue[]): boolean {
  try {
    ASSERTIONS.get(fn)!(values);
    return true;
  } catch {
    return false;
  }
}

/** Reads one element of each tensor argument, so the graphs that make them run (a bench times them). */
const benchKeep: Lower = (L, args) => {
  for (const v of args) {
    if (v.t !== 'tensor') continue; // values already on the device, or on the host, are made
    L.emit({ k: 'let', name: L.fresh('_kept'), value: { k: 'out', graph: v.g.id, output: v.g.output(v.node, 0) } });
  }
  return NONE;
};

/**
 * The message of `panic(format, ...values)`: each `{}` of the format replaced by the next value, as
 * the original formats it; values left over follow, separated by spaces, as print shows them.
 */
export function panicMessage(L: Lowerer, [format, ...values]: Val[], span: A.Span): HostExpr {
  const parts: HostExpr[] = [];
  const rest = [...values];
  if (format.t === 'static' && typeof format.v === 'string') {
    const pieces = format.v.split('{}');
    pieces.forEach((text, i) => {
      if (text) parts.push({ k: 'const', value: text });
      if (i === pieces.length - 1) return;
      const value = rest.shift();
      parts.push(value ? L.hostExpr(value, span) : { k: 'const', value: '{}' });
    });
  } else {
    parts.push(L.hostExpr(format, span));
  }
  for (const v of rest) parts.push({ k: 'const', value: ' ' }, L.hostExpr(v, span));
  // `+` on host values joins them as text when either side is a string.
  return parts.reduce((a, b) => ({ k: 'op', op: '+', args: [a, b] }), { k: 'const', value: '' } as HostExpr);
}

export const ASSERTION_BUILTINS = {
  assert: { min: 1, max: 2, lower: assertion('assert', 2) },
  assert_eq: { min: 2, max: 2, lower: assertion('assert_eq', 2) },
  assert_about_eq: { min: 3, max: 3, lower: assertion('assert_about_eq', 3) },
  __bench_keep: { min: 0, max: Infinity, lower: benchKeep },
};
