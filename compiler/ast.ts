// The typed syntax tree of a TensorLogic program, as compiler/parse.ts builds it.
//
// Every node is a plain object with a `kind` tag (switch on it) and a `span` that locates it in the
// source. Parentheses leave no node; a negative number literal (`-2.0`) is one Lit. Nothing here is
// resolved or typed yet: names are strings, and compiler/check.ts decides what they refer to.

/** Where a node sits in its source: offsets into the text and the 1-based line:col of `start`. */
export interface Span {
  file: string;
  start: number; // offset of the first character
  end: number; // offset just past the last character
  line: number; // 1-based
  col: number; // 1-based, in UTF-16 code units like the offsets
}

// ---------------------------------------------------------------------------------------------
// Types, as written in annotations

export type DType = 'float32' | 'float16' | 'int16' | 'int32' | 'int64' | 'bool' | 'complex16';

/** One dimension of a tensor type: a size (`2048`), a named size (`n`), or `'?'` for unknown. */
export type Dim = number | string;

/** `float16[?, n, 64]`, optionally followed by `learnable` or `frozen`. */
export interface TensorType {
  kind: 'TensorType';
  dtype: DType;
  dims: Dim[];
  learnable?: 'learnable' | 'frozen';
  span: Span;
}

/** Every other type by name: `int`, `float`, `string`, `void`, `float16` (a scalar), `Point`, `Box<T>`, `entity`. */
export interface NamedType {
  kind: 'NamedType';
  name: string;
  args: TypeRef[]; // generic arguments, [] when none
  span: Span;
}

/** `(float16[?, ?], float16[?, ?, ?])`, a function returning several values. */
export interface TupleType {
  kind: 'TupleType';
  elems: TypeRef[];
  span: Span;
}

export type TypeRef = TensorType | NamedType | TupleType;

// ---------------------------------------------------------------------------------------------
// The program and its top-level items

export interface Program {
  kind: 'Program';
  file: string;
  items: Item[]; // in source order; `main`, tests and benches are items too
  span: Span;
}

/** What a file holds at its top level: declarations, and statements that run in order (scripts). */
export type Item = Decl | Stmt;

export type Decl =
  | Import
  | EntityDecl
  | TensorDecl
  | RelationDecl
  | RuleDecl
  | EmbeddingDecl
  | FnDecl
  | StructDecl
  | ImplBlock
  | MainBlock
  | TestBlock
  | BenchBlock;

/** `import "lib.tl"` */
export interface Import {
  kind: 'Import';
  path: string;
  span: Span;
}

/** `entity Person` or `entity Color = { red, green }` */
export interface EntityDecl {
  kind: 'EntityDecl';
  name: string;
  members?: string[];
  span: Span;
}

/** `tensor w: float16[2, 3] learnable = ...` (also a statement). */
export interface TensorDecl {
  kind: 'TensorDecl';
  name: string;
  type: TensorType;
  init?: Expr;
  span: Span;
}

/** `relation Parent(x: entity, y: entity) embed float16[32]` */
export interface RelationDecl {
  kind: 'RelationDecl';
  name: string;
  params: Param[];
  embed?: TensorType;
  span: Span;
}

/** `Ancestor(X, Z) <- Parent(X, Y), Ancestor(Y, Z)`: the head and body terms are atoms (Calls) or conditions. */
export interface RuleDecl {
  kind: 'RuleDecl';
  head: Expr;
  body: Expr[];
  span: Span;
}

/**
 * `embedding E { entities: {a, b} dimension: 16 init: xavier }` (of: 'entities') and
 * `relation_embedding R { relations: all dimension: 8 }` (of: 'relations').
 */
export interface EmbeddingDecl {
  kind: 'EmbeddingDecl';
  of: 'entities' | 'relations';
  name: string;
  members: string[] | string; // an explicit `{a, b}` list, or a set's name: `auto`, `all`, an entity type
  dimension: number;
  init?: string; // random | xavier | he | zeros | ones
  span: Span;
}

