// Integers and floats, typed as the original types them.
//
// The original keeps `Integer` (i64) and `Float` (f64) apart: `10 / 3` is 3, `10.0 / 3` is 3.333,
// and an integer mixed with a float is a float. JavaScript has one number type, so tlc keeps the
// difference where it shows: a build-time value carries `float: true` when it is a float that
// happens to be whole (`2.0`, `1.5 * 2`); any other whole number is an integer. A run-time value's
// type is worked out from the host expression that makes it (len() is an int, a tensor element a
// float, a variable the type of its `let`). Division of two integers becomes the host op `idiv`
// (truncating toward zero, as Rust's i64 `/`); of a float, `/`; when the compiler cannot tell,
// `div_auto`, which truncates when both values are whole when it runs.
import type * as A from '../ast.ts';
import type { HostExpr, HostStmt, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import type { HostBlock } from './host.ts';
import type { Val } from './values.ts';

export type NumType = 'int' | 'float';

/** The value of a literal: `2.0` stays a float. */
export function literal(e: A.Lit): Val {
  if (e.type === 'float') return floatStat(e.value as number);
  return { t: 'static', v: e.value };
}

/** A build-time float; the mark matters only when it is whole. */
export function floatStat(v: number): Val {
  return Number.isInteger(v) ? { t: 'static', v, float: true } : { t: 'static', v };
}

/** The number type of a build-time value, or undefined when it is not a number. */
export function staticType(v: HostValue, float?: boolean): NumType | undefined {
  if (typeof v !== 'number') return undefined;
  return float || !Number.isInteger(v) ? 'float' : 'int';
}

/** How the host program sees a build-time value: a whole float is written float(n), so it stays one. */
export function hostConst(v: Extract<Val, { t: 'static' }>): HostExpr {
  const c: HostExpr = { k: 'const', value: v.v };
  return v.float ? { k: 'call', fn: 'float', args: [c] } : c;
}

/**
 * The number type of a value, when the compiler can tell. Only numbers are asked about: a tensor's
 * elements come to the host as floats or ids through `out`, which hostType types.
 */
export function numType(L: Lowerer, v: Val): NumType | undefined {
  if (v.t === 'static') return staticType(v.v, v.float);
  if (v.t === 'sym') return 'int'; // a size
  if (v.t === 'host') return hostType(L, v.e, 0);
  return undefined;
}

const INT_CALLS = new Set(['int', 'len', 'dim', 'string_length']);
const ARITHMETIC = new Set(['+', '-', '*', '⊙', '%', '**']);
const MAX_LOOK = 32; // steps through a host expression (and the lets it names) before giving up

function hostType(L: Lowerer, e: HostExpr, depth: number): NumType | undefined {
  if (depth > MAX_LOOK) return undefined;
  const sub = (x: HostExpr) => hostType(L, x, depth + 1);
  switch (e.k) {
    case 'const':
      return staticType(e.value);
    case 'arg':
      return staticType(e.default);
    case 'call':
      if (INT_CALLS.has(e.fn)) return 'int';
      if (e.fn === 'float') return 'float';
      if (e.fn === 'select') return join(sub(e.args[1]), sub(e.args[2]));
      if (e.fn === 'min' || e.fn === 'max' || e.fn === 'abs') return e.args.map(sub).reduce(join);
      return undefined;
    case 'op':
      if (e.op === 'idiv' || e.op === 'int') return 'int';
      if (e.op === '/') return 'float';
      if (e.op === 'neg') return sub(e.args[0]);
      if (ARITHMETIC.has(e.op)) return join(sub(e.args[0]), sub(e.args[1]));
      return undefined;
    case 'out': {
      const g = L.graphs.find((x) => x.id === e.graph);
      const o = g?.outputs[e.output];
      if (!g || !o) return undefined;
      return g.nodes[o.node].dtype === 'u32' ? 'int' : 'float';
    }
    case 'var': {
      const init = letOf(L.block, e.name);
      return init ? sub(init) : undefined;
    }
    default:
      return undefined;
  }
}

/** int with int is int, a float makes a float; anything unknown is unknown. */
function join(a: NumType | undefined, b: NumType | undefined): NumType | undefined {
  if (a === 'float' || b === 'float') return a && b ? 'float' : undefined;
  return a === 'int' && b === 'int' ? 'int' : undefined;
}

/** The value a host variable was declared with, looking out from the block being filled. */
function letOf(block: HostBlock | undefined, name: string): HostExpr | undefined {
  for (let b = block; b; b = b.parent) {
    const found = findLet(b.stmts, name);
    if (found) return found;
  }
  return undefined;
}

function findLet(stmts: HostStmt[], name: string): HostExpr | undefined {
  for (let i = stmts.length - 1; i >= 0; i--) {
    const s = stmts[i];
    if (s.k === 'let' && s.name === name) return s.value;
  }
  return undefined;
}

/**
 * The host op for `a / b`: `idiv` for two integers, `/` when one is a float, `div_auto` when
 * the compiler cannot tell. Other operators keep their names.
 */
export function hostOpFor(op: string, a: NumType | undefined, b: NumType | undefined): string {
  if (op !== '/') return op;
  if (a === 'int' && b === 'int') return 'idiv';
  if (a === 'float' || b === 'float') return '/';
  return 'div_auto';
}

/** Whether a folded result is a float: arithmetic with a float operand, or float division. */
export function resultIsFloat(op: string, a: NumType | undefined, b: NumType | undefined): boolean {
  if (op === '/') return true;
  return ARITHMETIC.has(op) && (a === 'float' || b === 'float');
}
