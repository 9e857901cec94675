// A plain TypeScript Datalog evaluator, written from the textbook definitions (stratified negation,
// semi-naive fixpoint per stratum), independently of the compiler: what compiled logic programs are
// tested and benchmarked against. Domains are finite, so a variable that no positive literal binds
// simply ranges over its type's members, and every rule is safe.
//
// Inside, an entity is its index in its type's member list and a tuple is one number, the
// mixed-radix (row-major) encoding of its entity indices: sets of tuples are bitmaps or Set<number>,
// and an index on some argument positions is keyed by the partial encoding of those positions.

export type Term = { v: string } | { c: string }; // a variable or a constant (entity name)
export type Literal =
  | { rel: string; args: Term[]; negated?: boolean } // R(X, alice), !R(X, Y)
  | { cmp: '==' | '!='; left: Term; right: Term }; // X != Y, X == alice
export interface Rule { head: { rel: string; args: Term[] }; body: Literal[] }
export interface Program {
  domains: Record<string, string[]>; // entity type -> its members
  relations: Record<string, string[]>; // relation -> the entity type of each argument position
  facts: Record<string, string[][]>; // base facts per relation (tuples of entity names)
  rules: Rule[];
}

/** Raised when a relation depends negatively on itself; cycle: the relations around that loop. */
export class NotStratifiable extends Error {
  cycle: string[];
  constructor(cycle: string[]) {
    super(`not stratifiable: ${[...cycle, cycle[0]].join(' -> ')} (${cycle[0]} depends on ${cycle[1] ?? cycle[0]} through a negation)`);
    this.name = 'NotStratifiable';
    this.cycle = cycle;
  }
}

const SEP = '\u0000';

/** The key of a tuple of entity names in evaluate's sets. */
export function key(tuple: readonly string[]): string {
  return tuple.join(SEP);
}

// ---------------------------------------------------------------------------------------------
// Entities, types and relation shapes

/** The program's types and relations, checked, with name <-> index maps. */
class Schema {
  readonly members = new Map<string, string[]>();
  readonly indexOf = new Map<string, Map<string, number>>();
  readonly relTypes = new Map<string, string[]>();

  constructor(p: Program) {
    for (const [type, names] of Object.entries(p.domains)) {
      const ix = new Map(names.map((n, i) => [n, i]));
      if (ix.size !== names.length) throw new Error(`domain ${type} lists a member twice`);
      this.members.set(type, names);
      this.indexOf.set(type, ix);
    }
    for (const [rel, types] of Object.entries(p.relations)) {
      for (const t of types) if (!this.members.has(t)) throw new Error(`relation ${rel} uses unknown type ${t}`);
      this.relTypes.set(rel, types);
    }
  }

  types(rel: string, arity: number, where: string): string[] {
    const types = this.relTypes.get(rel);
    if (!types) throw new Error(`${where}: unknown relation ${rel}`);
    if (types.length !== arity) throw new Error(`${where}: ${rel} takes ${types.length} arguments, not ${arity}`);
    return types;
  }

  entity(type: string, name: string, where: string): number {
    const i = this.indexOf.get(type)!.get(name);
    if (i === undefined) throw new Error(`${where}: ${name} is not a member of ${type}`);
    return i;
  }

  sizes(rel: string): number[] {
    return this.relTypes.get(rel)!.map((t) => this.members.get(t)!.length);
  }
}

// Spaces up to this many tuples keep membership as a bitmap (at most 32 MiB), larger ones as a Set.
const BITMAP_LIMIT = 2 ** 28;

/** One relation's tuples: membership, insertion-ordered list, and lazily built hash indexes. */
class Rel {
  readonly strides: number[];
  readonly list: number[] = [];
  private readonly space: number;
  private bits?: Uint8Array;
  private set?: Set<number>;
  // bound-position mask -> partial key -> tuples; upTo: how much of `list` is indexed so far
  private readonly indexes = new Map<number, { upTo: number; buckets: Map<number, number[]> }>();

  constructor(readonly sizes: number[]) {
    this.strides = new Array(sizes.length);
    let s = 1;
    for (let i = sizes.length - 1; i >= 0; i--) { this.strides[i] = s; s *= sizes[i]; }
    if (!Number.isSafeInteger(s)) throw new Error(`a relation of shape [${sizes}] is too large to encode`);
    this.space = s;
  }

