// Evaluating rules: the relations that depend on one another (a component of the dependency graph,
// ./logic-rules.ts) are evaluated together, after those they depend on. A recursive component runs
// semi-naive iteration on the device, in a host loop with one 4-byte read-back a round:
//
//   full = what the non-recursive rules give;  delta = full
//   loop { new = rules with one atom reading delta, the others full, minus full
//          full = full + new;  delta = new;  if count(new) == 0 { break } }
//
// The loop is TensorLogic the compiler writes and lowers like any other (so its tensors live in host
// variables between rounds), calling back here through __logic_round, __logic_union and
// __logic_round_count (./builtins-logic.ts) for each round's tensor work.
//
// A linear component (one binary relation whose recursive rules each join it with one fixed
// relation, `Path(X, Z) <- Edge(X, Y), Path(Y, Z)` or `Path(X, Z) <- Path(X, Y), Edge(Y, Z)`) runs on
// packed bits instead: 32 entities a word, a round touching n²/32 words rather than n² floats.
import type * as A from '../ast.ts';
import { CompileError, type Val } from './values.ts';
import { node } from './builtin-kit.ts';
import { tensorOf } from './tensors.ts';
import type { Logic } from './logic.ts';
import { or, type AtomValue, type Literal, type RuleSet } from './logic-rules.ts';

/** A linear rule on packed bits: join_bits(lists of the fixed relation, delta) (see the join op). */
interface BitsJoin {
  rel: string; // the fixed relation, whose nonzero lists are made before the loop
  axis: number;
  side: 'left' | 'right';
}

/** How a component's loop runs: on 0/1 floats, or on packed bits (of R, or of R transposed). */
type Plan = { bits: false } | { bits: true; joins: BitsJoin[]; lists: Val[]; n: number; transposed: boolean };

export class Evaluator {
  private readonly plans = new Map<number, Plan>();

  constructor(private readonly logic: Logic, private readonly rules: RuleSet) {}

  /** The values of `name`'s component: its relations' facts with what the rules derive. */
  evaluate(name: string, span: A.Span): [string, Val][] {
    const L = this.logic.L;
    const scc = this.rules.sccOf.get(name)!;
    const recursive = (rule: { body: Literal[] }) => rule.body.some((l) => l.kind === 'atom' && scc.includes(l.rel.name));
    const now: AtomValue = (lit) => ({ val: this.logic.value(lit.rel.name, lit.span), fixed: true });
    // What the rules give from lower strata alone (all of it, when the component is not recursive).
    const init = scc.map((r) => {
      const rel = this.logic.relations.get(r)!;
      let v = rel.facts.size || rel.assigned ? this.logic.base(r, span) : undefined;
      for (const rule of this.rules.byHead.get(r)!) {
        if (recursive(rule)) continue;
        const d = this.rules.ruleValue(rule, now);
        v = v ? or(L, v, d, span) : d;
      }
      return v ?? this.logic.base(r, span);
    });
    if (!scc.some((r) => this.rules.byHead.get(r)!.some(recursive))) return scc.map((r, i) => [r, init[i]]);
    return this.fixpoint(scc, init, span);
  }