/** `fn name(a: float16[?, ?], b: int) -> float16[?] { ... }`; also a method in an `impl`. */
export interface FnDecl {
  kind: 'FnDecl';
  name: string;
  params: Param[]; // a method's `self` is a Param named 'self' without a type
  ret?: TypeRef;
  body: Block; // its `tail`, when present, is the returned value
  span: Span;
}

export interface Param {
  kind: 'Param';
  name: string;
  type?: TypeRef;
  span: Span;
}

/** `struct Box<T> { value: T, w: float16[4] learnable }` */
export interface StructDecl {
  kind: 'StructDecl';
  name: string;
  typeParams: string[];
  fields: Field[];
  span: Span;
}

export interface Field {
  kind: 'Field';
  name: string;
  type: TypeRef;
  learnable?: 'learnable' | 'frozen'; // written after the type: `w: float16[4] learnable`, `w: W learnable`
  span: Span;
}

/** `impl<T> Box<T> { fn ... }` or `impl Drop for Resource { ... }` */
export interface ImplBlock {
  kind: 'ImplBlock';
  typeParams: string[];
  trait?: string;
  target: NamedType;
  methods: FnDecl[];
  span: Span;
}

export interface MainBlock {
  kind: 'MainBlock';
  body: Block;
  span: Span;
}

/** `test name { ... }` */
export interface TestBlock {
  kind: 'TestBlock';
  name: string;
  body: Block;
  span: Span;
}

/** `bench name { ... }` */
export interface BenchBlock {
  kind: 'BenchBlock';
  name: string;
  body: Block;
  span: Span;
}

// ---------------------------------------------------------------------------------------------
// Statements

/**
 * `{ stmts... tail }`. When the last statement is an expression with no `;` after it, it is the
 * block's value and is kept in `tail` instead of `stmts` (a function returns it; elsewhere it is
 * evaluated like any other statement).
 */
export interface Block {
  kind: 'Block';
  stmts: Stmt[];
  tail?: Expr;
  span: Span;
}

export type Stmt =
  | Let
  | LetTuple
  | Assign
  | If
  | For
  | While
  | Loop
  | Break
  | Continue
  | Return
  | With
  | Query
  | Infer
  | Learn
  | PythonImport
  | TensorDecl
  | RuleDecl
  | TestBlock // also inside a block: `bench decode { ... }` in main times that part
  | BenchBlock
  | BlockStmt
  | ExprStmt;

/** `let x = e`, `let x: int = e`; at the top level the value may be left out: `let model: Model`. */
export interface Let {
  kind: 'Let';
  name: string;
  type?: TypeRef;
  init?: Expr; // absent only at the top level
  span: Span;
}

/** `let (a, b) = f(x)`: unpacks a tuple. */
export interface LetTuple {
  kind: 'LetTuple';
  names: string[];
  init: Expr;
  span: Span;
}

/**
 * `x = e`, `x[i, j] = e`, `s.field = e`, `x += e`. `:=` defines `x` when no variable of that name is
 * in scope and assigns it otherwise.
 */
export interface Assign {
  kind: 'Assign';
  op: '=' | ':=' | '+=' | '-=' | '*=' | '/=';
  target: Ident | Index | Member;
  value: Expr;
  span: Span;
}

/** `if c { } else if d { } else { }`: an `else if` is an If in `else`. */
export interface If {
  kind: 'If';
  cond: Expr;
  then: Block;
  else?: Block | If;
  span: Span;
}

/** `for i in range(n) { }`; `iter` is any expression: range(n), range_i(n), a Range `0..n`, a list, an entity type. */
export interface For {
  kind: 'For';
  var: string;
  iter: Expr;
  body: Block;
  span: Span;
}

export interface While {
  kind: 'While';
  cond: Expr;
  body: Block;
  span: Span;
}

export interface Loop {
  kind: 'Loop';
  body: Block;
  span: Span;
}

export interface Break {
  kind: 'Break';
  span: Span;
}

export interface Continue {
  kind: 'Continue';
  span: Span;
}

export interface Return {
  kind: 'Return';
  value?: Expr;
  span: Span;
}

