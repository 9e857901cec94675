// Static checks on a parsed program: every name resolves, calls match their function, loops hold
// their `break`s, and tensor shapes written as literals agree. Every problem is reported, each located.
import type * as A from './ast.ts';
import { arityText, builtin, BUILTINS } from './builtins.ts';
import type { Diagnostic } from './diagnostics.ts';

export interface CheckOptions {
  /** The parsed program an `import "path"` names, or undefined when it cannot be read (then its names are unknown). */
  resolveImport?: (path: string, from: string) => A.Program | undefined;
}

/** Every problem found, in source order; [] for a program that checks clean. */
export function check(program: A.Program, options: CheckOptions = {}): Diagnostic[] {
  const c = new Checker(options);
  c.program(program);
  return c.diagnostics.sort((a, b) => a.span.start - b.span.start);
}

// ---------------------------------------------------------------------------------------------
// Shapes known statically: those of tensor literals, followed through `let`.

type Shape = number[]; // (d0, d1, ...); [] for a scalar

/** The shape of a literal like `[[1.0, 2.0], [3.0, 4.0]]`; undefined when not a literal (or not rectangular). */
function literalShape(e: A.Expr, report?: (message: string, at: A.Node) => void): Shape | undefined {
  if (e.kind === 'Lit') return e.type === 'int' || e.type === 'float' ? [] : undefined;
  if (e.kind === 'Unary' && e.op === '-') return literalShape(e.operand, report);
  if (e.kind === 'ListRepeat') {
    const inner = literalShape(e.value, report);
    const n = e.count.kind === 'Lit' && e.count.type === 'int' ? e.count.value : undefined;
    return inner && n !== undefined ? [n, ...inner] : undefined;
  }
  if (e.kind !== 'ListLit' || e.elements.length === 0) return undefined;
  const shapes = e.elements.map((x) => literalShape(x, report));
  if (shapes.some((s) => s === undefined)) return undefined;
  const first = shapes[0]!;
  for (let i = 1; i < shapes.length; i++) {
    if (!sameShape(shapes[i]!, first)) {
      report?.(`ragged tensor literal: element ${i + 1} has shape ${show(shapes[i]!)} but element 1 has shape ${show(first)}`, e.elements[i]);
      return undefined;
    }
  }
  return [e.elements.length, ...first];
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);
const show = (s: Shape) => `[${s.join(', ')}]`;
const count = (s: Shape) => s.reduce((n, d) => n * d, 1);