  private fixpoint(scc: string[], init: Val[], span: A.Span): [string, Val][] {
    const L = this.logic.L;
    const at = this.rules.sccs.indexOf(scc);
    const id = (name: string): A.Ident => ({ kind: 'Ident', name, span });
    const call = (name: string, ...args: A.Expr[]): A.Call => ({ kind: 'Call', callee: id(name), args, span });
    const lit = (value: number): A.Expr => ({ kind: 'Lit', value, span }) as A.Expr;
    const body: A.Stmt[] = [
      ...scc.map((r, i): A.Stmt => ({ kind: 'Let', name: added(r), init: call('__logic_round', lit(at), lit(i)), span })),
      ...scc.flatMap((r, i): A.Stmt[] => [
        { kind: 'Assign', op: '=', target: id(full(r)), value: call('__logic_union', lit(at), lit(i)), span },
        { kind: 'Assign', op: '=', target: id(delta(r)), value: id(added(r)), span },
      ]),
      {
        kind: 'If', span,
        cond: { kind: 'Binary', op: '==', left: call('__logic_round_count', lit(at)), right: lit(0), span },
        then: { kind: 'Block', stmts: [{ kind: 'Break', span }], span },
      },
    ];
    return L.inScope(() => {
      // Everything the loop reads from lower strata, and their nonzero lists, made once before it.
      for (const r of scc) {
        for (const rule of this.rules.byHead.get(r)!) {
          for (const l of rule.body) {
            if (l.kind !== 'atom' || scc.includes(l.rel.name)) continue;
            const v = this.logic.value(l.rel.name, l.span);
            if (l.rel.types.length === 2 && !l.negated) for (const axis of [0, 1]) this.logic.nonzeros(v, axis, l.span);
          }
        }
      }
      const plan = this.planFor(scc, span);
      this.plans.set(at, plan);
      const flip = (v: Val) => (plan.bits && plan.transposed ? node(L, 'einsum', [tensorOf(L, v, span)], { eq: 'ab->ba' }, span) : v);
      const start = plan.bits ? init.map((v) => node(L, 'pack_bits', [tensorOf(L, flip(v), span)], {}, span)) : init;
      scc.forEach((r, i) => (L.declare(full(r), start[i]), L.declare(delta(r), start[i])));
      L.stmt({ kind: 'Loop', body: { kind: 'Block', stmts: body, span }, span });
      return scc.map((r): [string, Val] => {
        const v = L.lookup(full(r), span);
        return [r, plan.bits ? flip(node(L, 'unpack_bits', [tensorOf(L, v, span)], { n: plan.n }, span)) : v];
      });
    });
  }

  /** `__logic_round(component, i)`: what relation i of the component derives this round that is new. */
  round(at: number, i: number, span: A.Span): Val {
    const L = this.logic.L;
    const scc = this.rules.sccs[at], r = scc[i];
    const plan = this.plan(at, span);
    const known = tensorOf(L, L.lookup(full(r), span), span);
    if (plan.bits) {
      const d = tensorOf(L, L.lookup(delta(r), span), span);
      const parts = plan.joins.map((j, k) => node(L, 'join_bits', [tensorOf(L, plan.lists[k], span), d, known], { side: j.side, n: plan.n }, span));
      return parts.reduce((a, b) => node(L, 'bits_or', [tensorOf(L, a, span), tensorOf(L, b, span)], {}, span));
    }
    let out: Val | undefined;
    for (const rule of this.rules.byHead.get(r)!) {
      rule.body.forEach((l, j) => {
        if (l.kind !== 'atom' || !scc.includes(l.rel.name)) return;
        const value: AtomValue = (lit, k) => {
          if (!scc.includes(lit.rel.name)) return { val: this.logic.value(lit.rel.name, lit.span), fixed: true };
          return { val: L.lookup(k === j ? delta(lit.rel.name) : full(lit.rel.name), span), fixed: false };
        };
        const v = this.rules.ruleValue(rule, value);
        out = out ? or(L, out, v, span) : v;
      });
    }
    // Only what is not known yet: a join leaves it out itself, anything else is x * (1 - full).
    const made = out!.t === 'tensor' && out!.g === L.graph() ? out!.g.nodes[out!.node] : undefined;
    if (made?.op === 'join' && made.args.length === 2) return node(L, 'join', [...made.args, known], made.attrs, span);
    const unknown = node(L, 'scale', [known], { value: -1, bias: 1 }, span);
    return node(L, 'binary', [tensorOf(L, out!, span), tensorOf(L, unknown, span)], { fn: 'mul' }, span);
  }

  /** `__logic_union(component, i)`: relation i's facts so far with this round's (disjoint from them). */
  union(at: number, i: number, span: A.Span): Val {
    const L = this.logic.L;
    const r = this.rules.sccs[at][i];
    const args = [tensorOf(L, L.lookup(full(r), span), span), tensorOf(L, L.lookup(added(r), span), span)];
    return this.plan(at, span).bits ? node(L, 'bits_or', args, {}, span) : node(L, 'binary', args, { fn: 'add' }, span);
  }

