// Source text -> AST (compiler/ast.ts). The grammar is grammar/tensorlogic.ohm, and it is the spec. A
// hand-written parser of the same grammar (FastParser, at the end of this file: linear time, memory in
// proportion to the AST) builds the AST of every program it accepts; the grammar itself, through Ohm
// and the semantic actions here, words syntax errors and has the last word on anything the fast parser
// does not accept. parseWithGrammar is the grammar alone; test/frontend/scaling.test.ts checks that
// both give the same AST and the same messages.
import * as ohm from 'ohm-js';
import { GRAMMAR_SOURCE } from '../grammar/source.ts';
import type * as A from './ast.ts';
import { DiagnosticError, spanner } from './diagnostics.ts';
import { syntaxError } from './syntax-errors.ts';
import { BINARY_PRECEDENCE, decodeString, numberLit } from './parse-shared.ts';
import { FastParser } from './parse-fast.ts';

export { MAX_NESTING } from './parse-fast.ts';

const grammar = ohm.grammar(GRAMMAR_SOURCE);

/** Parses one TensorLogic source file. Throws DiagnosticError (with file:line:col) on a syntax error. */
export function parse(source: string, file: string): A.Program {
  const text = source.replace(/^\uFEFF/, ''); // a BOM is not part of the program
  const span = spanner(text, file);
  const fast = new FastParser(text, span);
  const programSpan = () => span(fast.skip(0), text.length);
  if (fast.program()) {
    if (fast.semErrors.length > 0) throw new DiagnosticError([fast.semErrors[0]], text);
    return { kind: 'Program', file, items: fast.items, span: programSpan() };
  }
  // A syntax error (or something only the grammar accepts): the grammar matches again from a few items
  // before the one that failed. Nothing before an item looks further than the next item's first token,
  // so its failures, and so its message, are those of a match of the whole file.
  const back = Math.max(0, fast.itemStarts.length - 3);
  const from = back === 0 ? 0 : fast.itemStarts[back];
  // Ohm needs about a kilobyte per byte it examines: past GRAMMAR_REGION_LIMIT, the fast parser's own
  // account of what it expected at the furthest point it reached says it instead.
  if (fast.furthest - from > GRAMMAR_REGION_LIMIT) throw fast.syntaxError(file);
  let match: ohm.MatchResult;
  try {
    match = grammar.match(from === 0 ? text : text.slice(from));
  } catch (e) {
    if (e instanceof RangeError) throw fast.syntaxError(file); // Ohm's recursion runs deeper than ours
    throw e;
  }
  if (match.failed()) throw syntaxError(match, text, file, from);
  const earlier = fast.semErrors.find((d) => d.span.start < from);
  if (earlier) throw new DiagnosticError([earlier], text);
  ctx = { span: (s, e = s) => span(s + from, e + from), text, file };
  let rest: A.Program;
  try {
    rest = semantics(match).ast() as A.Program;
  } catch (e) {
    if (e instanceof RangeError) throw fast.syntaxError(file);
    throw e;
  }
  return { kind: 'Program', file, items: [...fast.items.slice(0, back), ...rest.items], span: programSpan() };
}

/** How much text (UTF-16 units) the grammar may re-match to word a syntax error. */
const GRAMMAR_REGION_LIMIT = 256 * 1024;

/** The grammar alone (Ohm's match and semantic actions on the whole file): the reference parse() must agree with. */
export function parseWithGrammar(source: string, file: string): A.Program {
  const text = source.replace(/^\uFEFF/, '');
  const match = grammar.match(text);
  if (match.failed()) throw syntaxError(match, text, file, 0);
  ctx = { span: spanner(text, file), text, file };
  return semantics(match).ast() as A.Program;
}

// ---------------------------------------------------------------------------------------------
// The semantic actions: one per grammar rule (or case), each returning an AST node.

interface Ctx {
  span: (start: number, end?: number) => A.Span;
  text: string;
  file: string;
}