/** `with Person { ... }`: a block in the scope of an entity type. */
export interface With {
  kind: 'With';
  name: string;
  body: Block;
  span: Span;
}

/** `Parent(alice, X)?` or `Parent(X, Y)? where X != Y` */
export interface Query {
  kind: 'Query';
  atom: Call;
  where: Expr[];
  span: Span;
}

/** `infer forward Parent(a, X)?` or `infer { forward ...? backward ...? }` */
export interface Infer {
  kind: 'Infer';
  items: { method: 'forward' | 'backward' | 'gradient' | 'symbolic'; query: Query }[];
  span: Span;
}

/**
 * `learn { optimizer: sgd(lr=0.01) epochs: 100 for epoch in range(epochs) { ... } }`.
 * Settings (`name: value`) and statements may come in any order; settings are visible to the statements.
 */
export interface Learn {
  kind: 'Learn';
  settings: LearnSetting[];
  body: Block;
  span: Span;
}

export interface LearnSetting {
  kind: 'LearnSetting';
  name: string; // objective, optimizer, epochs, scheduler, dropout, clip_grad_norm, ...
  value: Expr | Optimizer;
  span: Span;
}

/** `sgd(lr=0.01, momentum=0.9)` or `adam(lr: 0.1)` as the value of an `optimizer:`/`scheduler:` setting. */
export interface Optimizer {
  kind: 'Optimizer';
  name: string;
  params: { name: string; value: Expr; span: Span }[];
  span: Span;
}

/** `python import numpy as np` (parsed; nothing runs Python). */
export interface PythonImport {
  kind: 'PythonImport';
  module: string; // dotted: `os.path`
  alias?: string;
  span: Span;
}

/** A nested `{ ... }` block: its own scope. */
export interface BlockStmt {
  kind: 'BlockStmt';
  body: Block;
  span: Span;
}