  /** `__logic_round_count(component)`: how many facts this round added, over the component. */
  count(at: number, span: A.Span): Val {
    const L = this.logic.L;
    const bits = this.plan(at, span).bits;
    let total: Val | undefined;
    for (const r of this.rules.sccs[at]) {
      const x = tensorOf(L, L.lookup(added(r), span), span);
      const n = bits ? node(L, 'bits_count', [x], {}, span) : node(L, 'reduce', [x], { fn: 'sum' }, span);
      total = total ? node(L, 'binary', [tensorOf(L, total, span), tensorOf(L, n, span)], { fn: 'add' }, span) : n;
    }
    return total!;
  }

  /**
   * Packed bits when the recursion is linear. A join whose lists index the output's columns (side
   * right) probes single bits, 32 times the work of one that ORs whole words (side left): when every
   * join is so, the loop runs on R transposed, where the same lists make left joins.
   */
  private planFor(scc: string[], span: A.Span): Plan {
    const found = this.linearJoins(scc);
    if (!found) return { bits: false };
    const transposed = found.every((j) => j.side === 'right');
    const joins = transposed ? found.map((j) => ({ ...j, side: 'left' as const })) : found;
    const shape = this.logic.shape(this.logic.relations.get(scc[0])!);
    const lists = joins.map((j) => this.logic.nonzeros(this.logic.value(j.rel, span), j.axis, span));
    return { bits: true, joins, lists, n: transposed ? shape[0] : shape[1], transposed };
  }

  /** The plan of a component whose loop is being lowered (the builtins are the compiler's own). */
  private plan(at: number, span: A.Span): Plan {
    const plan = this.plans.get(at);
    if (!plan) throw new CompileError('__logic_round, __logic_union and __logic_round_count are written by the compiler for its fixpoint loops', span);
    return plan;
  }

  /**
   * The packed-bits plan, when the component is one binary relation R and each recursive rule is
   * R(X, Z) <- F(..), R(..) with F fixed (from a lower stratum), plain distinct variables, and the
   * join coming out in the head's order (X, Z); undefined otherwise.
   */
  private linearJoins(scc: string[]): BitsJoin[] | undefined {
    if (scc.length !== 1) return undefined;
    const r = scc[0];
    if (this.logic.relations.get(r)!.types.length !== 2) return undefined;
    const joins: BitsJoin[] = [];
    for (const rule of this.rules.byHead.get(r)!) {
      if (!rule.body.some((l) => l.kind === 'atom' && l.rel.name === r)) continue;
      const head = rule.terms.map((t) => ('v' in t ? t.v : ''));
      const atoms = rule.body.filter((l): l is Extract<Literal, { kind: 'atom' }> => l.kind === 'atom' && !l.negated);
      const vars = (l: Extract<Literal, { kind: 'atom' }>) => l.terms.map((t) => ('v' in t && t.v !== '_' ? t.v : ''));
      if (rule.body.length !== 2 || atoms.length !== 2 || head.includes('') || head[0] === head[1]) return undefined;
      const d = atoms.find((l) => l.rel.name === r)!, s = atoms.find((l) => l !== d)!;
      if (s.rel.name === r || s.rel.types.length !== 2) return undefined;
      const [dv, sv] = [vars(d), vars(s)];
      if ([...dv, ...sv].includes('') || dv[0] === dv[1] || sv[0] === sv[1]) return undefined;
      const shared = sv.filter((v) => dv.includes(v));
      if (shared.length !== 1) return undefined;
      const y = shared[0], x = sv.find((v) => v !== y)!, z = dv.find((v) => v !== y)!;
      const side = dv[0] === y ? 'left' : 'right';
      const out = side === 'left' ? [x, z] : [z, x];
      if (out[0] !== head[0] || out[1] !== head[1]) return undefined;
      joins.push({ rel: s.rel.name, axis: sv.indexOf(y) === 1 ? 1 : 0, side });
    }
    return joins.length ? joins : undefined;
  }
}

const full = (r: string) => `__full_${r}`;
const delta = (r: string) => `__delta_${r}`;
const added = (r: string) => `__new_${r}`;