type N = ohm.Node;
let ctx: Ctx; // the file being parsed; set by parse() before the semantic actions run

const sp = (n: N): A.Span => ctx.span(n.source.startIdx, n.source.endIdx);
const ast = <T>(n: N): T => n.ast() as T;
const opt = <T>(n: N): T | undefined => (n.children[0] ? (n.children[0].ast() as T) : undefined);
const list = <T>(n: N): T[] => n.asIteration().children.map((c) => c.ast() as T);
const name = (n: N): string => n.sourceString;
const fail = (n: N, message: string): never => {
  throw new DiagnosticError([{ message, span: sp(n) }], ctx.text);
};

/**
 * The grammar matches `a op b op c ...` flat; this builds the tree by precedence climbing, every
 * operator left-associative. For `as`, the right-hand node is the type name.
 */
function binaryTree(first: N, ops: N[], rights: N[]): A.Expr {
  const opText = ops.map((o) => (o.ctorName === 'binop' ? o.sourceString : 'as')) as (A.BinaryOp | 'as')[];
  let i = 0; // next operator
  type Part = { expr: A.Expr; start: number; end: number };
  const climb = (node: N, minPrec: number): Part => {
    let left: Part = { expr: ast(node), start: node.source.startIdx, end: node.source.endIdx };
    while (i < ops.length && BINARY_PRECEDENCE[opText[i]] >= minPrec) {
      const op = opText[i];
      const rightNode = rights[i++];
      if (op === 'as') {
        const end = rightNode.source.endIdx;
        left = { expr: { kind: 'Cast', expr: left.expr, to: name(rightNode), span: ctx.span(left.start, end) }, start: left.start, end };
      } else {
        const right = climb(rightNode, BINARY_PRECEDENCE[op] + 1);
        const span = ctx.span(left.start, right.end);
        left = { expr: { kind: 'Binary', op, left: left.expr, right: right.expr, span }, start: left.start, end: right.end };
      }
    }
    return left;
  };
  return climb(first, 0).expr;
}

/** A block's statements; a last expression statement without `;` becomes its tail. */
function block(this: N, _l: N, stmts: N, _r: N): A.Block {
  const parsed = stmts.children.map((s) => ast<{ stmt: A.Stmt; semi: boolean }>(s));
  const last = parsed[parsed.length - 1];
  const tail = last && !last.semi && last.stmt.kind === 'ExprStmt' ? (parsed.pop(), last.stmt.expr) : undefined;
  return { kind: 'Block', stmts: parsed.map((p) => p.stmt), ...(tail && { tail }), span: sp(this) };
}

function fnDecl(this: N, _fn: N, n: N, _l: N, params: N, _r: N, _arrow: N, ret: N, body: N): A.FnDecl {
  const r = opt<A.TypeRef>(ret);
  return { kind: 'FnDecl', name: name(n), params: ast(params), ...(r && { ret: r }), body: ast(body), span: sp(this) };
}

