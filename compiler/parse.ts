// Source text -> AST (compiler/ast.ts). The grammar is grammar/tensorlogic.ohm; every semantic action is here.
import * as ohm from 'ohm-js';
import { GRAMMAR_SOURCE } from '../grammar/source.ts';
import type * as A from './ast.ts';
import { DiagnosticError, spanner } from './diagnostics.ts';

const grammar = ohm.grammar(GRAMMAR_SOURCE);

/** Parses one TensorLogic source file. Throws DiagnosticError (with file:line:col) on a syntax error. */
export function parse(source: string, file: string): A.Program {
  const text = source.replace(/^\uFEFF/, ''); // a BOM is not part of the program
  const match = grammar.match(text);
  if (match.failed()) throw syntaxError(match, text, file);
  ctx = { span: spanner(text, file), text, file };
  return semantics(match).ast() as A.Program;
}

// ---------------------------------------------------------------------------------------------
// Syntax errors in plain words

/**
 * Ohm reports the tokens it would have accepted. These groups turn them into what a user thinks of:
 * when at least half of a group's tokens were expected, its word replaces them and what it absorbs.
 */
const TOKEN_GROUPS: { word: string; tokens: string[]; absorbs?: string[] }[] = [
  {
    word: 'a type',
    tokens: ["'float32'", "'float16'", "'int16'", "'int32'", "'int64'", "'bool'", "'complex16'"],
    absorbs: ['an identifier', "'('"],
  },
  {
    word: 'a declaration',
    tokens: ["'import'", "'entity'", "'embedding'", "'relation_embedding'", "'relation'", "'tensor'", "'fn'", "'struct'", "'impl'", "'main'", "'test'", "'bench'"],
  },
  {
    word: 'a statement',
    tokens: ["'let'", "'for'", "'while'", "'loop'", "'break'", "'continue'", "'return'", "'with'", "'infer'", "'learn'", "'python'", "'tensor'", "'test'", "'bench'"],
    absorbs: ["'{'"], // a nested block is a statement too
  },
  {
    word: 'an expression',
    tokens: ["'('", "'['", "'-'", "'!'", "'inv'", "'if'", "'match'", 'an identifier', 'a number', 'a string', "'true'", "'false'"],
  },
];

/** Tokens that would only have continued what came before (`x` + `.field`): noise when anything else was expected. */
const CONTINUATIONS = new Set(['an operator', "'.'", "'['", "'as'", "'?'", "'<-'", "'<'", "'='", "':='", "'+='", "'-='", "'*='", "'/='", "';'", "'..'", "'learnable'", "'frozen'", "'::'", "'then'"]);

function expectedWords(failures: { getText(): string; getType(): string; isFluffy(): boolean }[]): string[] {
  const word = (f: { getText(): string; getType(): string }) => {
    const text = f.getText();
    if (f.getType() === 'description') return text === 'end of input' ? 'the end of the file' : text;
    return f.getType() === 'string' ? `'${text}'` : undefined;
  };
  // Ohm calls a failure fluffy when an iteration (`Stmt*`) stopped there: not worth listing one by one,
  // but it still says what kind of thing could have come next ("a statement").
  const words = new Set(failures.filter((f) => !f.isFluffy()).map(word).filter((w) => w !== undefined));
  const all = new Set(failures.map(word).filter((w) => w !== undefined));
  const concepts: string[] = [];
  for (const { word, tokens, absorbs = [] } of TOKEN_GROUPS) {
    if (tokens.filter((t) => all.has(t)).length >= tokens.length / 2) {
      concepts.push(word);
      for (const t of [...tokens, ...absorbs]) words.delete(t);
    }
  }
  if (words.has('a field or method name')) words.delete('an identifier');
  // Where a statement may come, so may an expression: say only the broader word.
  const said = concepts.includes('a statement') ? concepts.filter((c) => c !== 'an expression') : concepts;
  const rest = [...words];
  const kept = rest.filter((w) => !CONTINUATIONS.has(w));
  // Closing brackets and separators first: they are what is most often missing.
  return [...(kept.length || said.length ? kept : rest), ...said];
}