  has(t: number): boolean {
    if (this.space <= BITMAP_LIMIT) return this.bits !== undefined && (this.bits[t >>> 3] & (1 << (t & 7))) !== 0;
    return this.set !== undefined && this.set.has(t);
  }

  /** Adds t; false when it was already there. */
  add(t: number): boolean {
    if (this.space <= BITMAP_LIMIT) {
      this.bits ??= new Uint8Array(Math.ceil(this.space / 8)); // allocated on first use: most deltas are empty
      const b = 1 << (t & 7);
      if (this.bits[t >>> 3] & b) return false;
      this.bits[t >>> 3] |= b;
    } else {
      this.set ??= new Set();
      if (this.set.has(t)) return false;
      this.set.add(t);
    }
    this.list.push(t);
    return true;
  }

  digit(t: number, pos: number): number {
    return Math.floor(t / this.strides[pos]) % this.sizes[pos];
  }

  /** The tuples whose positions in mask encode to partialKey. Indexes catch up with `list` only when
   *  read, so an index built early (on a small relation) costs nothing while the relation grows. */
  lookup(mask: number, partialKey: number): number[] | undefined {
    let ix = this.indexes.get(mask);
    if (!ix) this.indexes.set(mask, (ix = { upTo: 0, buckets: new Map() }));
    for (; ix.upTo < this.list.length; ix.upTo++) {
      const t = this.list[ix.upTo];
      let k = 0;
      for (let pos = 0; pos < this.sizes.length; pos++) if (mask & (1 << pos)) k += this.digit(t, pos) * this.strides[pos];
      const b = ix.buckets.get(k);
      if (b) b.push(t); else ix.buckets.set(k, [t]);
    }
    return ix.buckets.get(partialKey);
  }
}

// ---------------------------------------------------------------------------------------------
// Clauses: variables typed and numbered, constants resolved to entity indices

type Arg = { slot: number } | { value: number }; // a variable's slot in the environment, or an entity index
type CLit =
  | { kind: 'pos' | 'neg'; rel: string; args: Arg[] }
  | { kind: 'cmp'; eq: boolean; left: Arg; right: Arg };

interface Clause {
  vars: string[]; // slot -> variable name, in first-appearance order
  types: string[]; // slot -> its entity type
  domainSize: number[]; // slot -> number of members of its type
  head: { rel: string; args: Arg[] };
  body: CLit[];
  dead: boolean; // a comparison of two constants that is false: the clause never fires
}

const isVar = (t: Term): t is { v: string } => 'v' in t;

/**
 * Types every variable of head + body (from the relation positions it occupies, then through
 * comparisons with typed variables or with a constant that belongs to one type only), numbers
 * them, and resolves constants.
 */
