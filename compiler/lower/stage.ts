// The lowering pass: runs the program symbolically (a partial evaluator). Whatever is known at
// build time folds; constant loops without `break` unroll; functions inline; tensor work appends
// nodes to device graphs; what is known only at run time becomes the host program.
import type * as A from '../ast.ts';
import type { Dim, HostExpr, HostStmt, HostValue, IR, Weight } from '../ir.ts';
import type { ModelInfo } from '../model-info.ts';
import { GraphBuilder } from './graph-builder.ts';
import { HostBlock } from './host.ts';
import { CompileError, NONE, describe, stat, tensorType, type Val } from './values.ts';
import { BUILTINS } from './builtins.ts';
import { binary, unary } from './operators.ts';
import { deviceExpr, isNumberList as isNumberTensor, tensorOf } from './tensors.ts';
import { kvMethod, newKvCache } from './kv-cache-api.ts';
import { sliceTensor, type SliceIndex } from './slicing.ts';
import { assignedNames, containsExit, containsReturn, endsInReturn, mentionedNames } from '../ast-walk.ts';
import { BranchResult } from './branch-result.ts';
import { StructTable, assignHostFields, fieldAt, fieldOf, fieldPath, hostFields, withField } from './structs.ts';
import { declareTensor } from './tensor-decl.ts';
import { declareEmbedding, embeddingRow } from './embeddings.ts';
import { lowerLearn } from './learn.ts';
import { hostConst, literal } from './numbers.ts';
import { truthy } from '../../runtime/host.ts';
import { Logic, atomName } from './logic.ts';
import { answer, lowerQuery } from './logic-query.ts';

export interface LowerOptions {
  model?: ModelInfo;
}

interface Binding {
  val: Val;
  depth: number; // run-time control depth where it was declared
  /**
   * A tensor changed by run-time control flow lives in a host variable between its parts: `dev` is
   * that variable as a value (shape with the dims that change made symbolic); `owner` is the
   * if/loop that made it so.
   */
  carried?: { dev: Extract<Val, { t: 'dev' }>; owner: number };
}

/** A loop-carried tensor's shape changed in the loop: lower the loop again with `shape`. */
class Widen {
  constructor(readonly b: Binding, readonly shape: Dim[]) {}
}

class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  find(name: string): { scope: Scope; b: Binding } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return { scope: s, b };
    }
    return undefined;
  }
}

class ReturnSignal {
  constructor(readonly val: Val, readonly depth: number, readonly span?: A.Span) {}
}

/** `break` or `continue` of a loop being unrolled at build time. */
class LoopSignal {
  constructor(readonly kind: 'Break' | 'Continue') {}
}

const MAX_UNROLL = 4096;
const DECLS = new Set<string>();
const LOGIC_DECLS = new Set(['EntityDecl', 'RelationDecl', 'RuleDecl']); // read by Logic before lowering
const MAX_INLINE_DEPTH = 64;

export class Lowerer {
  readonly fns = new Map<string, A.FnDecl>();
  readonly structs = new StructTable();
  /** Tensors declared `learnable`, by name (./tensor-decl.ts): what a `learn` block would train. */
  readonly learnable = new Map<string, A.TensorDecl>();
  readonly weights = new Map<string, Weight>();
  readonly graphs: GraphBuilder[] = [];
  block = new HostBlock();
  private scope: Scope;
  private readonly globals = new Scope();
  private depth = 0; // run-time control nesting (host if/for/while bodies)
  /** Entity types, relations, facts and rules (./logic.ts). */
  logic!: Logic;
  private inlineDepth = 0;
  private names = new Map<string, number>();
  private graphCount = 0;
  private controls = 0; // run-time if/loop statements lowered so far (owners of carried tensors)
  private loops: { unrolled: boolean; depth: number }[] = []; // the loops a break can leave, innermost last
  private undo: [Binding, Val, Binding['carried']][] = []; // binding changes, for lowering a loop again

  constructor(readonly opts: LowerOptions) {
    this.scope = this.globals;
  }

  lowerProgram(program: A.Program): IR {
    for (const item of program.items) if (item.kind === 'FnDecl') this.fns.set(item.name, item);
    this.structs.declare(program.items);
    this.logic = new Logic(this, program, (name) => this.fns.has(name));
    const main = program.items.find((i): i is A.MainBlock => i.kind === 'MainBlock');
    try {
      // Top-level statements run first (globals, or the whole program when it is a script), then main.
      for (const item of program.items) {
        if (['FnDecl', 'MainBlock', 'TestBlock', 'BenchBlock', 'StructDecl', 'ImplBlock'].includes(item.kind) || LOGIC_DECLS.has(item.kind)) continue;
        if (item.kind === 'Import') throw new CompileError('this import was not resolved: compile the program with compile(), which reads imports', item.span);
        if (DECLS.has(item.kind)) throw new CompileError(`${kindWords(item.kind)} cannot be compiled to WebGPU yet`, item.span);
        if (item.kind === 'EmbeddingDecl') { declareEmbedding(this, item); continue; } // ./embeddings.ts
        this.stmt(item as A.Stmt);
      }
      if (main) this.inScope(() => {
        const last = this.blockStmts(main.body);
        this.structs.dropLocals(this, this.locals(), last, main.span); // `impl Drop` as main ends
      });
    } catch (e) {
      if (e instanceof ReturnSignal) throw new CompileError("'return' outside a function", e.span);
      throw e;
    }
    const host = this.block.stmts;
    const emitted = new Set(this.graphs.filter((g) => g.emitted).map((g) => g.id));
    return { host, graphs: this.graphs.filter((g) => emitted.has(g.id)).map((g) => g.finish()), weights: [...this.weights.values()] };
  }