export interface ExprStmt {
  kind: 'ExprStmt';
  expr: Expr;
  span: Span;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | Lit
  | Ident
  | ListLit
  | ListRepeat
  | TupleLit
  | StructLit
  | Member
  | Index
  | Call
  | MethodCall
  | AssocCall
  | Binary
  | Unary
  | Cast
  | Range
  | IfExpr
  | Match;

/** A literal. `type` keeps how a number was written: `2` is 'int', `2.0` and `1e-5` are 'float'. */
export type Lit = IntLit | FloatLit | StrLit | BoolLit;

export interface IntLit {
  kind: 'Lit';
  type: 'int';
  value: number;
  text: string; // as written, e.g. '-3'
  span: Span;
}

export interface FloatLit {
  kind: 'Lit';
  type: 'float';
  value: number;
  text: string; // as written, e.g. '2048.0', '1e-5'
  span: Span;
}

export interface StrLit {
  kind: 'Lit';
  type: 'string';
  value: string; // escapes decoded
  span: Span;
}

export interface BoolLit {
  kind: 'Lit';
  type: 'bool';
  value: boolean;
  span: Span;
}

export interface Ident {
  kind: 'Ident';
  name: string;
  span: Span;
}

/** `[a, b, c]`, nested for tensors: `[[1.0, 2.0], [3.0, 4.0]]` */
export interface ListLit {
  kind: 'ListLit';
  elements: Expr[];
  span: Span;
}

/** `[0.0; 64]`: `count` copies of `value`. */
export interface ListRepeat {
  kind: 'ListRepeat';
  value: Expr;
  count: Expr;
  span: Span;
}

/** `(a, b)`: several values returned at once. */
export interface TupleLit {
  kind: 'TupleLit';
  elements: Expr[];
  span: Span;
}

/** `Point { x: 1.0, y: 2.0 }` or `Box<T> { value: v }` */
export interface StructLit {
  kind: 'StructLit';
  type: NamedType;
  fields: { name: string; value: Expr; span: Span }[];
  span: Span;
}

/** `model.blk`, `s.field`, and the numeric path step in `model.blk.0.attn_norm` (name '0'). */
export interface Member {
  kind: 'Member';
  target: Expr;
  name: string;
  span: Span;
}

/** `x[0, :]`, `x[1:3]`, `E[alice]`; `x[i][j]` is an Index of an Index. */
export interface Index {
  kind: 'Index';
  target: Expr;
  indices: (Expr | Slice)[];
  span: Span;
}

/** `a:b`, `:b`, `a:`, `:`, `a:b:step` inside an index. */
export interface Slice {
  kind: 'Slice';
  start?: Expr;
  end?: Expr;
  step?: Expr;
  span: Span;
}

/** `f(a, b)`: builtins, user functions, relation atoms (`Parent(a, X)`), and `einsum("ij,jk->ik", A, B)`. */
export interface Call {
  kind: 'Call';
  callee: Expr; // an Ident, in every program the grammar accepts
  typeArgs?: TypeRef[]; // `tensor<float16>([1.0, 2.0])`
  args: Expr[];
  span: Span;
}

/** `cache.append(i, K, V)`: not checked against the builtin table. */
export interface MethodCall {
  kind: 'MethodCall';
  target: Expr;
  name: string;
  args: Expr[];
  span: Span;
}

/** `KVCache::new_f16(22)`, `Tensor::zeros(...)`, `Box<float32>::new(1.0)` */
export interface AssocCall {
  kind: 'AssocCall';
  type: NamedType;
  name: string;
  args: Expr[];
  span: Span;
}

export type BinaryOp =
  | '||' | '&&'
  | '==' | '!='
  | '<' | '<=' | '>' | '>='
  | '+' | '-'
  | '*' | '/' | '%' | '@' | '⊙'
  | '**' | '⊗';

/** Every binary operator is left-associative; precedence (lowest first) is the order of BinaryOp. */
export interface Binary {
  kind: 'Binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
  span: Span;
}

/** `-x`, `!b`, `inv M` (matrix inverse) */
export interface Unary {
  kind: 'Unary';
  op: '-' | '!' | 'inv';
  operand: Expr;
  span: Span;
}

/** `x as int`: binds looser than + and tighter than comparisons. */
export interface Cast {
  kind: 'Cast';
  expr: Expr;
  to: string; // int, float, f32, f64, i32, i64, float16, ...
  span: Span;
}

/** `0..n` (end excluded), as in `for i in 0..5`. */
export interface Range {
  kind: 'Range';
  start: Expr;
  end: Expr;
  span: Span;
}

/** `if c then a else b` */
export interface IfExpr {
  kind: 'IfExpr';
  cond: Expr;
  then: Expr;
  else: Expr;
  span: Span;
}

/** `match x { 1 | 2 => a, n if n > 5 => b, _ => c }` */
export interface Match {
  kind: 'Match';
  subject: Expr;
  arms: MatchArm[];
  span: Span;
}

export interface MatchArm {
  kind: 'MatchArm';
  pattern: Pattern;
  guard?: Expr;
  body: Expr;
  span: Span;
}

export type Pattern = WildcardPat | LitPat | BindPat | OrPat | TuplePat | StructPat;

/** `_` */
export interface WildcardPat {
  kind: 'WildcardPat';
  span: Span;
}

/** `1`, `-2.5`, `"hello"`, `true` */
export interface LitPat {
  kind: 'LitPat';
  value: Lit;
  span: Span;
}

/** `n`: matches anything and names it. */
export interface BindPat {
  kind: 'BindPat';
  name: string;
  span: Span;
}

/** `1 | 2 | 3` */
export interface OrPat {
  kind: 'OrPat';
  alts: Pattern[];
  span: Span;
}

/** `(a, _)` */
export interface TuplePat {
  kind: 'TuplePat';
  elems: Pattern[];
  span: Span;
}

/** `Point { x: 0, y: n }` */
export interface StructPat {
  kind: 'StructPat';
  type: NamedType;
  fields: { name: string; pattern: Pattern; span: Span }[];
  span: Span;
}

/** Every kind of node, for generic walkers. */
export type Node =
  | Program | Decl | Stmt | Expr | TypeRef | Param | Field | Block | Slice
  | LearnSetting | Optimizer | MatchArm | Pattern;