function compileClause(schema: Schema, head: { rel: string; args: Term[] }, body: Literal[], where: string): Clause {
  const atoms = [head, ...body.filter((l): l is Extract<Literal, { rel: string }> => 'rel' in l)];
  const vars: string[] = [];
  const typeOf = new Map<string, string>();
  const note = (v: string) => { if (!vars.includes(v)) vars.push(v); };
  const give = (v: string, type: string, by: string) => {
    const had = typeOf.get(v);
    if (had !== undefined && had !== type) throw new Error(`${where}: variable ${v} is both a ${had} and a ${type} (${by})`);
    typeOf.set(v, type);
  };
  for (const l of [head, ...body]) {
    if ('rel' in l) l.args.forEach((t) => isVar(t) && note(t.v));
    else [l.left, l.right].forEach((t) => isVar(t) && note(t.v));
  }
  for (const a of atoms) {
    const types = schema.types(a.rel, a.args.length, where);
    a.args.forEach((t, i) => isVar(t) && give(t.v, types[i], `argument ${i + 1} of ${a.rel}`));
  }
  const cmps = body.filter((l): l is Extract<Literal, { cmp: string }> => 'cmp' in l);
  for (let changed = true; changed;) { // X == Y / X != Y: both sides have one type
    changed = false;
    for (const c of cmps) {
      if (!isVar(c.left) || !isVar(c.right)) continue;
      const [a, b] = [typeOf.get(c.left.v), typeOf.get(c.right.v)];
      if (a !== undefined && b === undefined) { give(c.right.v, a, `compared with ${c.left.v}`); changed = true; }
      if (b !== undefined && a === undefined) { give(c.left.v, b, `compared with ${c.right.v}`); changed = true; }
      if (a !== undefined && b !== undefined) give(c.left.v, b, `compared with ${c.right.v}`);
    }
  }
  for (const c of cmps) { // X == alice: alice's type, when only one type has a member of that name
    for (const [v, k] of [[c.left, c.right], [c.right, c.left]]) {
      if (!isVar(v) || isVar(k) || typeOf.has(v.v)) continue;
      const owners = [...schema.indexOf].filter(([, ix]) => ix.has(k.c)).map(([t]) => t);
      if (owners.length === 1) give(v.v, owners[0], `compared with ${k.c}`);
    }
  }
  for (const v of vars) if (!typeOf.has(v)) throw new Error(`${where}: no argument position gives variable ${v} a type`);

  const slot = new Map(vars.map((v, i) => [v, i]));
  const arg = (t: Term, type: string): Arg => (isVar(t) ? { slot: slot.get(t.v)! } : { value: schema.entity(type, t.c, where) });
  const atomArgs = (a: { rel: string; args: Term[] }) => {
    const types = schema.types(a.rel, a.args.length, where);
    return a.args.map((t, i) => arg(t, types[i]));
  };
  let dead = false;
  const lits: CLit[] = [];
  for (const l of body) {
    if ('rel' in l) { lits.push({ kind: l.negated ? 'neg' : 'pos', rel: l.rel, args: atomArgs(l) }); continue; }
    const eq = l.cmp === '==';
    if (!isVar(l.left) && !isVar(l.right)) { if ((l.left.c === l.right.c) !== eq) dead = true; continue; }
    const type = typeOf.get(isVar(l.left) ? l.left.v : (l.right as { v: string }).v)!;
    lits.push({ kind: 'cmp', eq, left: arg(l.left, type), right: arg(l.right, type) });
  }
  return {
    vars,
    types: vars.map((v) => typeOf.get(v)!),
    domainSize: vars.map((v) => schema.members.get(typeOf.get(v)!)!.length),
    head: { rel: head.rel, args: atomArgs(head) },
    body: lits,
    dead,
  };
}

// ---------------------------------------------------------------------------------------------
// Join plans: a nested loop over the body, one step per literal, in an order chosen up front

type Step =
  | { kind: 'scan'; rel: string; useDelta: boolean; mask: number; bound: { pos: number; arg: Arg }[]; free: { pos: number; slot: number; repeat: boolean }[] }
  | { kind: 'test'; lit: CLit } // a negated literal or a comparison, all its variables bound
  | { kind: 'bind'; slot: number; from: Arg } // X == Y / X == c with X not yet bound
  | { kind: 'each'; slot: number; size: number }; // a variable no positive literal binds: every member

/**
 * Greedy order: tests as soon as their variables are bound; then the delta literal first (it is the
 * small one), else the positive literal with the most bound arguments; variables that only tests
 * mention are enumerated over their domain; finally any head variable still free is enumerated.
 */