/** The shape of elementwise `a op b` under broadcasting (trailing dimensions equal or 1); undefined if incompatible. */
function broadcast(a: Shape, b: Shape): Shape | undefined {
  const out: number[] = [];
  for (let i = 1; i <= Math.max(a.length, b.length); i++) {
    const x = a[a.length - i] ?? 1;
    const y = b[b.length - i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.unshift(Math.max(x, y));
  }
  return out;
}

/** A literal list of whole numbers, `[2, 3]` or `[1.0, 2048.0]`, as a shape. */
function literalDims(e: A.Expr): Shape | undefined {
  if (e.kind !== 'ListLit') return undefined;
  const dims = e.elements.map((x) => (x.kind === 'Lit' && (x.type === 'int' || x.type === 'float') && Number.isInteger(x.value) && x.value >= 0 ? x.value : undefined));
  return dims.every((d) => d !== undefined) ? (dims as number[]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Scopes

type Global = 'function' | 'relation' | 'struct' | 'entity type' | 'entity' | 'embedding' | 'tensor' | 'variable' | 'module' | 'type';

/** Names a program may use as values without declaring them: element types, as in `tensor(xs, float32)`. */
const TYPE_NAMES = ['float32', 'float16', 'int16', 'int32', 'int64', 'bool', 'complex16', 'f16', 'f32', 'int', 'float'];

class Scope {
  readonly names = new Map<string, Shape | undefined>(); // a variable and its shape, when known
  constructor(readonly parent?: Scope) {}

  lookup(name: string): { scope: Scope; shape: Shape | undefined } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.names.has(name)) return { scope: s, shape: s.names.get(name) };
    return undefined;
  }

  all(): string[] {
    const out: string[] = [];
    for (let s: Scope | undefined = this; s; s = s.parent) out.push(...s.names.keys());
    return out;
  }
}

/** Edit distance, to suggest a name for a typo. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

// ---------------------------------------------------------------------------------------------

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  private readonly globals = new Map<string, Global>();
  private readonly functions = new Map<string, A.FnDecl[]>();
  private readonly root = new Scope();
  private loopDepth = 0;
  /** Names assigned somewhere in the body being checked: a literal's shape does not follow them (`xs = xs + [x]` may grow). */
  private reassigned = new Set<string>();
  private readonly imported = new Set<string>(); // `file\0path` of each import followed
  /** An import that could not be read: names it may declare are unknown, so none is reported as unknown. */
  private unresolvedImport = false;

  constructor(private readonly options: CheckOptions) {}

  private error(message: string, at: { span: A.Span }) {
    this.diagnostics.push({ message, span: at.span });
  }

  program(p: A.Program) {
    for (const t of TYPE_NAMES) this.globals.set(t, 'type');
    this.globals.set('python', 'module'); // python.call("f", ...)
    this.declareGlobals(p);
    this.reassigned = assignedNames(p.items);
    for (const item of p.items) this.item(item);
  }

  // ---- declarations: every top-level name is visible everywhere, whatever the order

  private declareGlobals(p: A.Program, imported = false) {
    const declare = (name: string, kind: Global, at: { span: A.Span }, unique = false) => {
      if (unique && !imported && this.globals.get(name) === kind) this.error(`${kind} '${name}' is defined twice`, at);
      this.globals.set(name, kind);
      if (kind === 'variable' || kind === 'tensor' || kind === 'entity' || kind === 'embedding' || kind === 'module') this.root.names.set(name, undefined);
    };
    for (const item of p.items) {
      switch (item.kind) {
        case 'Import': {
          const key = `${p.file}\0${item.path}`;
          if (this.imported.has(key)) break; // import cycles end here
          this.imported.add(key);
          const lib = this.options.resolveImport?.(item.path, p.file);
          if (lib) this.declareGlobals(lib, true);
          else this.unresolvedImport = true;
          break;
        }
        case 'FnDecl':
          if (this.functions.has(item.name) && !imported) this.error(`function '${item.name}' is defined twice`, item);
          this.functions.set(item.name, [...(this.functions.get(item.name) ?? []), item]);
          declare(item.name, 'function', item);
          break;
        case 'StructDecl':
          declare(item.name, 'struct', item, true);
          break;
        case 'RelationDecl':
          declare(item.name, 'relation', item);
          break;
        case 'RuleDecl':
          if (item.head.kind === 'Call' && item.head.callee.kind === 'Ident') declare(item.head.callee.name, 'relation', item);
          break;
        case 'EntityDecl':
          declare(item.name, 'entity type', item);
          for (const m of item.members ?? []) declare(m, 'entity', item);
          break;
        case 'EmbeddingDecl':
          declare(item.name, 'embedding', item);
          if (Array.isArray(item.members)) for (const m of item.members) declare(m, 'entity', item);
          break;
        case 'TensorDecl':
          declare(item.name, 'tensor', item);
          break;
        case 'Let':
          declare(item.name, 'variable', item);
          break;
        case 'LetTuple':
          for (const n of item.names) declare(n, 'variable', item);
          break;
        case 'Assign':
          if (item.op === ':=' && item.target.kind === 'Ident') declare(item.target.name, 'variable', item);
          break;
        case 'PythonImport':
          declare(item.alias ?? item.module.split('.')[0], 'module', item);
          break;
      }
    }
  }

  private item(item: A.Item) {
    switch (item.kind) {
      case 'Import':
      case 'EntityDecl':
      case 'EmbeddingDecl':
      case 'StructDecl':
      case 'RuleDecl': // atoms: their arguments are logic terms, not names to resolve
        return;
      case 'RelationDecl':
        return this.params(item.params);
      case 'FnDecl':
        return this.fn(item);
      case 'ImplBlock':
        for (const m of item.methods) this.fn(m);
        return;
      case 'MainBlock':
      case 'TestBlock':
      case 'BenchBlock':
        return this.body(item.body, new Scope(this.root));
      default:
        return this.stmt(item, this.root); // a script's top-level statement
    }
  }

  private params(params: A.Param[]) {
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) this.error(`parameter '${p.name}' is listed twice`, p);
      seen.add(p.name);
    }
  }

  private fn(f: A.FnDecl) {
    this.params(f.params);
    const scope = new Scope(this.root);
    for (const p of f.params) scope.names.set(p.name, p.type?.kind === 'TensorType' ? fixedShape(p.type) : undefined);
    this.body(f.body, scope);
  }

  /** A function's, main's, a test's or a bench's body: a fresh loop nesting, and its own reassigned names. */
  private body(b: A.Block, scope: Scope) {
    const [depth, reassigned] = [this.loopDepth, this.reassigned];
    this.loopDepth = 0; // a `break` in a function cannot leave a loop of its caller
    this.reassigned = assignedNames(b);
    this.block(b, scope);
    [this.loopDepth, this.reassigned] = [depth, reassigned];
  }

  // ---- statements

  private block(b: A.Block, scope: Scope) {
    for (const s of b.stmts) this.stmt(s, scope);
    if (b.tail) this.expr(b.tail, scope);
  }

  private loopBody(b: A.Block, scope: Scope) {
    this.loopDepth++;
    this.block(b, scope);
    this.loopDepth--;
  }

  private stmt(s: A.Stmt, scope: Scope): void {
    switch (s.kind) {
      case 'Let': {
        const shape = s.init ? this.expr(s.init, scope) : undefined;
        if (s.init && s.type?.kind === 'TensorType') this.annotated(s.name, s.type, s.init, shape);
        const typed = s.type?.kind === 'TensorType' ? fixedShape(s.type) : undefined;
        scope.names.set(s.name, typed ?? (this.reassigned.has(s.name) ? undefined : shape));
        return;
      }
      case 'LetTuple':
        this.expr(s.init, scope);
        for (const n of s.names) scope.names.set(n, undefined);
        return;
      case 'TensorDecl': {
        const shape = s.init ? this.expr(s.init, scope) : undefined;
        if (s.init) this.annotated(s.name, s.type, s.init, shape);
        scope.names.set(s.name, fixedShape(s.type) ?? shape);
        return;
      }
      case 'Assign':
        return this.assign(s, scope);
      case 'If':
        this.expr(s.cond, scope);
        this.block(s.then, new Scope(scope));
        if (s.else?.kind === 'Block') this.block(s.else, new Scope(scope));
        else if (s.else) this.stmt(s.else, scope);
        return;
      case 'For': {
        this.expr(s.iter, scope);
        const body = new Scope(scope);
        body.names.set(s.var, undefined);
        return this.loopBody(s.body, body);
      }
      case 'While':
        this.expr(s.cond, scope);
        return this.loopBody(s.body, new Scope(scope));
      case 'Loop':
        return this.loopBody(s.body, new Scope(scope));
      case 'Break':
      case 'Continue':
        if (this.loopDepth === 0) this.error(`'${s.kind.toLowerCase()}' outside of a loop`, s);
        return;
      case 'Return':
        if (s.value) this.expr(s.value, scope);
        return;
      case 'With':
        if (!this.globals.has(s.name)) this.error(`unknown entity type '${s.name}'${this.suggest(s.name, scope)}`, s);
        return this.block(s.body, new Scope(scope));
      case 'Query':
        return this.atom(s.atom, scope);
      case 'Infer':
        for (const { query } of s.items) this.atom(query.atom, scope);
        return;
      case 'Learn': {
        const inner = new Scope(scope);
        for (const setting of s.settings) {
          if (setting.value.kind === 'Optimizer') for (const p of setting.value.params) this.expr(p.value, scope);
          else if (setting.name !== 'objective') this.expr(setting.value, scope);
          inner.names.set(setting.name, undefined); // `epochs: 100` then `range(epochs)`
        }
        this.block(s.body, inner);
        // The objective is evaluated after the block's statements, with the names they define.
        for (const setting of s.settings) if (setting.name === 'objective' && setting.value.kind !== 'Optimizer') this.expr(setting.value, inner);
        return;
      }
      case 'PythonImport':
        scope.names.set(s.alias ?? s.module.split('.')[0], undefined);
        return;
      case 'RuleDecl':
        return;
      case 'BlockStmt':
      case 'TestBlock':
      case 'BenchBlock':
        return this.block(s.body, new Scope(scope));
      case 'ExprStmt':
        this.expr(s.expr, scope);
        return;
    }
  }

  private assign(s: A.Assign, scope: Scope) {
    const shape = this.expr(s.value, scope);
    if (s.target.kind !== 'Ident') {
      this.expr(s.target, scope);
      return;
    }
    const name = s.target.name;
    const found = scope.lookup(name);
    const kind = found ? undefined : this.globals.get(name);
    if (s.op === '=' && !found && kind === 'relation') return; // `R = tensor`: the relation's truth values (docs/logic.md)
    if (s.op === ':=' || (s.op === '=' && !found && (!kind || kind === 'variable'))) {
      // defines the name where it is not yet visible (`=` too, as in the original), updates it where it is
      (found?.scope ?? scope).names.set(name, found ? undefined : shape);
    } else if (!found) {
      this.error(
        kind && kind !== 'variable'
          ? `cannot assign to ${kind} '${name}'`
          : `assignment to undeclared variable '${name}': declare it first with 'let ${name} = ...'${this.suggest(name, scope)}`,
        s.target,
      );
      if (!kind) scope.names.set(name, undefined); // report it once, not at every later use
    } else {
      found.scope.names.set(name, s.op === '=' ? undefined : found.shape); // its shape may change now
    }
  }

  /** A declared tensor type against the literal given for it: `tensor w: float16[2, 3] = [[...]]`. */
  private annotated(name: string, type: A.TensorType, init: A.Expr, shape: Shape | undefined) {
    if (!shape || shape.length === 0 || (init.kind !== 'ListLit' && init.kind !== 'ListRepeat')) return;
    const dims = type.dims;
    const fits = dims.length === shape.length && dims.every((d, i) => typeof d !== 'number' || d === shape[i]);
    // A flat list fills a tensor of any shape in order: `tensor m: float16[2, 3] = [1, 2, 3, 4, 5, 6]`.
    const flatFill = shape.length === 1 && dims.every((d) => typeof d === 'number') && count(dims as number[]) === shape[0];
    if (!fits && !flatFill) {
      this.error(`'${name}' is declared ${type.dtype}[${dims.join(', ')}] but its value has shape ${show(shape)}`, init);
    }
  }

  /** A relation atom: its arguments are logic terms (variables like X, constants like alice), not checked. */
  private atom(call: A.Call, scope: Scope) {
    if (call.callee.kind !== 'Ident') return;
    const name = call.callee.name;
    if (this.globals.get(name) !== 'relation' && !this.unresolvedImport) {
      this.error(`unknown relation '${name}'${this.suggest(name, scope)}`, call.callee);
    }
  }

  // ---- expressions: each returns its shape when known statically

  private expr(e: A.Expr, scope: Scope): Shape | undefined {
    switch (e.kind) {
      case 'Lit':
        return e.type === 'int' || e.type === 'float' ? [] : undefined;
      case 'Ident':
        return this.ident(e, scope);
      case 'ListLit': {
        for (const x of e.elements) this.expr(x, scope);
        return literalShape(e, (m, at) => this.error(m, at));
      }
      case 'ListRepeat':
        this.expr(e.value, scope);
        this.expr(e.count, scope);
        return literalShape(e);
      case 'TupleLit':
        for (const x of e.elements) this.expr(x, scope);
        return undefined;
      case 'StructLit':
        for (const f of e.fields) this.expr(f.value, scope);
        return undefined;
      case 'Member':
        this.expr(e.target, scope);
        return undefined;
      case 'Index':
        this.expr(e.target, scope);
        for (const i of e.indices) {
          if (i.kind === 'Slice') for (const x of [i.start, i.end, i.step]) x && this.expr(x, scope);
          else this.expr(i, scope);
        }
        return undefined;
      case 'Call':
        return this.call(e, scope);
      case 'MethodCall':
        this.expr(e.target, scope);
        for (const a of e.args) this.expr(a, scope);
        return undefined;
      case 'AssocCall':
        for (const a of e.args) this.expr(a, scope);
        return undefined;
      case 'Binary':
      case 'Cast':
        return this.chain(e, scope);
      case 'Unary':
        return this.expr(e.operand, scope);
      case 'Range':
        this.expr(e.start, scope);
        this.expr(e.end, scope);
        return undefined;
      case 'IfExpr':
        this.expr(e.cond, scope);
        this.expr(e.then, scope);
        this.expr(e.else, scope);
        return undefined;
      case 'Match':
        this.expr(e.subject, scope);
        for (const arm of e.arms) {
          const inner = new Scope(scope);
          this.pattern(arm.pattern, inner);
          if (arm.guard) this.expr(arm.guard, inner);
          this.expr(arm.body, inner);
        }
        return undefined;
    }
  }

  private pattern(p: A.Pattern, scope: Scope) {
    switch (p.kind) {
      case 'BindPat':
        scope.names.set(p.name, undefined);
        return;
      case 'OrPat':
        return p.alts.forEach((a) => this.pattern(a, scope));
      case 'TuplePat':
        return p.elems.forEach((a) => this.pattern(a, scope));
      case 'StructPat':
        return p.fields.forEach((f) => this.pattern(f.pattern, scope));
    }
  }

  private ident(e: A.Ident, scope: Scope): Shape | undefined {
    const found = scope.lookup(e.name);
    if (found) return found.shape;
    const kind = this.globals.get(e.name);
    if (kind === 'function') this.error(`'${e.name}' is a function: call it, '${e.name}(...)'`, e);
    else if (!kind && !this.unresolvedImport) this.error(`unknown name '${e.name}'${this.suggest(e.name, scope)}`, e);
    return undefined;
  }

  private call(e: A.Call, scope: Scope): Shape | undefined {
    const argShapes = e.args.map((a) => (this.isRelationCall(e) ? undefined : this.expr(a, scope)));
    if (e.callee.kind !== 'Ident') return undefined;
    const name = e.callee.name;
    const n = e.args.length;
    // Calls look in the functions' namespace: a variable named `top_k` does not hide top_k().
    const fns = this.functions.get(name);
    if (fns) {
      // a user function wins over a builtin of the same name
      const params = (f: A.FnDecl) => f.params.filter((p) => p.name !== 'self');
      const fn = fns.find((f) => params(f).length === n);
      if (!fn) {
        const want = [...new Set(fns.map((f) => params(f).length))].join(' or ');
        this.error(`'${name}' takes ${want} argument${want === '1' ? '' : 's'} but ${n} ${n === 1 ? 'was' : 'were'} given`, e);
        return undefined;
      }
      params(fn).forEach((p, i) => this.argument(name, p, e.args[i], argShapes[i]));
      return fn.ret?.kind === 'TensorType' ? fixedShape(fn.ret) : undefined;
    }
    const kind = this.globals.get(name);
    if (kind === 'relation') return undefined; // a fact: Parent(alice, bob)
    const b = builtin(name);
    if (!b) {
      if (scope.lookup(name)) this.error(`'${name}' is a variable, not a function`, e.callee);
      else if (kind) this.error(`${kind} '${name}' cannot be called`, e.callee);
      else if (!this.unresolvedImport) this.error(`unknown function '${name}'${this.suggest(name, scope, true)}`, e.callee);
      return undefined;
    }
    if (n < b.minArgs || n > b.maxArgs) {
      this.error(`${name}() takes ${arityText(b)} but ${n} ${n === 1 ? 'was' : 'were'} given: ${b.signature}`, e);
      return undefined;
    }
    return this.builtinShape(name, e, argShapes);
  }

  private isRelationCall(e: A.Call): boolean {
    return e.callee.kind === 'Ident' && this.globals.get(e.callee.name) === 'relation' && !this.functions.has(e.callee.name);
  }

  /** A literal argument against a parameter's declared tensor type. */
  private argument(fn: string, p: A.Param, arg: A.Expr, shape: Shape | undefined) {
    if (p.type?.kind !== 'TensorType' || !shape || shape.length === 0) return;
    const dims = p.type.dims;
    const fits = dims.length === shape.length && dims.every((d, i) => typeof d !== 'number' || d === shape[i]);
    if (!fits) this.error(`argument '${p.name}' of '${fn}' must be ${p.type.dtype}[${dims.join(', ')}], but this has shape ${show(shape)}`, arg);
  }

  /** Shapes a few builtins give from known shapes, and the errors they must raise. */
  private builtinShape(name: string, e: A.Call, args: (Shape | undefined)[]): Shape | undefined {
    const [x, y] = args;
    switch (name) {
      case 'zeros':
      case 'ones':
      case 'rand':
        return literalDims(e.args[0]);
      case 'reshape': {
        const to = literalDims(e.args[1]);
        if (x && to && count(x) !== count(to)) {
          this.error(`cannot reshape ${show(x)} (${count(x)} elements) into ${show(to)} (${count(to)} elements)`, e);
        }
        return to;
      }
      case 'matmul':
        return x && y ? this.matmul(x, y, e) : undefined;
      case 'transpose':
        return x && x.length >= 2 ? [...x.slice(0, -2), x[x.length - 1], x[x.length - 2]] : undefined;
      case 'relu': case 'sigmoid': case 'silu': case 'gelu': case 'tanh': case 'exp': case 'log': case 'sqrt':
      case 'softmax': case 'sin': case 'cos': case 'tan':
        return x;
      default:
        return undefined;
    }
  }

  private matmul(a: Shape, b: Shape, at: A.Node): Shape | undefined {
    if (a.length < 1 || b.length < 1) return undefined;
    const k1 = a[a.length - 1];
    const k2 = b.length === 1 ? b[0] : b[b.length - 2];
    if (k1 !== k2) {
      this.error(`matrix product of ${show(a)} and ${show(b)}: inner dimensions ${k1} and ${k2} differ`, at);
      return undefined;
    }
    if (a.length === 2 && b.length === 2) return [a[0], b[1]];
    return undefined;
  }

  /**
   * `a + b + c ...` (and `as` casts): the parser builds a left-deep tree, as deep as the chain is long,
   * so its left spine is walked in a loop, in the order the recursion would take: left, right, combine.
   */
  private chain(e: A.Binary | A.Cast, scope: Scope): Shape | undefined {
    const spine: (A.Binary | A.Cast)[] = [];
    let x: A.Expr = e;
    for (; x.kind === 'Binary' || x.kind === 'Cast'; x = x.kind === 'Binary' ? x.left : x.expr) spine.push(x);
    let shape = this.expr(x, scope);
    for (let i = spine.length - 1; i >= 0; i--) {
      const n = spine[i];
      shape = n.kind === 'Cast' ? undefined : this.binary(n, shape, this.expr(n.right, scope));
    }
    return shape;
  }

  /** The shape of `a op b` from its operands' shapes. */
  private binary(e: A.Binary, a: Shape | undefined, b: Shape | undefined): Shape | undefined {
    if (!a || !b) return undefined;
    switch (e.op) {
      case '@':
        return this.matmul(a, b, e);
      case '+': case '-': case '*': case '/': case '%': case '⊙': case '**': {
        const out = broadcast(a, b);
        if (!out) this.error(`shapes ${show(a)} and ${show(b)} do not match for '${e.op}' (nor broadcast)`, e);
        return out;
      }
      default:
        return undefined;
    }
  }

  private suggest(name: string, scope: Scope, callable = false): string {
    const candidates = callable ? [...this.functions.keys(), ...BUILTINS.map((b) => b.name)] : [...scope.all(), ...this.globals.keys()];
    let best: string | undefined;
    let bestD = Math.min(2, Math.floor(name.length / 3));
    for (const c of candidates) {
      const d = distance(name, c);
      if (d > 0 && d <= bestD) [best, bestD] = [c, d];
    }
    return best ? ` (did you mean '${best}'?)` : '';
  }
}

/** The shape of a tensor type whose dimensions are all numbers: `float16[2, 3]`. */
function fixedShape(t: A.TensorType): Shape | undefined {
  return t.dims.every((d) => typeof d === 'number') ? (t.dims as number[]) : undefined;
}

/** Every name assigned with `=`, `+=`, ... anywhere inside (a walk over plain objects, with a stack: trees may be deep). */
function assignedNames(root: unknown): Set<string> {
  const names = new Set<string>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (!n || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
      continue;
    }
    const node = n as { kind?: string; op?: string; target?: A.Expr };
    if (node.kind === 'Assign' && node.op !== ':=' && node.target?.kind === 'Ident') names.add(node.target.name);
    for (const [k, v] of Object.entries(n)) if (k !== 'span' && v && typeof v === 'object') stack.push(v);
  }
  return names;
}