function syntaxError(match: ohm.MatchResult, text: string, file: string): DiagnosticError {
  const failed = match as ohm.FailedMatchResult & {
    getRightmostFailures(): { getText(): string; getType(): string; isFluffy(): boolean }[];
  };
  const pos = failed.getRightmostFailurePosition();
  const words = expectedWords(failed.getRightmostFailures());
  const expected = words.length === 0 ? 'something else' : joinOr(words);

  // When the failure is on a later line than the token before it, point just after that token:
  // that is where the missing piece belongs (`let x =` at the end of a line).
  const prevEnd = lastTokenEnd(text, pos);
  const at = text.slice(prevEnd, pos).includes('\n') ? prevEnd + (/[ \t]/.test(text[prevEnd]) ? 1 : 0) : pos;
  const prev = tokenBefore(text, prevEnd);
  // A stray closing bracket on the same line, or one at the top level: point at it.
  const stray = at === pos || words.includes('the end of the file');
  const closer = stray && ')]}'.includes(text[pos] ?? '') && !words.includes(`'${text[pos]}'`) ? text[pos] : undefined;
  let message = `expected ${expected}${prev ? ` after ${prev}` : ''}`;
  let span = spanner(text, file)(at, at + 1);
  if (text.startsWith('"', pos) && !text.slice(pos + 1).split('\n')[0].includes('"')) message = 'unterminated string';
  else if (pos >= text.length) message = `unexpected end of file: ${message}`;
  else if (closer) {
    message = `unexpected '${closer}': expected ${expected}`;
    span = spanner(text, file)(pos, pos + 1);
  }
  return new DiagnosticError([{ message, span }], text);
}

/** The offset just past the last token (not space, not comment) that starts before `pos`. */
function lastTokenEnd(text: string, pos: number): number {
  let last = 0;
  for (let i = 0; i < pos; ) {
    if (text.startsWith('//', i)) i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i + 2) === -1 ? text.length : text.indexOf('*/', i + 2) + 2;
    else if (/\s/.test(text[i])) i++;
    else if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = last = Math.min(j + 1, text.length);
    } else last = ++i;
  }
  return Math.min(last, pos);
}

function joinOr(words: string[]): string {
  if (words.length <= 2) return words.join(' or ');
  return `${words.slice(0, -1).join(', ')}, or ${words[words.length - 1]}`;
}

/** The token that ends at `end`, quoted for a message: `'='`, `'print'`, `a string`. */
function tokenBefore(text: string, end: number): string | undefined {
  if (end === 0) return undefined;
  if (text[end - 1] === '"') return 'a string';
  const word = /[\p{L}\p{N}_.]+$/u.exec(text.slice(Math.max(0, end - 64), end));
  if (word && /[\p{L}\p{N}_]$/u.test(word[0])) {
    const w = word[0].replace(/^.*\./, ''); // `model.blk` -> 'blk'
    return `'${w || word[0]}'`;
  }
  const two = text.slice(Math.max(0, end - 2), end);
  if (['==', '!=', '<=', '>=', '&&', '||', '->', '<-', '=>', '::', ':=', '**', '+=', '-=', '*=', '/='].includes(two)) {
    return `'${two}'`;
  }
  return `'${text[end - 1]}'`;
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

/** Binding strength of each binary operator (higher binds tighter); `as` sits between comparisons and `+`. */
export const BINARY_PRECEDENCE: Record<A.BinaryOp | 'as', number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, as: 5,
  '+': 6, '-': 6, '*': 7, '/': 7, '%': 7, '@': 7, '⊙': 7, '**': 8, '⊗': 8,
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

function decodeString(raw: string): string {
  return raw.slice(1, -1).replace(/\\(u\{[0-9a-fA-F]+\}|.)/gsu, (all, c: string) => {
    if (c.startsWith('u{')) return String.fromCodePoint(parseInt(c.slice(2, -1), 16));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };
    return simple[c] ?? all; // an unknown escape stays as written
  });
}

function numberLit(n: N, text: string): A.IntLit | A.FloatLit {
  const isInt = /^-?\d+$/.test(text);
  return { kind: 'Lit', type: isInt ? 'int' : 'float', value: Number(text), text, span: sp(n) };
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
      return numberLit(this, `-${o.text}`);
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
    return { kind: 'LitPat', value: numberLit(this, `-${n.sourceString}`), span: sp(this) };
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
    return numberLit(this, this.sourceString);
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