function plan(c: Clause, deltaAt: number, mustBind: number[]): Step[] {
  const bound = new Set<number>();
  const isBound = (a: Arg) => 'value' in a || bound.has(a.slot);
  const remaining = c.body.map((_, i) => i);
  const steps: Step[] = [];
  const take = (i: number) => remaining.splice(remaining.indexOf(i), 1);
  while (remaining.length > 0) {
    for (let progress = true; progress;) {
      progress = false;
      for (const i of [...remaining]) {
        const l = c.body[i];
        if (l.kind === 'pos') continue;
        const args = l.kind === 'cmp' ? [l.left, l.right] : l.args;
        if (args.every(isBound)) { steps.push({ kind: 'test', lit: l }); take(i); progress = true; }
        else if (l.kind === 'cmp' && l.eq && (isBound(l.left) || isBound(l.right))) {
          const [to, from] = isBound(l.left) ? [l.right, l.left] : [l.left, l.right];
          const s = (to as { slot: number }).slot;
          steps.push({ kind: 'bind', slot: s, from });
          bound.add(s); take(i); progress = true;
        }
      }
    }
    if (remaining.length === 0) break;
    const positives = remaining.filter((i) => c.body[i].kind === 'pos');
    if (positives.length > 0) {
      const score = (i: number) => (c.body[i] as { args: Arg[] }).args.filter(isBound).length;
      const i = positives.includes(deltaAt) ? deltaAt : positives.reduce((b, i) => (score(i) > score(b) ? i : b));
      const l = c.body[i] as { rel: string; args: Arg[] };
      const step: Extract<Step, { kind: 'scan' }> = { kind: 'scan', rel: l.rel, useDelta: i === deltaAt, mask: 0, bound: [], free: [] };
      const seen = new Set<number>();
      l.args.forEach((a, pos) => {
        if (isBound(a)) { step.mask |= 1 << pos; step.bound.push({ pos, arg: a }); return; }
        const s = (a as { slot: number }).slot;
        step.free.push({ pos, slot: s, repeat: seen.has(s) }); // R(X, X): the second X must equal the first
        seen.add(s);
      });
      seen.forEach((s) => bound.add(s));
      steps.push(step);
      take(i);
    } else {
      const l = c.body[remaining[0]];
      const args = l.kind === 'cmp' ? [l.left, l.right] : l.args;
      const s = (args.find((a) => !isBound(a)) as { slot: number }).slot;
      steps.push({ kind: 'each', slot: s, size: c.domainSize[s] });
      bound.add(s);
    }
  }
  for (const s of mustBind) {
    if (!bound.has(s)) { steps.push({ kind: 'each', slot: s, size: c.domainSize[s] }); bound.add(s); }
  }
  return steps;
}

/** The tuple code of args under env. */
function encode(rel: Rel, args: Arg[], env: Int32Array): number {
  let t = 0;
  for (let i = 0; i < args.length; i++) { const a = args[i]; t += ('value' in a ? a.value : env[a.slot]) * rel.strides[i]; }
  return t;
}

/** Runs the nested loop; calls found() with env holding each satisfying assignment. */
function run(steps: Step[], nVars: number, db: Map<string, Rel>, delta: Map<string, Rel> | undefined, found: (env: Int32Array) => void): void {
  const env = new Int32Array(nVars);
  const val = (a: Arg) => ('value' in a ? a.value : env[a.slot]);
  const go = (k: number): void => {
    if (k === steps.length) { found(env); return; }
    const s = steps[k];
    switch (s.kind) {
      case 'scan': {
        const rel = (s.useDelta ? delta! : db).get(s.rel)!;
        let pk = 0;
        for (const b of s.bound) pk += val(b.arg) * rel.strides[b.pos];
        if (s.free.length === 0) { if (rel.has(pk)) go(k + 1); return; }
        const tuples = s.mask === 0 ? rel.list : rel.lookup(s.mask, pk);
        if (!tuples) return;
        next: for (const t of tuples) {
          for (const f of s.free) {
            const d = rel.digit(t, f.pos);
            if (!f.repeat) env[f.slot] = d;
            else if (env[f.slot] !== d) continue next;
          }
          go(k + 1);
        }
        return;
      }
      case 'test': {
        const l = s.lit;
        const ok = l.kind === 'cmp' ? (val(l.left) === val(l.right)) === l.eq : !db.get(l.rel)!.has(encode(db.get(l.rel)!, l.args, env));
        if (ok) go(k + 1);
        return;
      }
      case 'bind': env[s.slot] = val(s.from); go(k + 1); return;
      case 'each': for (let i = 0; i < s.size; i++) { env[s.slot] = i; go(k + 1); } return;
    }
  };
  go(0);
}

// ---------------------------------------------------------------------------------------------
// Stratification

/**
 * Strongly connected components of "head depends on body relation" (Tarjan). Tarjan finishes a
 * component only after every component it reaches, so the order returned is evaluation order.
 * A negative edge inside a component is a loop through negation: NotStratifiable.
 */