  // ---------------------------------------------------------------------------------------------
  // Names and scopes

  /** Run-time control nesting: 0 outside host if/for/while bodies. */
  get runTimeDepth(): number {
    return this.depth;
  }

  inScope<T>(fn: () => T, parent = this.scope): T {
    const saved = this.scope;
    this.scope = new Scope(parent);
    try {
      return fn();
    } finally {
      this.scope = saved;
    }
  }

  /** A fresh host variable name: the source name, suffixed when it is taken. */
  fresh(base: string): string {
    const n = this.names.get(base) ?? 0;
    this.names.set(base, n + 1);
    return n === 0 ? base : `${base}_${n + 1}`;
  }

  declare(name: string, val: Val): void {
    this.scope.vars.set(name, { val, depth: this.depth });
  }

  /** The values of the variables declared in the innermost scope, in declaration order. */
  locals(): [string, Val][] {
    return [...this.scope.vars].map(([name, b]) => [name, b.val]);
  }

  declareGlobal(name: string, val: Val): void {
    this.globals.vars.set(name, { val, depth: this.depth });
  }

  private rebind(b: Binding, val: Val, carried = b.carried): void {
    this.undo.push([b, b.val, b.carried]);
    b.val = val;
    b.carried = carried;
  }

  /** Bindings visible from here whose tensors live in host variables across control flow. */
  private carriedBindings(): Binding[] {
    const out: Binding[] = [];
    for (let s: Scope | undefined = this.scope; s; s = s.parent) for (const b of s.vars.values()) if (b.carried) out.push(b);
    return out;
  }

  /** A variable of this scope or an enclosing one (not a function, relation or entity). */
  hasLocal(name: string): boolean {
    return this.scope.find(name) !== undefined;
  }

  /** `name` (declared) rebound to `val`, undone if the statement is lowered again. */
  rebindName(name: string, val: Val): void {
    this.rebind(this.scope.find(name)!.b, val);
  }

  lookup(name: string, span: A.Span): Val {
    const found = this.scope.find(name);
    if (found) return found.b.val;
    const fn = this.fns.get(name);
    if (fn) return { t: 'fn', decl: fn };
    if (this.logic.has(name)) return this.logic.value(name, span); // a relation is its 0/1 tensor
    const entities = this.logic.domains.get(name);
    if (entities) return stat(entities.members); // an entity type is the list of its members
    if (this.logic.isEntity(name)) return stat(name); // an entity is its name
    throw new CompileError(`unknown name '${name}'`, span);
  }

  // ---------------------------------------------------------------------------------------------
  // Graphs

  /** The graph new device ops go to: the current block's, or a new one. */
  graph(): GraphBuilder {
    const b = this.block;
    if (!b.graph || b.graph.emitted) {
      const g = new GraphBuilder(this.graphCount++, `graph${this.graphCount - 1}`);
      this.graphs.push(g);
      b.graph = g;
      b.owned.push(g);
    }
    return b.graph;
  }

  /** Binds a run-time host value to a fresh variable now, so a graph run later sees this value. */
  snapshot(e: HostExpr, base: string): HostExpr {
    if (e.k === 'const') return e;
    const name = this.fresh(`_${base}`);
    this.block.emit({ k: 'let', name, value: e });
    return { k: 'var', name };
  }

  /** Host variables assigned so far (`set`): a run-time size read before and after one may differ. */
  sets = 0;

