// Rules as tensor programs. A rule body is a product of factors over its variables, one per literal:
// an atom is its relation's tensor (constants select, a repeated variable takes a diagonal), `not`
// is 1 - x, `X != Y` is 1 - I, `X == c` is a one-hot. Factors combine two at a time, summing a
// variable out as soon as no other factor and not the head needs it, then a step back to 0/1: a
// join of two matrices on one variable is the sparse `join` op, anything else an einsum. Rules with
// one head are OR-ed (max). Recursion runs to a fixpoint (./logic-fixpoint.ts).
import type * as A from '../ast.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, type Val } from './values.ts';
import { node } from './builtin-kit.ts';
import { tensorOf } from './tensors.ts';
import { atomName, type Logic, type Relation, type Term } from './logic.ts';

export type Literal =
  | { kind: 'atom'; rel: Relation; terms: Term[]; negated: boolean; span: A.Span }
  | { kind: 'cmp'; op: '==' | '!='; left: Term; right: Term; span: A.Span };

export interface Rule {
  head: Relation;
  terms: Term[];
  body: Literal[];
  span: A.Span;
}

/** A factor of a product: a 0/1 tensor whose dims are these variables; `fixed`: unchanged in a fixpoint loop. */
interface Factor {
  vars: string[];
  val: Val;
  fixed: boolean;
}