function strata(rels: string[], rules: Rule[]): string[][] {
  const deps = new Map<string, { to: string; neg: boolean }[]>(rels.map((r) => [r, []]));
  for (const r of rules) for (const l of r.body) if ('rel' in l) deps.get(r.head.rel)!.push({ to: l.rel, neg: !!l.negated });

  const order: string[][] = [];
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [];
  const visit = (r: string) => {
    index.set(r, index.size); low.set(r, index.get(r)!); stack.push(r); onStack.add(r);
    for (const { to } of deps.get(r)!) {
      if (!index.has(to)) { visit(to); low.set(r, Math.min(low.get(r)!, low.get(to)!)); }
      else if (onStack.has(to)) low.set(r, Math.min(low.get(r)!, index.get(to)!));
    }
    if (low.get(r) === index.get(r)) {
      const scc: string[] = [];
      let x: string;
      do { x = stack.pop()!; onStack.delete(x); scc.push(x); } while (x !== r);
      order.push(scc);
    }
  };
  for (const r of rels) if (!index.has(r)) visit(r);

  for (const scc of order) {
    const inScc = new Set(scc);
    for (const h of scc) {
      for (const { to, neg } of deps.get(h)!) {
        if (neg && inScc.has(to)) throw new NotStratifiable([h, ...pathWithin(deps, inScc, to, h)]);
      }
    }
  }
  return order;
}

/** The relations on a shortest dependency path from `from` to `to` inside one component, without `to`. */
function pathWithin(deps: Map<string, { to: string }[]>, scc: Set<string>, from: string, to: string): string[] {
  if (from === to) return [];
  const prev = new Map<string, string>([[from, from]]);
  for (const queue = [from]; queue.length > 0;) {
    const r = queue.shift()!;
    for (const { to: n } of deps.get(r)!) {
      if (!scc.has(n) || prev.has(n)) continue;
      prev.set(n, r);
      if (n === to) {
        const path: string[] = [];
        for (let x = r; ; x = prev.get(x)!) { path.unshift(x); if (x === from) return path; }
      }
      queue.push(n);
    }
  }
  throw new Error('unreachable: the relations share a component');
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Every relation's tuples after evaluation: stratified negation, semi-naive fixpoint per stratum. */
export function evaluate(p: Program): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const [rel, { shape, tuples }] of evaluateEncoded(p)) {
    const names = p.relations[rel].map((t) => p.domains[t]);
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    result.set(rel, new Set(tuples.map((t) => key(names.map((ns, i) => ns[Math.floor(t / strides[i]) % shape[i]])))));
  }
  return result;
}

/**
 * The same evaluation without the names: per relation, its shape (the member count of each
 * position's type) and its tuples as row-major flat indices into a tensor of that shape, in the
 * order they were derived. Cheaper than evaluate on large results (no strings), and directly
 * comparable with a dense 0/1 tensor.
 */
export function evaluateEncoded(p: Program): Map<string, { shape: number[]; tuples: number[] }> {
  const schema = new Schema(p);
  const rels = [...schema.relTypes.keys()];
  const db = new Map(rels.map((r) => [r, new Rel(schema.sizes(r))]));
  for (const [rel, tuples] of Object.entries(p.facts)) {
    const types = schema.relTypes.get(rel), r = db.get(rel)!;
    if (!types) throw new Error(`facts of unknown relation ${rel}`);
    for (const tuple of tuples) {
      const where = `fact ${rel}(${tuple.join(', ')})`;
      if (tuple.length !== types.length) throw new Error(`${where}: ${rel} takes ${types.length} arguments`);
      r.add(tuple.reduce((t, name, i) => t + schema.entity(types[i], name, where) * r.strides[i], 0));
    }
  }
  const clauses = p.rules.map((r, i) => compileClause(schema, r.head, r.body, `rule ${i + 1} (${r.head.rel})`));

  for (const stratum of strata(rels, p.rules)) {
    const inStratum = new Set(stratum);
    const mine = clauses.filter((c) => inStratum.has(c.head.rel) && !c.dead);
    const fire = (c: Clause, steps: Step[], delta: Map<string, Rel> | undefined, out: Map<string, Rel>) => {
      const head = db.get(c.head.rel)!, to = out.get(c.head.rel)!;
      run(steps, c.vars.length, db, delta, (env) => {
        const t = encode(head, c.head.args, env);
        if (!head.has(t)) to.add(t);
      });
    };
    const fresh = () => new Map(stratum.map((r) => [r, new Rel(schema.sizes(r))]));
    const commit = (news: Map<string, Rel>) => news.forEach((n, r) => n.list.forEach((t) => db.get(r)!.add(t)));
    const headSlots = (c: Clause) => c.head.args.flatMap((a) => ('slot' in a ? [a.slot] : []));

    // Round 0: every rule once over all that is known (lower strata, base facts).
    let delta = fresh();
    for (const c of mine) fire(c, plan(c, -1, headSlots(c)), undefined, delta);
    commit(delta);

    // Then only derivations that use at least one tuple new in the last round: for each body
    // occurrence of a relation of this stratum, a plan that reads the delta there, the full
    // relations elsewhere. No occurrence -> nothing new after round 0.
    const variants = mine.flatMap((c) =>
      c.body.flatMap((l, i) => (l.kind === 'pos' && inStratum.has(l.rel) ? [{ c, rel: l.rel, steps: plan(c, i, headSlots(c)) }] : [])));
    while ([...delta.values()].some((d) => d.list.length > 0)) {
      const next = fresh();
      for (const v of variants) if (delta.get(v.rel)!.list.length > 0) fire(v.c, v.steps, delta, next);
      commit(next);
      delta = next;
    }
  }

  return new Map([...db].map(([rel, r]) => [rel, { shape: r.sizes, tuples: r.list }]));
}