const semantics = grammar.createSemantics().addOperation<unknown>('ast', {
  Program(items, _end) {
    return { kind: 'Program', file: ctx.file, items: items.children.map((c) => c.ast()), span: sp(this) };
  },
  Item(decl, _semis) {
    return ast(decl);
  },

  // ---- declarations
  Import(_kw, path) {
    return { kind: 'Import', path: decodeString(path.sourceString), span: sp(this) };
  },
  EntityDecl(_kw, n, _eq, _l, members, _comma, _r) {
    const m = members.children[0];
    return { kind: 'EntityDecl', name: name(n), ...(m && { members: m.asIteration().children.map(name) }), span: sp(this) };
  },
  EmbeddingDecl(kw, n, _l, fields, _r) {
    const of = kw.sourceString === 'embedding' ? 'entities' : 'relations';
    const got = new Map<string, { value: unknown; node: N }>();
    for (const f of fields.children) got.set(name(f.child(0)), { value: ast(f.child(2)), node: f });
    const members = got.get(of)?.value;
    const dimension = got.get('dimension')?.value;
    if (members === undefined) fail(this, `${kw.sourceString} '${name(n)}' needs '${of}: ...'`);
    if (typeof dimension !== 'number') fail(this, `${kw.sourceString} '${name(n)}' needs 'dimension: <integer>'`);
    for (const [k, { node }] of got) {
      if (![of, 'dimension', 'init'].includes(k)) fail(node, `unknown ${kw.sourceString} field '${k}' (expected ${of}, dimension, init)`);
    }
    const init = got.get('init')?.value;
    return {
      kind: 'EmbeddingDecl', of, name: name(n), members: members as string[] | string, dimension: dimension as number,
      ...(typeof init === 'string' && { init }), span: sp(this),
    };
  },
  EmbeddingValue_list(_l, names, _comma, _r) {
    return names.asIteration().children.map(name);
  },
  EmbeddingValue_number(n) {
    return Number(n.sourceString);
  },
  EmbeddingValue_name(n) {
    return name(n);
  },
  RelationDecl(_kw, n, _l, params, _r, _embed, embed) {
    const e = opt<A.TensorType>(embed);
    return { kind: 'RelationDecl', name: name(n), params: ast(params), ...(e && { embed: e }), span: sp(this) };
  },
  TensorDecl(_kw, n, _c, type, _eq, init) {
    const i = opt<A.Expr>(init);
    return { kind: 'TensorDecl', name: name(n), type: ast(type), ...(i && { init: i }), span: sp(this) };
  },
  RuleDecl(head, _arrow, body) {
    return { kind: 'RuleDecl', head: ast(head), body: list(body), span: sp(this) };
  },
  FnDecl: fnDecl,
  Params(params, _comma) {
    return list(params);
  },
  Param(n, _c, type) {
    const t = opt<A.TypeRef>(type);
    return { kind: 'Param', name: name(n), ...(t && { type: t }), span: sp(this) };
  },
  StructDecl(_kw, n, typeParams, _l, fields, _commas, _r) {
    return {
      kind: 'StructDecl', name: name(n), typeParams: opt<string[]>(typeParams) ?? [],
      fields: fields.children.map((f) => f.ast()), span: sp(this),
    };
  },
  Field(n, _c, type, learnability) {
    const t = ast<A.TypeRef>(type);
    const l = (learnability.children[0]?.sourceString ?? (t.kind === 'TensorType' ? t.learnable : undefined)) as A.Field['learnable'];
    return { kind: 'Field', name: name(n), type: t, ...(l && { learnable: l }), span: sp(this) };
  },
  TypeParams(_l, names, _r) {
    return names.asIteration().children.map(name);
  },
  ImplBlock(_kw, typeParams, trait, target, _l, methods, _r) {
    const t = opt<string>(trait);
    return {
      kind: 'ImplBlock', typeParams: opt<string[]>(typeParams) ?? [], ...(t && { trait: t }), target: ast(target),
      methods: methods.children.map((m) => m.ast()), span: sp(this),
    };
  },
  ImplTrait(n, _for) {
    return name(n);
  },
  MainBlock(_kw, body) {
    return { kind: 'MainBlock', body: ast(body), span: sp(this) };
  },
  TestBlock(_kw, n, body) {
    return { kind: 'TestBlock', name: name(n), body: ast(body), span: sp(this) };
  },
  BenchBlock(_kw, n, body) {
    return { kind: 'BenchBlock', name: name(n), body: ast(body), span: sp(this) };
  },
  GlobalLet(_kw, n, _c, type, _eq, init) {
    const t = opt<A.TypeRef>(type);
    const i = opt<A.Expr>(init);
    return { kind: 'Let', name: name(n), ...(t && { type: t }), ...(i && { init: i }), span: sp(this) };
  },

  // ---- types
  TensorType(dtype, _l, dims, _r, learnability) {
    const l = learnability.children[0]?.sourceString as A.TensorType['learnable'];
    return { kind: 'TensorType', dtype: dtype.sourceString, dims: list(dims), ...(l && { learnable: l }), span: sp(this) };
  },
  Dim(d) {
    const s = d.sourceString;
    return /^\d+$/.test(s) ? Number(s) : s;
  },
  TupleType(_l, first, _comma, rest, _r) {
    return { kind: 'TupleType', elems: [ast(first), ...list(rest)], span: sp(this) };
  },
  NamedType(n, args) {
    return { kind: 'NamedType', name: name(n), args: opt<A.TypeRef[]>(args) ?? [], span: sp(this) };
  },
  TypeArgs(_l, types, _r) {
    return list(types);
  },

  // ---- statements
  Block: block,
  Stmt(body, semis) {
    return { stmt: ast(body), semi: semis.children.length > 0 };
  },
  Let(_kw, n, _c, type, _eq, init) {
    const t = opt<A.TypeRef>(type);
    return { kind: 'Let', name: name(n), ...(t && { type: t }), init: ast(init), span: sp(this) };
  },
  LetTuple(_kw, _l, names, _r, _eq, init) {
    return { kind: 'LetTuple', names: names.asIteration().children.map(name), init: ast(init), span: sp(this) };
  },
  Assign(target, op, value) {
    const t = ast<A.Expr>(target);
    if (t.kind !== 'Ident' && t.kind !== 'Index' && t.kind !== 'Member') {
      fail(target, `cannot assign to this expression: the left of '${op.sourceString}' must be a name, an index or a field`);
    }
    return { kind: 'Assign', op: op.sourceString, target: t, value: ast(value), span: sp(this) };
  },
  If(_kw, cond, then, _else, otherwise) {
    const e = opt<A.Block | A.If>(otherwise);
    return { kind: 'If', cond: ast(cond), then: ast(then), ...(e && { else: e }), span: sp(this) };
  },
  For(_kw, v, _in, iter, body) {
    return { kind: 'For', var: name(v), iter: ast(iter), body: ast(body), span: sp(this) };
  },
  Iterable_range(start, _dots, end) {
    return { kind: 'Range', start: ast(start), end: ast(end), span: sp(this) };
  },
  While(_kw, cond, body) {
    return { kind: 'While', cond: ast(cond), body: ast(body), span: sp(this) };
  },
  Loop(_kw, body) {
    return { kind: 'Loop', body: ast(body), span: sp(this) };
  },
  Break(_kw) {
    return { kind: 'Break', span: sp(this) };
  },
  Continue(_kw) {
    return { kind: 'Continue', span: sp(this) };
  },
  Return(_kw, value) {
    const v = opt<A.Expr>(value);
    return { kind: 'Return', ...(v && { value: v }), span: sp(this) };
  },
  With(_kw, n, body) {
    return { kind: 'With', name: name(n), body: ast(body), span: sp(this) };
  },
  BlockStmt(body) {
    return { kind: 'BlockStmt', body: ast(body), span: sp(this) };
  },
  ExprStmt(e) {
    return { kind: 'ExprStmt', expr: ast(e), span: sp(this) };
  },
  Literal_not(_not, operand) {
    return { kind: 'Unary', op: '!', operand: ast(operand), span: sp(this) };
  },
  Query(atom, _q, _where, conds) {
    return { kind: 'Query', atom: ast(atom), where: conds.children[0] ? list(conds.children[0]) : [], span: sp(this) };
  },
  Atom(callee, _l, args, _r) {
    return { kind: 'Call', callee: ast(callee), args: ast(args), span: sp(this) };
  },
  Infer(_kw, body) {
    return { kind: 'Infer', items: ast(body), span: sp(this) };
  },
  InferBody_block(_l, items, _r) {
    return items.children.map((i) => i.ast());
  },
  InferBody_one(item) {
    return [ast(item)];
  },
  InferItem(method, query) {
    return { method: method.sourceString, query: ast(query) };
  },
  Learn(_kw, _l, parts, _r) {
    const settings: A.LearnSetting[] = [];
    const stmts: { stmt: A.Stmt; semi: boolean }[] = [];
    for (const p of parts.children) {
      const v = ast<A.LearnSetting | { stmt: A.Stmt; semi: boolean }>(p);
      if ('kind' in v) settings.push(v);
      else stmts.push(v);
    }
    const body: A.Block = { kind: 'Block', stmts: stmts.map((s) => s.stmt), span: sp(this) };
    return { kind: 'Learn', settings, body, span: sp(this) };
  },
  LearnPart_setting(setting, _comma) {
    return ast(setting);
  },
  LearnSetting(n, _c, value) {
    let v = ast<A.Expr | A.Optimizer>(value);
    // `optimizer: adam()` names an optimizer whatever its argument list.
    if (['optimizer', 'scheduler'].includes(name(n)) && v.kind === 'Call' && v.callee.kind === 'Ident' && v.args.length === 0) {
      v = { kind: 'Optimizer', name: v.callee.name, params: [], span: v.span };
    }
    return { kind: 'LearnSetting', name: name(n), value: v, span: sp(this) };
  },
  Optimizer(n, _l, params, _comma, _r) {
    return { kind: 'Optimizer', name: name(n), params: list(params), span: sp(this) };
  },
  OptimizerParam(n, _eq, value) {
    return { name: name(n), value: ast(value), span: sp(this) };
  },
  PythonImport(_py, _import, module, _as, alias) {
    const a = alias.children[0]?.sourceString;
    return { kind: 'PythonImport', module: module.sourceString, ...(a && { alias: a }), span: sp(this) };
  },

  // ---- expressions
  Expr(first, ops, rights) {
    return binaryTree(first, ops.children, rights.children);
  },
  Unary_op(op, operand) {
    const o = ast<A.Expr>(operand);
    // `-2.0` is one literal, so shapes and constants read as numbers.
    if (op.sourceString === '-' && o.kind === 'Lit' && (o.type === 'int' || o.type === 'float') && !o.text.startsWith('-')) {
      return numberLit(sp(this), `-${o.text}`);
    }
    return { kind: 'Unary', op: op.sourceString, operand: o, span: sp(this) };
  },
  Postfix(primary, ops) {
    // Each `.name(...)`, `.name` or `[...]` applies to everything before it.
    return ops.children.reduce<A.Expr>((target, op) => {
      const span = ctx.span(this.source.startIdx, op.source.endIdx);
      const c = op.children[0].children;
      switch (op.children[0].ctorName) {
        case 'PostfixOp_method':
          return { kind: 'MethodCall', target, name: name(c[1]), args: ast(c[3]), span };
        case 'PostfixOp_member':
          return { kind: 'Member', target, name: name(c[1]), span };
        default:
          return { kind: 'Index', target, indices: list(c[1]), span };
      }
    }, ast(primary));
  },
  Primary_tuple(_l, first, _comma, rest, _trailing, _r) {
    return { kind: 'TupleLit', elements: [ast(first), ...list(rest)], span: sp(this) };
  },
  Primary_paren(_l, e, _r) {
    return ast(e);
  },
  Primary_repeat(_l, value, _semi, count, _r) {
    return { kind: 'ListRepeat', value: ast(value), count: ast(count), span: sp(this) };
  },
  Primary_list(_l, elements, _comma, _r) {
    return { kind: 'ListLit', elements: list(elements), span: sp(this) };
  },
  Primary_ident(n) {
    return { kind: 'Ident', name: name(n), span: sp(this) };
  },
  IfExpr(_if, cond, _then, then, _else, otherwise) {
    return { kind: 'IfExpr', cond: ast(cond), then: ast(then), else: ast(otherwise), span: sp(this) };
  },
  Call_plain(callee, _l, args, _r) {
    return { kind: 'Call', callee: ast(callee), args: ast(args), span: sp(this) };
  },
  Call_generic(n, typeArgs, _sameLine, _l, args, _r) {
    const callee: A.Ident = { kind: 'Ident', name: name(n), span: sp(n) };
    return { kind: 'Call', callee, typeArgs: ast(typeArgs), args: ast(args), span: sp(this) };
  },
  callee(n, _sameLine, _paren) {
    return { kind: 'Ident', name: name(n), span: sp(n) };
  },
  Args(args, _comma) {
    return list(args);
  },
  AssocCall(type, _colons, n, _l, args, _r) {
    return { kind: 'AssocCall', type: ast(type), name: name(n), args: ast(args), span: sp(this) };
  },
  StructLit(n, typeArgs, _l, fields, _comma, _r) {
    const type: A.NamedType = { kind: 'NamedType', name: name(n), args: opt<A.TypeRef[]>(typeArgs) ?? [], span: ctx.span(n.source.startIdx, (typeArgs.children[0] ?? n).source.endIdx) };
    return { kind: 'StructLit', type, fields: list(fields), span: sp(this) };
  },
  FieldInit(n, _c, value) {
    return { name: name(n), value: ast(value), span: sp(this) };
  },
  Slice(start, _c1, end, _c2, step) {
    const [s, e, st] = [opt<A.Expr>(start), opt<A.Expr>(end), step.children[0]?.children[0] ? ast<A.Expr>(step.children[0].children[0]) : undefined];
    return { kind: 'Slice', ...(s && { start: s }), ...(e && { end: e }), ...(st && { step: st }), span: sp(this) };
  },
  Match(_kw, subject, _l, arms, _comma, _r) {
    return { kind: 'Match', subject: ast(subject), arms: list(arms), span: sp(this) };
  },
  MatchArm(pattern, _if, guard, _arrow, body) {
    const g = opt<A.Expr>(guard);
    return { kind: 'MatchArm', pattern: ast(pattern), ...(g && { guard: g }), body: ast(body), span: sp(this) };
  },
  Pattern(alts) {
    const ps = list<A.Pattern>(alts);
    return ps.length === 1 ? ps[0] : { kind: 'OrPat', alts: ps, span: sp(this) };
  },
  PatternTerm_wildcard(_u) {
    return { kind: 'WildcardPat', span: sp(this) };
  },
  PatternTerm_neg(_minus, n) {
    return { kind: 'LitPat', value: numberLit(sp(this), `-${n.sourceString}`), span: sp(this) };
  },
  PatternTerm_lit(lit) {
    return { kind: 'LitPat', value: ast(lit), span: sp(this) };
  },
  PatternTerm_tuple(_l, elems, _r) {
    return { kind: 'TuplePat', elems: list(elems), span: sp(this) };
  },
  PatternTerm_struct(type, _l, fields, _comma, _r) {
    return { kind: 'StructPat', type: ast(type), fields: list(fields), span: sp(this) };
  },
  PatternTerm_bind(n) {
    return { kind: 'BindPat', name: name(n), span: sp(this) };
  },
  FieldPattern(n, _c, pattern) {
    return { name: name(n), pattern: ast(pattern), span: sp(this) };
  },
  number(_int, _dot, _frac, _exp) {
    return numberLit(sp(this), this.sourceString);
  },
  string(_l, _chars, _r) {
    return { kind: 'Lit', type: 'string', value: decodeString(this.sourceString), span: sp(this) };
  },
  bool(_kw) {
    return { kind: 'Lit', type: 'bool', value: this.sourceString === 'true', span: sp(this) };
  },
  _iter(...children) {
    return children.map((c) => c.ast());
  },
  _terminal() {
    return this.sourceString;
  },
});

