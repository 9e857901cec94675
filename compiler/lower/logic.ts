// Logic programming as tensor algebra. An entity type is an index domain; a relation R(x: T, y: U)
// is a 0/1 f32 tensor of shape (|T|, |U|); a fact sets one element; a rule is an einsum over its
// variables followed by a step (./logic-rules.ts); a query reads its answer back (./logic-query.ts).
//
// Domains are fixed at build time: declared members (`entity Person = {alice, bob}`), or, for an
// open type (`entity Person`, or the generic `entity`), every name the program's facts put there.
// Facts known at build time are a list of flat offsets per relation, uploaded as an `indicator`.
import type * as A from '../ast.ts';
import { forEachNode } from '../ast-walk.ts';
import type { HostBlock } from './host.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, type Val } from './values.ts';
import { node } from './builtin-kit.ts';
import { tensorOf } from './tensors.ts';
import { RuleSet } from './logic-rules.ts';
import { Evaluator } from './logic-fixpoint.ts';

export interface Domain {
  name: string;
  members: string[];
  index: Map<string, number>;
  closed: boolean; // declared with its members: a fact may not add to it
}

export interface Relation {
  name: string;
  types: string[]; // the domain of each argument position
  params: string[]; // declared parameter names (lower case): the original also reads these as variables
  facts: Set<number>; // flat offsets of the facts known at build time
  assigned?: Val; // `R = tensor`: the relation's truth values, replacing its facts
  span: A.Span;
}

/** A logic term: a variable, or an entity name. `_` is a variable of its own at each use. */
export type Term = { v: string; span: A.Span } | { c: string; span: A.Span };

/** Values valid in the host block that made them and the blocks nested in it, for one fact version. */
class BlockMemo<K> {
  private readonly m = new Map<K, { val: Val; block: HostBlock; version: number }>();
  get(key: K, block: HostBlock, version: number): Val | undefined {
    const e = this.m.get(key);
    if (!e || e.version !== version) return undefined;
    for (let b: HostBlock | undefined = block; b; b = b.parent) if (b === e.block) return e.val;
    return undefined;
  }
  set(key: K, val: Val, block: HostBlock, version: number): Val {
    this.m.set(key, { val, block, version });
    return val;
  }
}

export class Logic {
  readonly domains = new Map<string, Domain>();
  readonly relations = new Map<string, Relation>();
  readonly rules: RuleSet;
  readonly evaluator: Evaluator;
  /** Bumped by every fact and relation assignment: what was derived before is stale. */
  version = 0;
  private readonly values = new BlockMemo<string>();
  private readonly lists = [new BlockMemo<Val>(), new BlockMemo<Val>()]; // by axis, keyed by the listed value
  private readonly journal: (() => void)[] = []; // undoes build-time facts (see mark)

  constructor(readonly L: Lowerer, program: A.Program, private readonly isFunction: (name: string) => boolean) {
    const rules: A.RuleDecl[] = [];
    forEachNode(program, (n) => {
      const item = n as A.Item;
      if (item.kind === 'EntityDecl') this.declareDomain(item.name, item.members, item.span);
      else if (item.kind === 'RelationDecl') this.declareRelation(item);
      else if (item.kind === 'RuleDecl') rules.push(item);
      return true;
    });
    this.rules = new RuleSet(this, rules);
    this.evaluator = new Evaluator(this, this.rules);
    for (const r of this.relations.keys()) L.declareGlobal(factsName(r), { t: 'none' });
    // Open domains take every name the program's facts put in them, in order of appearance.
    forEachNode(program, (n) => {
      const fact = (n as A.Stmt).kind === 'ExprStmt' ? (n as A.ExprStmt).expr : (n as A.Block).kind === 'Block' ? (n as A.Block).tail : undefined;
      if (fact && this.isFact(fact)) {
        const rel = this.relations.get(atomName(fact))!;
        fact.args.forEach((arg, i) => {
          const t = this.term(arg, rel);
          const d = this.domains.get(rel.types[i]);
          if (d && !d.closed && 'c' in t && !d.index.has(t.c)) addMember(d, t.c);
        });
      }
      return true;
    });
  }

  /** A member of some entity type. */
  isEntity(name: string): boolean {
    for (const d of this.domains.values()) if (d.index.has(name)) return true;
    return false;
  }

  has(name: string): boolean {
    return this.relations.has(name);
  }

  /**
   * An atom that states a fact, as a statement or a block's last expression: every term an entity
   * (a statement with variables is refused by fact(); as a value, an atom is a 0/1 tensor).
   */
  isFact(e: A.Expr | undefined): e is A.Call {
    if (!e || !this.isAtom(e)) return false;
    const rel = this.relations.get(atomName(e))!;
    return e.args.every((a) => 'c' in (this.termOf(a, rel) ?? {}));
  }