  emit(stmt: HostStmt): void {
    if (stmt.k === 'set') this.sets++;
    this.block.emit(stmt);
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

  blockStmts(block: A.Block): Val {
    const n = block.stmts.length;
    for (let i = 0; i < n; i++) {
      const s = block.stmts[i];
      // A block ending in `if c { a } else { b }` has the chosen branch's value.
      if (i === n - 1 && !block.tail && s.kind === 'If') return this.ifStmt(s, true);
      // `if c { ...; return x }` then more: the rest is the else branch (a function's early return).
      if (s.kind === 'If' && !s.else && this.inlineDepth > 0 && endsInReturn(s.then)) {
        const rest: A.Block = { ...block, stmts: block.stmts.slice(i + 1) };
        return this.ifStmt({ ...s, else: rest }, true);
      }
      this.stmt(s);
    }
    if (this.logic.isFact(block.tail) && !this.scope.find(atomName(block.tail))) return this.logic.fact(block.tail), NONE;
    return block.tail ? this.expr(block.tail) : NONE;
  }

  stmt(s: A.Stmt): void {
    switch (s.kind) {
      case 'Let': {
        const val = s.init ? this.expr(s.init) : NONE;
        this.declare(s.name, this.bindable(val, s.name));
        return;
      }
      case 'LetTuple': {
        const val = this.expr(s.init);
        if (val.t !== 'list' && !(val.t === 'static' && Array.isArray(val.v))) throw new CompileError(`cannot unpack ${describe(val)} into ${s.names.length} names`, s.span);
        const items = val.t === 'list' ? val.items : (val.v as HostValue[]).map(stat);
        if (items.length !== s.names.length) throw new CompileError(`${items.length} values cannot be unpacked into ${s.names.length} names`, s.span);
        s.names.forEach((n, i) => this.declare(n, this.bindable(items[i], n)));
        return;
      }
      case 'Assign':
        return this.assign(s);
      case 'ExprStmt': {
        if (this.logic.isAtom(s.expr) && !this.scope.find((s.expr.callee as A.Ident).name)) return this.logic.fact(s.expr);
        this.expr(s.expr);
        return;
      }
      case 'Query':
        return lowerQuery(this.logic, s);
      case 'With': // `with Person { ... }`: the block, where Person is a name like any other
        this.inScope(() => this.blockStmts(s.body));
        return;
      case 'Infer': // the original's inference methods all answer the query here
        for (const item of s.items) lowerQuery(this.logic, item.query);
        return;
      case 'RuleDecl': // rules are read before lowering (./logic-rules.ts)
        return;
      case 'If':
        this.ifStmt(s);
        return;
      case 'For':
        return this.forStmt(s);
      case 'While':
        return this.whileStmt(s.cond, s.body, s.span);
      case 'Loop':
        return this.whileStmt(undefined, s.body, s.span);
      case 'Break':
      case 'Continue': {
        const loop = this.loops[this.loops.length - 1];
        if (!loop) throw new CompileError(`'${s.kind.toLowerCase()}' outside a loop`, s.span);
        if (loop.unrolled) {
          if (loop.depth === this.depth) throw new LoopSignal(s.kind);
          // Taken or not only at run time: the loop cannot unroll (unrollLoop tries it as a host loop).
          throw new CompileError(`'${s.kind.toLowerCase()}' depends on the run`, s.span);
        }
        // Tensors the loop changed so far leave through their host variables.
        for (const b of this.carriedBindings()) if (b.val !== b.carried!.dev) this.storeCarried(b, s.span);
        this.emit({ k: s.kind === 'Break' ? 'break' : 'continue' });
        return;
      }
      case 'Return':
        throw new ReturnSignal(s.value ? this.expr(s.value) : NONE, this.depth, s.span);
      case 'BlockStmt':
        this.inScope(() => this.blockStmts(s.body));
        return;
      case 'TensorDecl':
        return declareTensor(this, s);
      case 'Learn':
        return lowerLearn(this, s);
      case 'TestBlock': // a test runs under `tlc test` only, as a program of its own (./blocks.ts)
        return;
      case 'BenchBlock': // a bench inside a block: its body runs in place
        this.inScope(() => this.blockStmts(s.body));
        return;
      default:
        throw new CompileError(`${kindWords(s.kind)} cannot be compiled to WebGPU yet`, s.span);
    }
  }

  /** Host values that are not plain variables get a variable of their own, evaluated once. */
  /**
   * A value as a name holds it: a host expression is evaluated once, into a variable of its own. A
   * host variable is copied too (`let a = n` then `n = n + 1` must leave a as it was; assignments to
   * n set its variable in place).
   */
  bindable(val: Val, name: string): Val {
    if (val.t === 'host' && val.e.k !== 'const') return { t: 'host', e: this.snapshot(val.e, name) };
    return val;
  }

  private assign(s: A.Assign): void {
    if (s.target.kind === 'Member') return this.assignField(s, s.target);
    if (s.target.kind !== 'Ident') throw new CompileError('assignment to an element or a field cannot be compiled yet', s.target.span);
    const name = s.target.name;
    const found = this.scope.find(name);
    if (!found && this.logic.has(name) && s.op === '=') return this.logic.assign(name, this.expr(s.value), s.span);
    if (!found) {
      // As in the original, assigning a name that does not exist declares it in this scope.
      if (s.op === ':=' || s.op === '=') return this.declare(name, this.bindable(this.expr(s.value), name));
      throw new CompileError(`'${name}' ${s.op} ...: '${name}' is not declared (use let)`, s.target.span);
    }
    let val = this.expr(s.value);
    if (s.op.length === 2 && s.op !== ':=') val = binary(this, s.op[0] as A.BinaryOp, found.b.val, val, s.span);
    this.assignName(name, val, s.span, s.value.span);
  }

  /**
   * `p.x = v`, `p.a.b += v`: p gets a new struct with that field changed (structs are values,
   * ./structs.ts). In run-time control flow the field must live in a host variable (see generalize).
   */
  private assignField(s: A.Assign, target: A.Member): void {
    const { root, path } = fieldPath(target);
    const found = this.scope.find(root.name);
    if (!found) throw new CompileError(`unknown name '${root.name}'`, root.span);
    const old = fieldAt(found.b.val, path);
    let val = this.expr(s.value);
    if (s.op.length === 2 && s.op !== ':=') val = binary(this, s.op[0] as A.BinaryOp, old, val, s.span);
    if (found.b.depth === this.depth) return this.rebind(found.b, withField(this, found.b.val, path, val));
    if (old.t === 'host' && old.e.k === 'var') return this.emit({ k: 'set', name: old.e.name, value: this.hostExpr(val, s.value.span) });
    if (old.t === 'struct' && assignHostFields(this, old, val, s.span)) return;
    throw new CompileError(`'${root.name}.${path.map((m) => m.name).join('.')}' holds ${describe(old)} and is changed inside run-time control flow, which cannot be compiled here`, target.span);
  }

  /** `name = val` for a declared name (a KVCache's hidden slots are names too). */
  assignName(name: string, val: Val, span: A.Span, valueSpan = span): void {
    const found = this.scope.find(name)!;
    const cur = found.b.val;
    if (cur.t === 'host' && cur.e.k === 'var') {
      this.emit({ k: 'set', name: cur.e.name, value: this.hostExpr(val, valueSpan) });
      return;
    }
    if (found.b.depth < this.depth && cur.t === 'struct' && assignHostFields(this, cur, val, span)) return;
    if (found.b.depth < this.depth && !found.b.carried) {
      throw new CompileError(`'${name}' holds ${describe(cur)} and is changed inside run-time control flow, which cannot be compiled here`, span);
    }
    this.rebind(found.b, this.bindable(val, name));
  }

  private ifStmt(s: A.If, wantValue = false): Val {
    const cond = this.expr(s.cond);
    if (cond.t === 'static') {
      if (truthy(cond.v)) return this.inScope(() => this.blockStmts(s.then));
      return s.else ? this.elseBranch(s.else, wantValue) : NONE;
    }
    const c = this.hostExpr(cond, s.cond.span);
    return this.control([s.then, s.else], () => {
      // Each branch's value (its tail, or what it returns) goes to one host variable.
      const result = wantValue ? new BranchResult(this, this.fresh('_if')) : undefined;
      const branch = (lower: () => Val) => this.nested(() => {
        let v: Val;
        try {
          v = lower();
        } catch (r) {
          if (!(r instanceof ReturnSignal) || r.depth !== this.depth || !result) throw r;
          result.returned = true;
          v = r.val;
        }
        result?.store(v, s.span);
      });
      const then = branch(() => this.blockStmts(s.then));
      const els = branch(() => (s.else ? this.elseBranch(s.else, wantValue) : NONE));
      if (result?.stored) this.emit({ k: 'let', name: result.name, value: { k: 'const', value: null } });
      this.emit({ k: 'if', cond: c, then, else: els });
      const v = result?.value() ?? NONE;
      if (result?.returned) throw new ReturnSignal(v, this.depth, s.span);
      return v;
    });
  }

  private elseBranch(e: A.Block | A.If, wantValue = false): Val {
    return e.kind === 'If' ? this.ifStmt(e, wantValue) : this.inScope(() => this.blockStmts(e));
  }

  private forStmt(s: A.For): void {
    const range = this.iterRange(s.iter);
    const hasExit = containsExit(s.body);
    if (range.static && !hasExit) {
      const [a, b] = range.static;
      if (b - a > MAX_UNROLL) throw new CompileError(`this loop runs ${b - a} times; loops are unrolled up to ${MAX_UNROLL} times`, s.iter.span);
      for (let i = a; i < b; i++) this.inScope(() => {
        this.declare(s.var, range.item ? range.item(i) : stat(i));
        this.blockStmts(s.body);
      });
      return;
    }
    if (range.static && !containsReturn(s.body)) {
      const [a] = range.static;
      const item = (i: number) => (range.item ? range.item(i) : stat(i));
      if (this.unrollLoop(s.body, (n) => (a + n < range.static![1] ? item(a + n) : undefined), s.var)) return;
    }
    // A run-time loop: data-dependent exit (EOS) or a bound known only at run time.
    const start = range.static ? ({ k: 'const', value: range.static[0] } as HostExpr) : range.start!;
    const end = range.static ? ({ k: 'const', value: range.static[1] } as HostExpr) : range.end!;
    this.control([s.body], () => {
      const v = this.fresh(s.var);
      const body = this.nested(() => {
        this.declare(s.var, range.item ? range.item(NaN, { k: 'var', name: v }) : { t: 'host', e: { k: 'var', name: v } });
        this.hostLoopBody(s.body);
      });
      this.emit({ k: 'for', var: v, start, end, body });
    });
  }

  /**
   * A host loop of `count` steps whose body `lower` emits (`learn` epochs, ./learn.ts); `names` are
   * the variables it changes, which live in host variables between steps.
   */
  hostFor(names: string[], count: number, span: A.Span, lower: (step: HostExpr) => void): void {
    const changes: A.Stmt[] = names.map((name) => ({ kind: 'Assign', op: '=', target: { kind: 'Ident', name, span }, value: { kind: 'Ident', name, span }, span }));
    this.control([{ kind: 'Block', stmts: changes, span }], () => {
      const v = this.fresh('_step');
      const body = this.nested(() => lower({ k: 'var', name: v }));
      this.emit({ k: 'for', var: v, start: { k: 'const', value: 0 }, end: { k: 'const', value: count }, body });
    });
  }

  private whileStmt(cond: A.Expr | undefined, body: A.Block, span: A.Span): void {
    const whileTrue = (): Val | undefined => {
      const c = cond ? this.expr(cond) : stat(true);
      if (c.t !== 'static') throw new CompileError('the condition depends on the run');
      return truthy(c.v) ? NONE : undefined;
    };
    if (!containsReturn(body) && this.unrollLoop(body, whileTrue)) return;
    this.control([body], () => this.whileLoop(cond, body, span));
  }

  /** A host loop's body: `break` and `continue` in it are host statements. */
  private hostLoopBody(body: A.Block): void {
    this.loops.push({ unrolled: false, depth: this.depth });
    try {
      this.blockStmts(body);
    } finally {
      this.loops.pop();
    }
  }

  /**
   * `let i = 0; while i < 3 { ...; i = i + 1 }`, `loop { if j >= 3 { break } ... }`, or a constant
   * `for` with a `break`: while everything that decides the next iteration folds at build time, the
   * loop unrolls. `next(n)` gives iteration n's loop variable (NONE when there is none), undefined
   * when the loop is done, and throws when that depends on the run. When anything depends on the
   * run, nothing of the attempt is kept and the loop runs on the host.
   */
  private unrollLoop(body: A.Block, next: (n: number) => Val | undefined, variable?: string): boolean {
    const saved = this.checkpoint();
    this.loops.push({ unrolled: true, depth: this.depth });
    try {
      for (let n = 0; n <= MAX_UNROLL; n++) {
        const item = next(n);
        if (!item) return true;
        try {
          this.inScope(() => {
            if (variable) this.declare(variable, item);
            this.blockStmts(body);
          });
        } catch (e) {
          if (!(e instanceof LoopSignal)) throw e;
          if (e.kind === 'Break') return true;
        }
      }
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
    } finally {
      this.loops.pop();
    }
    this.rollback(saved);
    return false;
  }

  /** What lowering a statement changes, to undo it: graphs, outputs, bindings, emitted statements. */
  private checkpoint() {
    const b = this.block;
    return {
      graphs: this.graphs.length, outputs: this.graphs.map((g) => g.outputs.length), emitted: this.graphs.map((g) => g.emitted),
      undo: this.undo.length, stmts: b.stmts.length, graph: b.graph, owned: b.owned.length, block: b, logic: this.logic.mark(),
    };
  }

  private rollback(saved: ReturnType<Lowerer['checkpoint']>): void {
    const b = saved.block;
    this.graphs.length = saved.graphs;
    this.graphs.forEach((g, i) => ((g.outputs.length = saved.outputs[i]), (g.emitted = saved.emitted[i])));
    [b.stmts.length, b.graph, b.owned.length] = [saved.stmts, saved.graph, saved.owned];
    while (this.undo.length > saved.undo) {
      const [binding, val, carried] = this.undo.pop()!;
      binding.val = val;
      binding.carried = carried;
    }
    this.logic.undoTo(saved.logic);
  }

  private whileLoop(cond: A.Expr | undefined, body: A.Block, span: A.Span): void {
    const c = cond ? this.expr(cond) : stat(true);
    if (c.t === 'static' && !truthy(c.v)) return;
    if (c.t === 'static' && !containsExit(body)) throw new CompileError('this loop never ends: its condition is always true and it has no break', span);
    const stmts = this.nested(() => {
      // `while c { body }` runs as `while true { if !c { break } body }`, so the condition's own
      // host statements are evaluated at the top of every iteration.
      if (cond) {
        const c2 = this.hostExpr(this.expr(cond), cond.span);
        this.emit({ k: 'if', cond: { k: 'op', op: '!', args: [c2] }, then: [{ k: 'break' }], else: [] });
      }
      this.hostLoopBody(body);
    });
    this.emit({ k: 'while', cond: { k: 'const', value: true }, body: stmts });
  }

  /** What `for x in ITER` iterates over: a constant range, a run-time range, or a list. */
  private iterRange(iter: A.Expr): { static?: [number, number]; start?: HostExpr; end?: HostExpr; item?: (i: number, e?: HostExpr) => Val } {
    let lo: A.Expr | undefined, hi: A.Expr | undefined;
    if (iter.kind === 'Call' && iter.callee.kind === 'Ident' && ['range', 'range_i'].includes(iter.callee.name)) {
      [lo, hi] = iter.args.length >= 2 ? [iter.args[0], iter.args[1]] : [undefined, iter.args[0]];
      if (!hi) throw new CompileError('range needs a bound: range(n) or range(a, b)', iter.span);
    } else if (iter.kind === 'Range') {
      [lo, hi] = [iter.start, iter.end];
    }
    if (hi) {
      const a = lo ? this.expr(lo) : stat(0);
      const b = this.expr(hi);
      if (a.t === 'static' && b.t === 'static') return { static: [toInt(a.v, lo ?? hi), toInt(b.v, hi)] };
      return { start: this.hostExpr(a, (lo ?? hi).span), end: this.hostExpr(b, hi.span) };
    }
    const list = this.expr(iter);
    if (list.t === 'static' && Array.isArray(list.v)) {
      const items = list.v;
      return { static: [0, items.length], item: (i, e) => (e ? { t: 'host', e: { k: 'index', target: { k: 'const', value: items }, index: e } } : stat(items[i])) };
    }
    if (list.t === 'list') {
      const items = list.items;
      return { static: [0, items.length], item: (i) => items[i] };
    }
    if (list.t === 'host') {
      const target = list.e;
      return { start: { k: 'const', value: 0 }, end: { k: 'call', fn: 'len', args: [target] }, item: (_i, e) => ({ t: 'host', e: { k: 'index', target, index: e! } }) };
    }
    throw new CompileError(`cannot loop over ${describe(list)}`, iter.span);
  }

  /** Runs `fn` in a nested host block (the body of a run-time if/for/while) and returns its statements. */
  private nested(fn: () => void): HostStmt[] {
    const outer = this.block;
    this.block = new HostBlock(outer);
    this.depth++;
    const before = new Map(this.carriedBindings().map((b) => [b, b.val]));
    try {
      this.inScope(fn);
      // Tensors this block changed go to their host variables at its end (the loop's back edge,
      // the join after an if); after it they are read from there.
      for (const [b, v] of before) {
        if (b.val === v) continue;
        this.storeCarried(b);
        this.rebind(b, b.carried!.dev);
      }
      return this.block.stmts;
    } finally {
      this.depth--;
      this.block = outer;
    }
  }

  /**
   * Before run-time control flow: variables it assigns that hold build-time values become host
   * variables, since their value now depends on the run (the counter in `n = n + 1`).
   */
  private generalize(blocks: (A.Block | A.If | undefined)[], owner: number): void {
    const names = new Map<string, A.Expr[]>();
    for (const b of blocks) if (b) assignedNames(b, names, (e) => this.logic.factTarget(e));
    this.logic.hold(names.keys(), blocks.find((b) => b)?.span ?? ({} as A.Span)); // relations facts there change
    // A KVCache the statement mentions may change in it (its methods, or functions it is passed to).
    for (const name of mentionedNames(blocks)) {
      const v = this.scope.find(name)?.b.val;
      if (v?.t === 'kvcache') for (const slot of [...v.k, ...v.v]) names.set(slot, names.get(name) ?? []);
    }
    for (const [name, values] of names) {
      const found = this.scope.find(name);
      if (!found) continue;
      const b = found.b;
      const v = b.val;
      if (b.carried) {
        if (v !== b.carried.dev) (this.storeCarried(b), this.rebind(b, b.carried.dev));
        continue;
      }
      if (v.t === 'host' && v.e.k === 'var') continue;
      // A tensor, or a number list the loop does arithmetic on (`c = c + [1.0]`): a device value.
      const arithmetic = values.some((e) => e.kind === 'Binary' && ['+', '-', '*', '/'].includes(e.op));
      if (v.t === 'struct') {
        this.rebind(b, hostFields(this, v, name, arithmetic)); // its fields get host variables of their own
        continue;
      }
      if (v.t === 'tensor' || v.t === 'weight' || v.t === 'dev' || (arithmetic && isNumberList(v))) {
        const hostName = this.fresh(name);
        const span = values[0]?.span ?? ({} as A.Span);
        const t = v.t === 'dev' || v.t === 'tensor' ? v : { t: 'tensor' as const, g: this.graph(), node: tensorOf(this, v, span) };
        const { shape, dtype } = tensorType(t)!;
        this.emit({ k: 'let', name: hostName, value: deviceExpr(this, t, span) });
        const dev = { t: 'dev' as const, e: { k: 'var' as const, name: hostName }, shape, dtype, dims: new Map<string, HostExpr>() };
        this.rebind(b, dev, { dev, owner });
        continue;
      }
      if (v.t !== 'static' && v.t !== 'sym' && v.t !== 'host' && v.t !== 'list') continue;
      const hostName = this.fresh(name);
      this.emit({ k: 'let', name: hostName, value: this.hostExpr(v) });
      this.rebind(b, { t: 'host', e: { k: 'var', name: hostName } });
    }
  }

  /**
   * Lowers a run-time if or loop. Values it assigns become host variables first; when a carried
   * tensor's shape turns out to change in it (a growing concat), the dims that change are made
   * symbolic and the statement is lowered again.
   */
  private control<T>(blocks: (A.Block | A.If | undefined)[], lower: () => T): T {
    const owner = ++this.controls;
    this.generalize(blocks, owner);
    for (;;) {
      const saved = this.checkpoint();
      try {
        return lower();
      } catch (e) {
        if (!(e instanceof Widen) || e.b.carried?.owner !== owner) throw e;
        this.rollback(saved);
        const dev = { ...e.b.carried.dev, shape: e.shape };
        e.b.carried = { dev, owner };
        e.b.val = dev;
      }
    }
  }

  /** `set hostVar = value` for a carried tensor; a value of another shape asks for a wider one. */
  private storeCarried(b: Binding, span?: A.Span): void {
    const dev = b.carried!.dev;
    const host = dev.e.k === 'var' ? dev.e.name : '';
    const v = b.val;
    const type = tensorType(v);
    if (!type) throw new CompileError(`'${host}' holds a tensor, and is given ${describe(v)} here`, span);
    const { shape, dtype } = type;
    if (shape.length !== dev.shape.length || dtype !== dev.dtype) {
      throw new CompileError(`'${host}' changes from a ${dev.dtype} tensor of shape [${dev.shape.join(', ')}] to a ${dtype} one of shape [${shape.join(', ')}] in run-time control flow; its rank and type must stay the same`, span);
    }
    if (dev.shape.some((d, i) => typeof d === 'number' && d !== shape[i])) {
      throw new Widen(b, dev.shape.map((d, i) => (d === shape[i] || typeof d === 'string' ? d : this.fresh(`${host}_${i}`))));
    }
    this.emit({ k: 'set', name: host, value: deviceExpr(this, v, span ?? ({} as A.Span)) });
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  expr(e: A.Expr): Val {
    switch (e.kind) {
      case 'Lit':
        return literal(e);
      case 'Ident':
        return this.lookup(e.name, e.span);
      case 'ListLit':
      case 'TupleLit': {
        const items = e.elements.map((x) => this.expr(x));
        return items.every((i) => i.t === 'static') ? stat(items.map((i) => (i as { v: HostValue }).v)) : { t: 'list', items };
      }
      case 'Binary':
      case 'Cast': {
        // `a + b + c ...` (and `as` casts) is a left-deep tree as deep as the chain is long: its left
        // spine in a loop, evaluated in the recursion's order (left, right, combine).
        const spine: (A.Binary | A.Cast)[] = [];
        let x: A.Expr = e;
        for (; x.kind === 'Binary' || x.kind === 'Cast'; x = x.kind === 'Binary' ? x.left : x.expr) spine.push(x);
        let v = this.expr(x);
        for (let i = spine.length - 1; i >= 0; i--) {
          const n = spine[i];
          v = n.kind === 'Cast' ? this.call('__cast', [v, stat(n.to)], n.span) : binary(this, n.op, v, this.expr(n.right), n.span);
        }
        return v;
      }
      case 'Unary':
        return unary(this, e.op, this.expr(e.operand), e.span);
      case 'Member':
        return this.member(this.expr(e.target), e.name, e.span);
      case 'Index':
        return this.index(e);
      case 'Call': {
        if (e.callee.kind !== 'Ident') throw new CompileError('only named functions can be called', e.callee.span);
        const name = e.callee.name;
        const local = this.scope.find(name);
        if (!local && this.fns.has(name)) return this.inline(this.fns.get(name)!, e.args, e.span);
        if (!local && this.logic.isAtom(e)) return answer(this.logic, e, []).val; // R(alice, X): a 0/1 tensor over X
        if (BUILTINS[name]) return this.call(name, e.args.map((a) => this.expr(a)), e.span, e.args);
        throw new CompileError(`unknown function '${name}'`, e.callee.span);
      }
      case 'MethodCall': {
        const target = this.expr(e.target);
        if (target.t === 'struct') return this.structs.callMethod(this, target, e.name, e.args.map((a) => this.expr(a)), e.span);
        if (target.t === 'kvcache') return kvMethod(this, target, e.name, e.args.map((a) => this.expr(a)), e.span);
        if (BUILTINS[e.name]) return this.call(e.name, [target, ...e.args.map((a) => this.expr(a))], e.span);
        throw new CompileError(`unknown method '${e.name}'`, e.span);
      }
      case 'AssocCall': {
        const key = `${e.type.name}::${e.name}`;
        if (this.structs.has(e.type.name)) return this.structs.callAssociated(this, e.type.name, e.name, e.args.map((a) => this.expr(a)), e.span);
        if (e.type.name === 'KVCache') return newKvCache(this, e.name, e.args.map((a) => this.expr(a)), e.span);
        if (BUILTINS[key]) return this.call(key, e.args.map((a) => this.expr(a)), e.span);
        throw new CompileError(`unknown function '${key}'`, e.span);
      }
      case 'Match':
        return this.match(e);
      case 'StructLit':
        return this.structs.literal(this, e);
      case 'IfExpr': {
        const c = this.expr(e.cond);
        if (c.t === 'static') return this.expr(truthy(c.v) ? e.then : e.else);
        const [a, b] = [this.expr(e.then), this.expr(e.else)];
        return { t: 'host', e: { k: 'call', fn: 'select', args: [this.hostExpr(c, e.cond.span), this.hostExpr(a, e.then.span), this.hostExpr(b, e.else.span)] } };
      }
      case 'ListRepeat': {
        const [v, n] = [this.expr(e.value), this.expr(e.count)];
        if (v.t !== 'static' || n.t !== 'static' || typeof n.v !== 'number') throw new CompileError('[value; count] needs both known at build time', e.span);
        return stat(new Array(n.v).fill(v.v));
      }
      default:
        throw new CompileError(`${kindWords(e.kind)} cannot be compiled to WebGPU yet`, e.span);
    }
  }

  call(name: string, args: Val[], span: A.Span, argExprs?: A.Expr[]): Val {
    const b = BUILTINS[name];
    if (args.length < b.min || args.length > b.max) {
      const n = b.min === b.max ? `${b.min}` : `${b.min} to ${b.max}`;
      throw new CompileError(`${name} takes ${n} argument${b.max === 1 ? '' : 's'}, got ${args.length}`, span);
    }
    return b.lower(this, args, span, argExprs);
  }

  private inline(fn: A.FnDecl, argExprs: A.Expr[], span: A.Span): Val {
    if (argExprs.length !== fn.params.length) {
      throw new CompileError(`${fn.name} takes ${fn.params.length} argument${fn.params.length === 1 ? '' : 's'}, got ${argExprs.length}`, span);
    }
    return this.inlineVals(fn, argExprs.map((a) => this.expr(a)), span);
  }

  /** A call with its arguments evaluated (a method's first is `self`): the body runs here, in a scope of its own. */
  inlineVals(fn: A.FnDecl, args: Val[], span: A.Span, name = fn.name): Val {
    const n = fn.params.length;
    if (args.length !== n) throw new CompileError(`${name} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, span);
    if (this.inlineDepth >= MAX_INLINE_DEPTH) throw new CompileError(`calls nest deeper than ${MAX_INLINE_DEPTH} (recursion cannot be unrolled)`, span);
    this.inlineDepth++;
    const depth = this.depth;
    try {
      return this.inScope(() => {
        fn.params.forEach((p, i) => this.declare(p.name, this.bindable(args[i], p.name))); // an argument is evaluated once
        let result: Val;
        try {
          result = this.blockStmts(fn.body);
        } catch (r) {
          if (!(r instanceof ReturnSignal)) throw r;
          if (r.depth !== depth) throw new CompileError(`'return' inside a run-time loop cannot be compiled yet`, span);
          result = r.val;
        }
        const params = new Set(fn.params.map((p) => p.name));
        this.structs.dropLocals(this, this.locals().filter(([v]) => !params.has(v)), result, span);
        return result;
      }, this.globals);
    } finally {
      this.inlineDepth--;
    }
  }

  private member(target: Val, name: string, span: A.Span): Val {
    if (target.t === 'struct') return fieldOf(target, name, span);
    if (target.t === 'model') {
      const model = this.opts.model;
      if (target.path.length === 0 && model && name in MODEL_PARAMS) return stat(MODEL_PARAMS[name](model));
      const path = [...target.path, name];
      const tensorName = path.join('.');
      if (model?.tensors[tensorName]) return { t: 'weight', name: tensorName };
      return { t: 'model', path, span };
    }
    throw new CompileError(`${describe(target)} has no field '${name}'`, span);
  }

  private index(e: A.Index): Val {
    const row = embeddingRow(this, e); // E[alice]: a row of an embedding table (./embeddings.ts)
    if (row) return row;
    const target = this.expr(e.target);
    const device = target.t === 'tensor' || target.t === 'dev' || target.t === 'weight' || (e.indices.some((i) => i.kind === 'Slice') && isNumberTensor(target)); // a number list: the original's tensor literal
    const slices: SliceIndex[] = e.indices.map((i) => (i.kind === 'Slice' ? { start: i.start && this.expr(i.start), end: i.end && this.expr(i.end) } : { at: this.expr(i) }));
    if (e.indices.some((i) => i.kind === 'Slice' && i.step)) throw new CompileError('a slice with a step cannot be compiled yet', e.span);
    // A tensor indexed other than by one build-time number per dim is a slice on the device.
    const element = slices.length === (device ? this.tensorRank(target) : slices.length) && slices.every((s) => 'at' in s && s.at.t === 'static');
    if (device && !element) return sliceTensor(this, target, slices, e.span);
    if (slices.some((s) => !('at' in s))) throw new CompileError(`${describe(target)} cannot be sliced`, e.span);
    const idx = slices.map((s) => (s as { at: Val }).at);
    if (target.t === 'model') {
      if (idx.length !== 1 || idx[0].t !== 'static') throw new CompileError('model paths take one build-time index: model.blk[i]', e.span);
      return { t: 'model', path: [...target.path, String(idx[0].v)], span: e.span };
    }
    return this.call('__index', [target, ...idx], e.span);
  }

  private tensorRank(v: Val): number {
    return tensorType(v)?.shape.length ?? this.opts.model?.tensors[(v as { name: string }).name]?.shape.length ?? 0;
  }

  private match(e: A.Match): Val {
    const subject = this.expr(e.subject);
    if (subject.t !== 'static') throw new CompileError('match on a run-time value cannot be compiled yet', e.subject.span);
    for (const arm of e.arms) {
      const binds = new Map<string, HostValue>();
      if (!matches(arm.pattern, subject.v, binds)) continue;
      const hit = this.inScope(() => {
        for (const [n, v] of binds) this.declare(n, stat(v));
        if (arm.guard) {
          const g = this.expr(arm.guard);
          if (g.t !== 'static') throw new CompileError('a match guard must be known at build time', arm.guard.span);
          if (!truthy(g.v)) return undefined;
        }
        return this.expr(arm.body);
      });
      if (hit) return hit;
    }
    throw new CompileError('no match arm matches this value', e.span);
  }

  /** The host expression for a value used by the host program (reads device values back). */
  hostExpr(v: Val, span?: A.Span): HostExpr {
    switch (v.t) {
      case 'static':
        return hostConst(v);
      case 'sym':
      case 'host':
        return v.e;
      case 'list':
        return { k: 'list', items: v.items.map((i) => this.hostExpr(i, span)) };
      case 'tensor': {
        const n = v.g.nodes[v.node];
        const count = n.shape.every((d) => d === 1) ? 0 : -1; // one element, or the whole tensor
        return { k: 'out', graph: v.g.id, output: v.g.output(v.node, count) };
      }
      case 'kvcache':
        return { k: 'const', value: `KVCache(${v.k.length} layers)` };
      case 'struct': // print(p): its type, as the original prints it
        return { k: 'const', value: `<${v.name}>` };
      case 'model': // print(model.blk[0]): what it is, not its data
        return { k: 'const', value: `<${describe(v)}>` };
      case 'dev':
      case 'weight': { // print(x) of a value on the device: read it back (weights: F32 ones)
        const g = this.graph();
        return this.hostExpr({ t: 'tensor', g, node: tensorOf(this, v, span ?? ({} as A.Span)) }, span);
      }
      default:
        throw new CompileError(`${describe(v)} cannot be used as a run-time value here`, span);
    }
  }
}

/** Model hyperparameters readable as `model.NAME` (documented in docs/builtins.md). */
export const MODEL_PARAMS: Record<string, (m: ModelInfo) => HostValue> = {
  n_layer: (m) => m.hparams.n_layer,
  n_embd: (m) => m.hparams.n_embd,
  n_ff: (m) => m.hparams.n_ff,
  n_head: (m) => m.hparams.n_head,
  n_head_kv: (m) => m.hparams.n_head_kv,
  head_dim: (m) => m.hparams.head_dim,
  n_rot: (m) => m.hparams.n_rot,
  n_vocab: (m) => m.hparams.n_vocab,
  n_ctx: (m) => m.hparams.n_ctx_train,
  rope_freq_base: (m) => m.hparams.rope_freq_base,
  rms_eps: (m) => m.hparams.rms_eps,
  bos_token_id: (m) => m.hparams.bos_id ?? -1,
  eos_token_id: (m) => m.hparams.eos_id ?? -1,
  tied_output: (m) => m.hparams.tied_output,
  has_chat_template: (m) => m.chatTemplate !== undefined,
  name: (m) => m.hparams.name ?? '',
  arch: (m) => m.hparams.arch,
};

function toInt(v: HostValue, at: A.Expr): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CompileError(`expected a number, got ${JSON.stringify(v)}`, at.span);
  return Math.trunc(v);
}

function matches(p: A.Pattern, v: HostValue, binds: Map<string, HostValue>): boolean {
  switch (p.kind) {
    case 'WildcardPat':
      return true;
    case 'BindPat':
      binds.set(p.name, v);
      return true;
    case 'LitPat':
      return p.value.value === v;
    case 'OrPat':
      return p.alts.some((a) => matches(a, v, binds));
    case 'TuplePat':
      return Array.isArray(v) && v.length === p.elems.length && p.elems.every((e, i) => matches(e, v[i], binds));
    default:
      return false;
  }
}

function isNumberList(v: Val): boolean {
  return v.t === 'static' && Array.isArray(v.v) && v.v.length > 0 && v.v.flat(8).every((x) => typeof x === 'number');
}

export function kindWords(kind: string): string {
  const words: Record<string, string> = {
    EntityDecl: 'an entity declaration', TensorDecl: 'a tensor declaration', RelationDecl: 'a relation', RuleDecl: 'a rule',
    EmbeddingDecl: 'an embedding block', StructDecl: 'a struct', ImplBlock: 'an impl block', With: "a 'with' block",
    Query: 'a query', Infer: "an 'infer' block", Learn: "a 'learn' block", PythonImport: 'a python import',
    StructLit: 'a struct literal', Range: 'a range outside a for loop',
  };
  return words[kind] ?? `'${kind}'`;
}