/**
 * The bindings of the atom's variables (first-appearance order) for which the atom holds in
 * `result` and every `where` literal holds; variables that appear only in `where` are existential.
 * Sorted by the members' domain order, first variable slowest. A ground atom gives [{}] or [].
 */
export function query(
  result: Map<string, Set<string>>, p: Program, atom: { rel: string; args: Term[] }, where: Literal[] = [],
): Record<string, string>[] {
  const schema = new Schema(p);
  const c = compileClause(schema, atom, [{ ...atom, negated: false }, ...where], `query ${atom.rel}`);
  const slots = [...new Set(c.head.args.flatMap((a) => ('slot' in a ? [a.slot] : [])))];
  const answers = new Map<string, number[]>(); // dedupe: several where-witnesses give one answer
  if (!c.dead) {
    // Only the relations the query reads, re-encoded from the result it was given.
    const db = new Map<string, Rel>();
    for (const l of c.body) {
      if (l.kind === 'cmp' || db.has(l.rel)) continue;
      const r = new Rel(schema.sizes(l.rel)), types = schema.relTypes.get(l.rel)!;
      for (const k of result.get(l.rel) ?? []) {
        const names = types.length === 0 ? [] : k.split(SEP);
        r.add(names.reduce((t, n, i) => t + schema.entity(types[i], n, `result of ${l.rel}`) * r.strides[i], 0));
      }
      db.set(l.rel, r);
    }
    run(plan(c, -1, slots), c.vars.length, db, undefined, (env) => {
      const values = slots.map((s) => env[s]);
      answers.set(values.join(','), values);
    });
  }
  const rows = [...answers.values()].sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  });
  return rows.map((values) => Object.fromEntries(slots.map((s, i) => [c.vars[s], schema.members.get(c.types[s])![values[i]]])));
}

/**
 * A random directed graph for property tests and benchmarks: type Node = n0..n{n-1}, Edge(Node, Node)
 * with round(n * edgesPerNode) uniformly random (source, target) draws (duplicates dropped, self-loops
 * kept), and the transitive closure Path(X,Y) <- Edge(X,Y); Path(X,Z) <- Edge(X,Y), Path(Y,Z).
 */
export function randomGraphProgram(n: number, edgesPerNode: number, seed: number): Program {
  const rand = mulberry32(seed);
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const edges = new Map<string, string[]>();
  for (let e = Math.round(n * edgesPerNode); e > 0; e--) {
    const edge = [nodes[Math.floor(rand() * n)], nodes[Math.floor(rand() * n)]];
    edges.set(key(edge), edge);
  }
  const [X, Y, Z] = [{ v: 'X' }, { v: 'Y' }, { v: 'Z' }];
  return {
    domains: { Node: nodes },
    relations: { Edge: ['Node', 'Node'], Path: ['Node', 'Node'] },
    facts: { Edge: [...edges.values()] },
    rules: [
      { head: { rel: 'Path', args: [X, Y] }, body: [{ rel: 'Edge', args: [X, Y] }] },
      { head: { rel: 'Path', args: [X, Z] }, body: [{ rel: 'Edge', args: [X, Y] }, { rel: 'Path', args: [Y, Z] }] },
    ],
  };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