  /** A call that is a logic atom: its callee is a relation, not a function. */
  isAtom(e: A.Expr): e is A.Call {
    return e.kind === 'Call' && e.callee.kind === 'Ident' && this.relations.has(e.callee.name) && !this.isFunction(e.callee.name);
  }

  // ---------------------------------------------------------------------------------------------
  // Declarations

  private declareDomain(name: string, members: string[] | undefined, span: A.Span): Domain {
    if (this.domains.has(name)) {
      const d = this.domains.get(name)!;
      if (members) throw new CompileError(`entity type '${name}' is declared twice`, span);
      return d;
    }
    const d: Domain = { name, members: [], index: new Map(), closed: members !== undefined };
    for (const m of members ?? []) {
      if (d.index.has(m)) throw new CompileError(`entity '${m}' is listed twice in '${name}'`, span);
      addMember(d, m);
    }
    this.domains.set(name, d);
    return d;
  }

  private declareRelation(r: A.RelationDecl): void {
    if (this.relations.has(r.name)) throw new CompileError(`relation '${r.name}' is declared twice`, r.span);
    const types = r.params.map((p) => {
      const t = p.type;
      if (!t) return 'entity';
      if (t.kind !== 'NamedType' || t.args.length) throw new CompileError(`the parameter '${p.name}' of relation '${r.name}' must have an entity type (entity, or an entity type's name)`, p.span);
      if (t.name !== 'entity' && !this.domains.has(t.name)) throw new CompileError(`unknown entity type '${t.name}'`, t.span);
      return t.name;
    });
    if (types.includes('entity')) this.declareDomain('entity', undefined, r.span);
    this.relations.set(r.name, { name: r.name, types, params: r.params.map((p) => p.name.toLowerCase()), facts: new Set(), span: r.span });
  }

  /** A relation that only rules define: its types are the types its head's variables get in the bodies. */
  declareDerived(name: string, types: string[], span: A.Span): void {
    this.relations.set(name, { name, types, params: [], facts: new Set(), span });
  }

  domain(name: string): Domain {
    return this.domains.get(name)!;
  }

  /** A relation's tensor shape: one dim per argument, at least 1 (an empty domain has no member to name). */
  shape(rel: Relation): number[] {
    return rel.types.map((t) => Math.max(1, this.domain(t).members.length));
  }

  // ---------------------------------------------------------------------------------------------
  // Terms

  /**
   * As in the original: a single capital letter (here also with digits: X2) is a variable, and so is a
   * name of one of the relation's declared parameters (`x` in Parent(x: entity, y: entity)); `_` is a
   * variable of its own; any other name, string or number is an entity.
   */
  term(e: A.Expr, rel?: Relation): Term {
    const t = this.termOf(e, rel);
    if (!t) throw new CompileError('a logic term must be a variable (X), an entity name, a string or a number', e.span);
    return t;
  }

  private termOf(e: A.Expr, rel?: Relation): Term | undefined {
    if (e.kind === 'Ident') {
      if (/^[A-Z][0-9]*$/.test(e.name) || e.name === '_' || rel?.params.includes(e.name.toLowerCase())) return { v: e.name, span: e.span };
      return { c: e.name, span: e.span };
    }
    if (e.kind === 'Lit' && (typeof e.value === 'string' || typeof e.value === 'number')) return { c: String(e.value), span: e.span };
    return undefined;
  }


  // ---------------------------------------------------------------------------------------------
  // Facts and values

  /**
   * `Parent(alice, bob)` as a statement: one element of Parent set. At build time it joins the
   * relation's list of facts; in run-time control flow (or once the relation lives in a host
   * variable) the relation's tensor is set there: R = max(R, one-hot), a tensor the loop carries.
   */
  fact(call: A.Call): void {
    const rel = this.relations.get(atomName(call))!;
    this.checkArity(rel, call);
    let offset = 0;
    call.args.forEach((arg, i) => {
      const t = this.term(arg, rel);
      if ('v' in t) throw new CompileError(`a fact cannot have a variable (${t.v}): a statement with variables is a rule (Head(X) <- Body(X)) or a query (${rel.name}(...)?)`, t.span);
      const d = this.domain(rel.types[i]);
      const at = d.index.get(t.c);
      if (at === undefined) throw new CompileError(`'${t.c}' is not ${article(d.name)} ${d.name} (${d.name} = {${d.members.slice(0, 12).join(', ')}${d.members.length > 12 ? ', ...' : ''}})`, t.span);
      offset = offset * this.shape(rel)[i] + at;
    });
    if (rel.assigned) throw new CompileError(`'${rel.name}' was given a tensor; a fact cannot be added to it`, call.span);
    const held = this.held(rel.name);
    if (held) {
      this.version++;
      const one = this.indicator([offset], this.shape(rel), call.span);
      return this.L.assignName(factsName(rel.name), node(this.L, 'binary', [tensorOf(this.L, held, call.span), tensorOf(this.L, one, call.span)], { fn: 'max' }, call.span), call.span);
    }
    if (this.L.runTimeDepth > 0) throw new CompileError(`a fact inside run-time control flow that the loop or if does not state itself (in a function it calls) cannot be compiled: state ${rel.name}(...) in the loop's body`, call.span);
    if (rel.facts.has(offset)) return;
    this.version++;
    rel.facts.add(offset);
    this.journal.push(() => rel.facts.delete(offset));
  }