/** The value of an atom's relation in a product: the relation now, or a fixpoint loop's delta or full value. */
export type AtomValue = (lit: Extract<Literal, { kind: 'atom' }>, index: number) => { val: Val; fixed: boolean };

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export class RuleSet {
  readonly byHead = new Map<string, Rule[]>();
  readonly sccOf = new Map<string, string[]>(); // relation -> its component
  readonly sccs: string[][] = []; // components, each after those it depends on
  private fresh = 0;

  constructor(private readonly logic: Logic, decls: A.RuleDecl[]) {
    this.declareHeads(decls);
    for (const d of decls) {
      const r = this.rule(d);
      this.byHead.set(r.head.name, [...(this.byHead.get(r.head.name) ?? []), r]);
    }
    this.stratify();
  }

  defines(name: string): boolean {
    return this.byHead.has(name);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading rules

  /** Heads no `relation` declares get their argument types from the variables' uses in the bodies. */
  private declareHeads(decls: A.RuleDecl[]): void {
    const pending = decls.filter((d) => d.head.kind === 'Call' && !this.logic.has(atomName(d.head as A.Call)));
    for (let progress = true; pending.length && progress; ) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const d = pending[i], head = d.head as A.Call, name = atomName(head);
        if (this.logic.has(name)) continue;
        const body = d.body.filter((e) => atomOf(e) && this.logic.has(atomName(atomOf(e)!)));
        const types = new Map<string, string>();
        for (const e of body) {
          const a = atomOf(e)!, rel = this.logic.relations.get(atomName(a))!;
          a.args.forEach((x, k) => {
            const t = this.logic.term(x, rel);
            if ('v' in t && k < rel.types.length && !types.has(t.v)) types.set(t.v, rel.types[k]);
          });
        }
        const headTypes = head.args.map((x) => {
          const t = this.logic.term(x);
          if ('v' in t) return types.get(t.v);
          const owners = [...this.logic.domains.values()].filter((d) => d.index.has(t.c)); // a constant: its type, when only one has it
          return owners.length === 1 ? owners[0].name : undefined;
        });
        if (headTypes.every((t) => t !== undefined)) {
          this.logic.declareDerived(name, headTypes as string[], d.span);
          pending.splice(i--, 1);
          progress = true;
        }
      }
    }
    for (const d of pending) {
      const name = atomName(d.head as A.Call);
      if (!this.logic.has(name)) throw new CompileError(`the types of ${name}'s arguments cannot be found: declare it (relation ${name}(x: T, ...)), or use each head variable in a body atom of a declared relation`, d.head.span);
    }
  }

  private rule(d: A.RuleDecl): Rule {
    if (d.head.kind !== 'Call') throw new CompileError('a rule head must be an atom: Name(X, Y)', d.head.span);
    const head = this.logic.relations.get(atomName(d.head))!;
    this.logic.checkArity(head, d.head);
    const terms = d.head.args.map((x) => this.logic.term(x, head));
    for (const t of terms) if ('v' in t && t.v === '_') throw new CompileError("a rule head cannot have '_': every head variable must be named", t.span);
    return { head, terms, body: d.body.map((e) => this.literal(e)), span: d.span };
  }

  /** A body term or query condition: an atom, `not`/`!` of one, or a comparison of two terms. */
  literal(e: A.Expr): Literal {
    let negated = false, x = e;
    while (x.kind === 'Unary' && x.op === '!') (negated = !negated), (x = x.operand);
    if (x.kind === 'Call') {
      if (x.callee.kind !== 'Ident' || !this.logic.has(x.callee.name)) throw new CompileError(`unknown relation '${x.callee.kind === 'Ident' ? x.callee.name : '?'}'`, x.callee.span);
      const rel = this.logic.relations.get(x.callee.name)!;
      this.logic.checkArity(rel, x);
      return { kind: 'atom', rel, terms: x.args.map((a) => this.logic.term(a, rel)), negated, span: e.span };
    }
    if (x.kind === 'Binary' && (x.op === '==' || x.op === '!=')) {
      const op = negated === (x.op === '==') ? '!=' : '==';
      return { kind: 'cmp', op, left: this.logic.term(x.left), right: this.logic.term(x.right), span: e.span };
    }
    throw new CompileError('a rule body or a where clause holds atoms (R(X, Y)), their negations (not R(X), !R(X)) and comparisons (X != Y, X == alice)', e.span);
  }

  // ---------------------------------------------------------------------------------------------
  // Strata

  /** Components of the dependency graph in dependency order (Tarjan); negation inside one is refused. */
  private stratify(): void {
    const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
    let next = 0;
    const deps = (r: string) => (this.byHead.get(r) ?? []).flatMap((rule) => rule.body.filter((l) => l.kind === 'atom').map((l) => (l as { rel: Relation }).rel.name));
    const visit = (v: string): void => {
      index.set(v, next), low.set(v, next++), stack.push(v), on.add(v);
      for (const w of deps(v)) {
        if (!index.has(w)) (visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!)));
        else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) !== index.get(v)) return;
      const scc: string[] = [];
      for (let w = ''; w !== v; ) (w = stack.pop()!), on.delete(w), scc.unshift(w);
      this.sccs.push(scc);
      for (const r of scc) this.sccOf.set(r, scc);
    };
    for (const r of this.byHead.keys()) if (!index.has(r)) visit(r);
    for (const scc of this.sccs) {
      for (const r of scc) {
        for (const rule of this.byHead.get(r) ?? []) {
          const neg = rule.body.find((l) => l.kind === 'atom' && l.negated && scc.includes(l.rel.name)) as Extract<Literal, { kind: 'atom' }> | undefined;
          if (neg) {
            if (neg.rel.name === r) throw new CompileError(`these rules are not stratifiable: ${r} depends on its own negation`, neg.span);
            const cycle = [r, neg.rel.name, ...this.path(neg.rel.name, r, scc), r];
            throw new CompileError(`these rules are not stratifiable: ${r} depends on the negation of ${neg.rel.name}, which depends on ${r} (${cycle.join(' -> ')})`, neg.span);
          }
        }
      }
    }
  }

  /** Relations on a dependency path from `from` to `to` inside a component (excluding both ends). */
  private path(from: string, to: string, scc: string[]): string[] {
    const prev = new Map<string, string>([[from, '']]);
    const queue = [from];
    while (queue.length) {
      const v = queue.shift()!;
      for (const rule of this.byHead.get(v) ?? []) {
        for (const l of rule.body) {
          if (l.kind !== 'atom' || !scc.includes(l.rel.name) || prev.has(l.rel.name)) continue;
          prev.set(l.rel.name, v);
          queue.push(l.rel.name);
        }
      }
    }
    const out: string[] = [];
    for (let v = prev.get(to); v && v !== from; v = prev.get(v)) out.unshift(v);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Products

  /** A rule's body as a 0/1 tensor over its head's positions. */
  ruleValue(rule: Rule, value: AtomValue): Val {
    const headVars: string[] = [];
    const extra: Literal[] = [];
    // A constant or a repeated variable in the head: a fresh variable, equal to it.
    for (const t of rule.terms) {
      const v = 'v' in t && !headVars.includes(t.v) ? t.v : `#h${this.fresh++}`;
      if (!('v' in t) || headVars.includes(t.v)) extra.push({ kind: 'cmp', op: '==', left: { v, span: t.span }, right: t, span: t.span });
      headVars.push(v);
    }
    const types = new Map<string, string>();
    rule.terms.forEach((t, k) => types.set(headVars[k], rule.head.types[k]));
    return this.product([...rule.body, ...extra], headVars, value, rule.span, types);
  }

  /**
   * The 0/1 tensor over `out` (in that order) of the conjunction of `lits`: every other variable is
   * summed out. `types` may give variables' domains up front (a rule head's).
   */
  product(lits: Literal[], out: string[], value: AtomValue, span: A.Span, known = new Map<string, string>()): Val {
    const L = this.logic.L;
    const types = this.typeVariables(lits, known);
    for (const v of out) if (!types.has(v)) throw new CompileError(`the variable ${v} appears in no atom, so its entity type is unknown`, span);
    const size = (v: string) => Math.max(1, this.logic.domain(types.get(v)!).members.length);
    const factors: Factor[] = [];
    for (const [k, lit] of lits.entries()) {
      const f = lit.kind === 'atom' ? this.atomFactor(lit, value(lit, k)) : this.compareFactor(lit, types, size);
      if (f === 'true') continue;
      if (f === 'false') return this.logic.indicator([], out.map(size), span);
      factors.push(f);
    }
    // A head variable no literal mentions ranges over its whole domain.
    for (const v of out) if (!factors.some((f) => f.vars.includes(v))) factors.push({ vars: [v], val: this.ones(size(v), span), fixed: true });
    const needed = (v: string, except: Factor[]) => out.includes(v) || factors.some((f) => !except.includes(f) && f.vars.includes(v));
    while (factors.length > 1) {
      // The pair that shares a variable and makes the smallest result.
      let best: [number, number, string[], number] | undefined;
      for (let i = 0; i < factors.length; i++) {
        for (let j = i + 1; j < factors.length; j++) {
          const [a, b] = [factors[i], factors[j]];
          const vars = [...new Set([...a.vars, ...b.vars])].filter((v) => needed(v, [a, b]));
          const shares = a.vars.some((v) => b.vars.includes(v));
          const cost = vars.reduce((p, v) => p * size(v), 1) * (shares ? 1 : 1e9);
          if (!best || cost < best[3]) best = [i, j, vars, cost];
        }
      }
      const [i, j, vars] = best!;
      const [a, b] = [factors[i], factors[j]];
      factors.splice(j, 1);
      factors.splice(i, 1, this.combine(a, b, vars, span));
    }
    return this.arrange(factors[0], out, span);
  }

  /** Domains of the variables from the positions they fill (and `==` between variables); they must agree. */
  private typeVariables(lits: Literal[], known: Map<string, string>): Map<string, string> {
    const types = new Map(known);
    const give = (v: string, t: string, at: A.Span) => {
      const had = types.get(v);
      if (had && had !== t) throw new CompileError(`the variable ${v} is ${a(had)} ${had} in one place and ${a(t)} ${t} in another`, at);
      types.set(v, t);
    };
    for (const l of lits) if (l.kind === 'atom') l.terms.forEach((t, k) => 'v' in t && t.v !== '_' && give(t.v, l.rel.types[k], t.span));
    for (let changed = true; changed; ) {
      changed = false;
      for (const l of lits) {
        if (l.kind !== 'cmp' || !('v' in l.left) || !('v' in l.right)) continue;
        const [x, y] = [l.left.v, l.right.v];
        if (types.has(x) && !types.has(y)) (give(y, types.get(x)!, l.span), (changed = true));
        else if (types.has(y) && !types.has(x)) (give(x, types.get(y)!, l.span), (changed = true));
        else if (types.has(x)) give(y, types.get(x)!, l.span);
      }
    }
    for (const l of lits) {
      if (l.kind !== 'cmp') continue;
      for (const t of [l.left, l.right]) if ('v' in t && !types.has(t.v)) throw new CompileError(`the variable ${t.v} appears in no atom, so its entity type is unknown`, t.span);
    }
    return types;
  }

  /** An atom's factor over its distinct named variables: constants selected, diagonals taken, `_` summed. */
  private atomFactor(lit: Extract<Literal, { kind: 'atom' }>, av: { val: Val; fixed: boolean }): Factor {
    const L = this.logic.L;
    const span = lit.span;
    const named = [...new Set(lit.terms.flatMap((t) => ('v' in t && t.v !== '_' ? [t.v] : [])))];
    let f: Factor;
    const plain = named.length === lit.terms.length;
    if (plain) f = { vars: named, val: av.val, fixed: av.fixed };
    else {
      // Each position gets a letter: a variable's own, or a fresh one that a constant's one-hot selects or `_` sums.
      const own = new Map(named.map((v, k) => [v, LETTERS[k]]));
      const letters = lit.terms.map((t, k) => ('v' in t && t.v !== '_' ? own.get(t.v)! : LETTERS[named.length + k]));
      // One constant at a time (einsum takes two operands), then the diagonals and `_` in one step.
      let val = av.val;
      let cur = letters.join('');
      lit.terms.forEach((t, k) => {
        if (!('c' in t)) return;
        const d = this.logic.domain(lit.rel.types[k]);
        const at = d.index.get(t.c);
        const hot = this.logic.indicator(at === undefined ? [] : [at], [Math.max(1, d.members.length)], span);
        const next = [...new Set(cur.replace(letters[k], ''))].join(''); // a repeated letter: its diagonal
        val = this.einsumStep([tensorOf(L, val, span), tensorOf(L, hot, span)], `${cur},${letters[k]}->${next}`, span);
        cur = next;
      });
      const want = named.map((v) => own.get(v)).join('');
      if (cur !== want) val = this.einsumStep([tensorOf(L, val, span)], `${cur}->${want}`, span);
      f = { vars: named, val, fixed: av.fixed };
    }
    if (lit.negated) f = { ...f, val: node(L, 'scale', [tensorOf(L, f.val, span)], { value: -1, bias: 1 }, span) };
    return f;
  }

  private compareFactor(lit: Extract<Literal, { kind: 'cmp' }>, types: Map<string, string>, size: (v: string) => number): Factor | 'true' | 'false' {
    const L = this.logic.L;
    const span = lit.span;
    const { left, right } = lit;
    const eq = lit.op === '==';
    let f: Factor;
    if ('c' in left && 'c' in right) return (left.c === right.c) === eq ? 'true' : 'false';
    if ('v' in left && 'v' in right) {
      if (left.v === right.v) return eq ? 'true' : 'false';
      const n = size(left.v);
      f = { vars: [left.v, right.v], val: this.logic.indicator(Array.from({ length: n }, (_, i) => i * n + i), [n, n], span), fixed: true };
    } else {
      const [v, c] = 'v' in left ? [left.v, (right as { c: string }).c] : [(right as { v: string }).v, left.c];
      const d = this.logic.domain(types.get(v)!);
      const at = d.index.get(c);
      f = { vars: [v], val: this.logic.indicator(at === undefined ? [] : [at], [size(v)], span), fixed: true };
    }
    if (!eq) f = { ...f, val: node(L, 'scale', [tensorOf(L, f.val, span)], { value: -1, bias: 1 }, span) };
    return f;
  }

  /** Two factors into one over `vars`: a sparse join for two matrices on one variable, else an einsum. */
  private combine(a: Factor, b: Factor, vars: string[], span: A.Span): Factor {
    const shared = a.vars.filter((v) => b.vars.includes(v));
    const fixed = a.fixed && b.fixed;
    if (a.vars.length === 2 && b.vars.length === 2 && shared.length === 1 && vars.length === 2 && !vars.includes(shared[0])) {
      const s = shared[0];
      const m = a.vars.find((v) => v !== s)!, n = b.vars.find((v) => v !== s)!;
      if (m !== n) {
        // The operand whose lists can be made once (fixed in a loop) gives the lists; the other is probed.
        const [S, D, other] = b.fixed && !a.fixed ? [b, a, n] : [a, b, m];
        const lists = this.logic.nonzeros(S.val, S.vars.indexOf(s) === 1 ? 1 : 0, span);
        const dFirst = D.vars[0] === s; // D is (s, x): probed along rows
        const side = dFirst ? 'left' : 'right';
        const dOther = D.vars.find((v) => v !== s)!;
        const val = node(this.logic.L, 'join', [tensorOf(this.logic.L, lists, span), tensorOf(this.logic.L, D.val, span)], { side }, span);
        return { vars: side === 'left' ? [other, dOther] : [dOther, other], val, fixed };
      }
    }
    const letter = new Map([...new Set([...a.vars, ...b.vars])].map((v, k) => [v, LETTERS[k]]));
    if (letter.size > LETTERS.length) throw new CompileError(`a rule with more than ${LETTERS.length} variables cannot be compiled`, span);
    const word = (vs: string[]) => vs.map((v) => letter.get(v)).join('');
    const summed = letter.size > vars.length;
    const L = this.logic.L;
    const args = [tensorOf(L, a.val, span), tensorOf(L, b.val, span)];
    const eq = `${word(a.vars)},${word(b.vars)}->${word(vars)}`;
    const val = summed ? this.einsumStep(args, eq, span) : node(L, 'einsum', args, { eq }, span);
    return { vars, val, fixed };
  }

  /** The last factor as a tensor over `out` in that order, other variables summed out. */
  private arrange(f: Factor, out: string[], span: A.Span): Val {
    if (f.vars.length === out.length && f.vars.every((v, k) => v === out[k])) return f.val;
    const letter = new Map(f.vars.map((v, k) => [v, LETTERS[k]]));
    const eq = `${f.vars.map((v) => letter.get(v)).join('')}->${out.map((v) => letter.get(v)).join('')}`;
    const args = [tensorOf(this.logic.L, f.val, span)];
    return f.vars.length > out.length ? this.einsumStep(args, eq, span) : node(this.logic.L, 'einsum', args, { eq }, span);
  }

  private einsumStep(args: number[], eq: string, span: A.Span): Val {
    const L = this.logic.L;
    const sum = node(L, 'einsum', args, { eq }, span);
    return node(L, 'unary', [tensorOf(L, sum, span)], { fn: 'step' }, span);
  }



  private ones(n: number, span: A.Span): Val {
    return this.logic.indicator(Array.from({ length: n }, (_, i) => i), [n], span);
  }
}

export function or(L: Lowerer, a: Val, b: Val, span: A.Span): Val {
  return node(L, 'binary', [tensorOf(L, a, span), tensorOf(L, b, span)], { fn: 'max' }, span);
}

function atomOf(e: A.Expr): A.Call | undefined {
  while (e.kind === 'Unary' && e.op === '!') e = e.operand;
  return e.kind === 'Call' ? e : undefined;
}

function a(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