  /** The hidden variable a fact in run-time control flow changes: what generalize makes a host variable. */
  factTarget(e: A.Expr): string | undefined {
    return this.isFact(e) && !this.L.hasLocal(atomName(e)) ? factsName(atomName(e)) : undefined;
  }

  /** Before run-time control flow that states facts of R: R's facts so far become a tensor in R's variable. */
  hold(names: Iterable<string>, span: A.Span): void {
    for (const name of names) {
      if (!name.startsWith(FACTS)) continue;
      const rel = name.slice(FACTS.length);
      if (this.held(rel) || !this.relations.has(rel)) continue;
      this.L.rebindName(name, this.base(rel, span));
      this.version++;
    }
  }

  /** The tensor a relation's facts live in once run-time control flow states some. */
  private held(rel: string): Val | undefined {
    const v = this.L.lookup(factsName(rel), this.relations.get(rel)!.span);
    return v.t === 'none' ? undefined : v;
  }

  /** Undoing what lowering did since `mark()` (a loop tried unrolled, then lowered as a host loop). */
  mark(): number {
    return this.journal.length;
  }
  undoTo(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!();
    this.version++; // what was derived meanwhile may be gone with its graphs
  }

  /** `R = x`: the relation's truth values become x (positive is true: `R = sim - 0.8`), shape checked. */
  assign(name: string, v: Val, span: A.Span): void {
    const rel = this.relations.get(name)!;
    if (this.rules.defines(name)) throw new CompileError(`'${name}' is defined by rules; it cannot be given a tensor`, span);
    if (this.L.runTimeDepth > 0 || this.held(name)) throw new CompileError(`'${name}' cannot be given a tensor inside run-time control flow, or after facts stated there, yet`, span);
    const g = this.L.graph();
    const x = tensorOf(this.L, v, span);
    const shape = g.shape(x), want = this.shape(rel);
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new CompileError(`'${name}' is a ${want.join(' x ')} relation (${rel.types.join(', ')}), but this tensor has shape [${shape.join(', ')}]`, span);
    }
    const before = rel.assigned;
    rel.assigned = node(this.L, 'unary', [x], { fn: 'step' }, span);
    this.journal.push(() => (rel.assigned = before));
    this.version++;
  }

  checkArity(rel: Relation, call: A.Call): void {
    if (call.args.length !== rel.types.length) throw new CompileError(`${rel.name} takes ${rel.types.length} argument${rel.types.length === 1 ? '' : 's'}, got ${call.args.length}`, call.span);
  }

  /** The relation's tensor now: its facts (or assigned value), with what its rules derive. */
  value(name: string, span: A.Span): Val {
    const L = this.L;
    const known = this.values.get(name, L.block, this.version);
    if (known) return known;
    if (this.rules.defines(name)) {
      for (const [rel, v] of this.evaluator.evaluate(name, span)) this.values.set(rel, v, L.block, this.version);
      return this.values.get(name, L.block, this.version)!;
    }
    return this.values.set(name, this.base(name, span), L.block, this.version);
  }

  /** What a relation holds before its rules: its facts, or the tensor it was given. */
  base(name: string, span: A.Span): Val {
    const rel = this.relations.get(name)!;
    if (rel.assigned) return rel.assigned;
    const held = this.held(name);
    if (held) return held;
    return this.indicator([...rel.facts].sort((a, b) => a - b), this.shape(rel), span);
  }

  /** A 0/1 tensor of `shape` with 1 at these flat offsets (the `indicator` op over a u32 constant). */
  indicator(offsets: number[], shape: number[], span: A.Span): Val {
    const at = node(this.L, 'const', [], { shape: [offsets.length], values: offsets, dtype: 'u32' }, span);
    return node(this.L, 'indicator', [tensorOf(this.L, at, span)], { shape }, span);
  }

  /** The nonzero lists of a 2-D 0/1 tensor along `axis`, made once per value (see the `join` op). */
  nonzeros(v: Val, axis: number, span: A.Span): Val {
    const memo = this.lists[axis];
    const known = memo.get(v, this.L.block, this.version);
    if (known) return known;
    return memo.set(v, node(this.L, 'nonzeros', [tensorOf(this.L, v, span)], { axis }, span), this.L.block, this.version);
  }

}

const FACTS = '__facts_';
const factsName = (rel: string) => FACTS + rel;

export function atomName(call: A.Call): string {
  return (call.callee as A.Ident).name;
}

function addMember(d: Domain, m: string): void {
  d.index.set(m, d.members.length);
  d.members.push(m);
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
