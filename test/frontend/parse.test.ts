// The parser, one construct per row: source -> the AST it gives (compiler/ast.ts).
import assert from 'node:assert/strict';
import type * as A from '../../compiler/ast.ts';
import { parse } from '../../compiler/parse.ts';

/** An expression as a compact s-expression, so a table row reads like the tree: `(+ a (* b c))`. */
function sx(e: A.Expr | A.Slice | A.Pattern | undefined): string {
  if (!e) return '';
  const list = (xs: (A.Expr | A.Slice)[]) => xs.map(sx).join(', ');
  const type = (t: A.TypeRef): string =>
    t.kind === 'NamedType' ? t.name + (t.args.length ? `<${t.args.map(type).join(', ')}>` : '') : t.kind === 'TensorType' ? `${t.dtype}[${t.dims.join(', ')}]` : `(${t.elems.map(type).join(', ')})`;
  switch (e.kind) {
    case 'Lit': return e.type === 'string' ? JSON.stringify(e.value) : e.type === 'bool' ? String(e.value) : `${e.text}:${e.type}`;
    case 'Ident': return e.name;
    case 'Binary': return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case 'Unary': return `(${e.op} ${sx(e.operand)})`;
    case 'Cast': return `(as ${sx(e.expr)} ${e.to})`;
    case 'Call': return `${sx(e.callee)}${e.typeArgs ? `<${e.typeArgs.map(type).join(', ')}>` : ''}(${list(e.args)})`;
    case 'MethodCall': return `${sx(e.target)}.${e.name}(${list(e.args)})`;
    case 'AssocCall': return `${type(e.type)}::${e.name}(${list(e.args)})`;
    case 'Member': return `${sx(e.target)}.${e.name}`;
    case 'Index': return `${sx(e.target)}[${list(e.indices)}]`;
    case 'Slice': return `${sx(e.start)}:${sx(e.end)}${e.step ? `:${sx(e.step)}` : ''}`;
    case 'ListLit': return `[${list(e.elements)}]`;
    case 'ListRepeat': return `[${sx(e.value)}; ${sx(e.count)}]`;
    case 'TupleLit': return `(tuple ${list(e.elements)})`;
    case 'StructLit': return `${type(e.type)}{${e.fields.map((f) => `${f.name}: ${sx(f.value)}`).join(', ')}}`;
    case 'Range': return `${sx(e.start)}..${sx(e.end)}`;
    case 'IfExpr': return `(if ${sx(e.cond)} ${sx(e.then)} ${sx(e.else)})`;
    case 'Match': return `(match ${sx(e.subject)} ${e.arms.map((a) => `[${sx(a.pattern)}${a.guard ? ` if ${sx(a.guard)}` : ''} => ${sx(a.body)}]`).join(' ')})`;
    case 'WildcardPat': return '_';
    case 'LitPat': return sx(e.value);
    case 'BindPat': return `$${e.name}`;
    case 'OrPat': return e.alts.map(sx).join(' | ');
    case 'TuplePat': return `(${e.elems.map(sx).join(', ')})`;
    case 'StructPat': return `${type(e.type)}{${e.fields.map((f) => `${f.name}: ${sx(f.pattern)}`).join(', ')}}`;
  }
}

const mainBody = (src: string): A.Block => {
  const item = parse(`main {\n${src}\n}`, 't.tl').items[0];
  assert.equal(item.kind, 'MainBlock');
  return (item as A.MainBlock).body;
};

/** The value of an expression written alone in main (the block's tail). */
const expr = (src: string): A.Expr => {
  const body = mainBody(src);
  assert.equal(body.stmts.length, 0, `'${src}' should be one expression`);
  return body.tail!;
};

/** The AST without spans, for comparing with expected fragments. */
const strip = (n: unknown): unknown => JSON.parse(JSON.stringify(n, (k, v) => (k === 'span' ? undefined : v)));

/** Asserts every key of `expected` (recursively) matches `actual`; arrays must match element by element. */
function like(actual: unknown, expected: unknown, path = '$'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} should be an array`);
    assert.equal(actual.length, expected.length, `${path} length`);
    expected.forEach((e, i) => like(actual[i], e, `${path}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${path} should be an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) like((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, `${path}`);
  }
}

describe('parse: expressions', () => {
  const cases: [name: string, source: string, tree: string][] = [
    // precedence, loosest first: || && (== !=) (< <= > >=) as (+ -) (* / % @ ⊙) (** ⊗) unary
    ['|| below &&', 'a || b && c', '(|| a (&& b c))'],
    ['&& below ==', 'a && b == c', '(&& a (== b c))'],
    ['== below <', 'a == b < c', '(== a (< b c))'],
    ['< below as', 'a < b as int', '(< a (as b int))'],
    ['as below +', 'a + b as float', '(as (+ a b) float)'],
    ['+ below *', 'a + b * c', '(+ a (* b c))'],
    ['* below **', 'a * b ** c', '(* a (** b c))'],
    ['** below unary minus', '-a ** 2', '(** (- a) 2:int)'],
    ['left associative', 'a - b - c', '(- (- a b) c)'],
    ['parentheses', '(a + b) * c', '(* (+ a b) c)'],
    ['comparisons', 'a <= b != c >= d', '(!= (<= a b) (>= c d))'],
    ['% and /', 'a % b / c', '(/ (% a b) c)'],
    ['@ and ⊙ with *', 'a @ b ⊙ c * d', '(* (⊙ (@ a b) c) d)'],
    ['⊗ like **', 'a ⊗ b * c', '(* (⊗ a b) c)'],
    ['not and inv', '!a && inv m @ v', '(&& (! a) (@ (inv m) v))'],
    ['chained casts', 'x as float as int', '(as (as x float) int)'],
    // literals
    ['integer', '2', '2:int'],
    ['float', '2.0', '2.0:float'],
    ['exponent', '1e-5 + 1.5E+3', '(+ 1e-5:float 1.5E+3:float)'],
    ['negative literal', '-3', '-3:int'],
    ['negative float in a list', '[-2.5, 1.0]', '[-2.5:float, 1.0:float]'],
    ['string escapes', '"a\\tb\\n\\"q\\" \\\\"', JSON.stringify('a\tb\n"q" \\')],
    ['unicode string', '"日本語 🤖 ✓"', JSON.stringify('日本語 🤖 ✓')],
    ['unicode escape', '"\\u{1F600}"', JSON.stringify('😀')],
    ['booleans', 'true || false', '(|| true false)'],
    // calls and postfix
    ['call', 'f(a, b)', 'f(a, b)'],
    ['call without arguments', 'f()', 'f()'],
    ['trailing comma', 'f(a, b,)', 'f(a, b)'],
    ['einsum is a call', 'einsum("ihd,jhd->ihj", Q, K)', 'einsum("ihd,jhd->ihj", Q, K)'],
    ['generic call', 'tensor<float16>([1.0])', 'tensor<float16>([1.0:float])'],
    ['property chain', 'model.blk[layer_idx].attn_q.weight', 'model.blk[layer_idx].attn_q.weight'],
    ['numeric path step', 'model.blk.0.attn_norm.weight', 'model.blk.0.attn_norm.weight'],
    ['method call', 'cache.append(i, K, V)', 'cache.append(i, K, V)'],
    ['method on a literal', '"{}".format(i)', '"{}".format(i)'],
    ['method chain across lines', 'x\n  .sum()\n  .sqrt()', 'x.sum().sqrt()'],
    ['associated call', 'KVCache::new_f16(22)', 'KVCache::new_f16(22:int)'],
    ['Tensor namespace', 'Tensor::zeros([2, 3])', 'Tensor::zeros([2:int, 3:int])'],
    ['generic associated call', 'Box<float32>::new(1.0)', 'Box<float32>::new(1.0:float)'],
    // indexing and slicing
    ['index', 'x[0, 1]', 'x[0:int, 1:int]'],
    ['whole row', 'x[0, :]', 'x[0:int, :]'],
    ['range slice', 'x[1:3]', 'x[1:int:3:int]'],
    ['open slices', 'x[:, 2:]', 'x[:, 2:int:]'],
    ['slice with step', 'x[::2]', 'x[::2:int]'],
    ['nested index', 'x[i][j]', 'x[i][j]'],
    ['computed index', 'x[i * 2, j - 1]', 'x[(* i 2:int), (- j 1:int)]'],
    // lists, tuples, structs
    ['nested tensor literal', '[[1.0, 2.0], [3.0, 4.0]]', '[[1.0:float, 2.0:float], [3.0:float, 4.0:float]]'],
    ['empty list', '[]', '[]'],
    ['repeat literal', '[0.0; 64]', '[0.0:float; 64:int]'],
    ['tuple', '(a, b + 1)', '(tuple a, (+ b 1:int))'],
    ['struct literal', 'Point { x: 1.0, y: -2.0 }', 'Point{x: 1.0:float, y: -2.0:float}'],
    ['generic struct literal', 'Box<T> { value: v, }', 'Box<T>{value: v}'],
    // conditional and match
    ['if expression', 'if a > b then a else b', '(if (> a b) a b)'],
    ['match', 'match x { 1 | 2 => a, n if n > 5 => b, _ => c }', '(match x [1:int | 2:int => a] [$n if (> n 5:int) => b] [_ => c])'],
    ['match patterns', 'match p { "s" => 1, true => 2, -1 => 3, (a, _) => 4, P { x: 0 } => 5, }', '(match p ["s" => 1:int] [true => 2:int] [-1:int => 3:int] [($a, _) => 4:int] [P{x: 0:int} => 5:int])'],
  ];
  for (const [name, source, tree] of cases) {
    it(`${name}: ${source.replace(/\n/g, '⏎')}`, () => assert.equal(sx(expr(source)), tree));
  }

  it('a line that starts with ( or [ starts a new statement', () => {
    const body = mainBody('let y = f\n(a, b)\nlet z = x\n[1, 2]');
    assert.deepEqual(body.stmts.map((s) => s.kind), ['Let', 'ExprStmt', 'Let']);
    assert.equal(sx((body.stmts[0] as A.Let).init), 'f');
    assert.equal(sx(body.tail), '[1:int, 2:int]');
  });

  it('spans give file, offsets and 1-based line:col', () => {
    const e = expr('  foo(1)') as A.Call;
    assert.deepEqual(e.span, { file: 't.tl', start: 9, end: 15, line: 2, col: 3 });
    assert.deepEqual((e.args[0] as A.Lit).span, { file: 't.tl', start: 13, end: 14, line: 2, col: 7 });
  });
});

describe('parse: statements', () => {
  const cases: [name: string, source: string, stmts: unknown[]][] = [
    ['let', 'let x = 1;', [{ kind: 'Let', name: 'x', init: { kind: 'Lit', type: 'int', value: 1, text: '1' } }]],
    ['typed let', 'let n: int = 4;', [{ kind: 'Let', name: 'n', type: { kind: 'NamedType', name: 'int', args: [] } }]],
    ['tuple let', 'let (a, b) = f(x);', [{ kind: 'LetTuple', names: ['a', 'b'], init: { kind: 'Call' } }]],
    ['assignment', 'x = 2;', [{ kind: 'Assign', op: '=', target: { kind: 'Ident', name: 'x' } }]],
    ['indexed assignment', 'x[0, 1] = 2.0;', [{ kind: 'Assign', op: '=', target: { kind: 'Index' } }]],
    ['field assignment', 's.count = 3;', [{ kind: 'Assign', op: '=', target: { kind: 'Member', name: 'count' } }]],
    ['compound assignment', 'x += 1; x -= 1; x *= 2; x /= 2;', ['+=', '-=', '*=', '/='].map((op) => ({ kind: 'Assign', op }))],
    ['define or update', 'area := 3.0;', [{ kind: 'Assign', op: ':=', target: { name: 'area' } }]],
    ['if', 'if a { b() }', [{ kind: 'If', cond: { kind: 'Ident', name: 'a' }, then: { stmts: [], tail: { kind: 'Call' } } }]],
    [
      'else if chain',
      'if a { 1 } else if b { 2 } else { 3 }',
      [{ kind: 'If', else: { kind: 'If', cond: { name: 'b' }, else: { kind: 'Block', tail: { value: 3 } } } }],
    ],
    ['for over range', 'for i in range(10) { }', [{ kind: 'For', var: 'i', iter: { kind: 'Call', callee: { name: 'range' } } }]],
    ['for over range_i', 'for i in range_i(3) { }', [{ kind: 'For', iter: { kind: 'Call', callee: { name: 'range_i' } } }]],
    ['for over a..b', 'for i in 0..n { }', [{ kind: 'For', iter: { kind: 'Range', start: { value: 0 }, end: { name: 'n' } } }]],
    ['for over any iterable', 'for w in words { }', [{ kind: 'For', iter: { kind: 'Ident', name: 'words' } }]],
    ['while', 'while i < 3 { i = i + 1 }', [{ kind: 'While', cond: { kind: 'Binary', op: '<' }, body: { stmts: [{ kind: 'Assign' }] } }]],
    ['loop, break, continue', 'loop { continue; break }', [{ kind: 'Loop', body: { stmts: [{ kind: 'Continue' }, { kind: 'Break' }] } }]],
    ['return', 'return;', [{ kind: 'Return' }]],
    ['return a value', 'return x + 1;', [{ kind: 'Return', value: { kind: 'Binary' } }]],
    ['panic is a call', 'panic("bad value:", x);', [{ kind: 'ExprStmt', expr: { kind: 'Call', callee: { name: 'panic' } } }]],
    ['with', 'with Person { print(1) }', [{ kind: 'With', name: 'Person', body: { tail: { kind: 'Call' } } }]],
    ['query', 'Parent(alice, X)?', [{ kind: 'Query', atom: { kind: 'Call', callee: { name: 'Parent' }, args: [{ name: 'alice' }, { name: 'X' }] }, where: [] }]],
    ['query with where', 'Parent(X, Y)? where X != Y, Y != bob', [{ kind: 'Query', where: [{ op: '!=' }, { op: '!=' }] }]],
    ['infer one', 'infer forward Parent(a, X)?', [{ kind: 'Infer', items: [{ method: 'forward', query: { kind: 'Query' } }] }]],
    [
      'infer block',
      'infer { forward P(a)? backward Q(X)? gradient R(a, b)? symbolic S(X)? }',
      [{ kind: 'Infer', items: ['forward', 'backward', 'gradient', 'symbolic'].map((method) => ({ method })) }],
    ],
    [
      'learn with settings',
      'learn { objective: w * w, optimizer: sgd(lr: 0.1), epochs: 50 }',
      [{
        kind: 'Learn',
        settings: [
          { name: 'objective', value: { kind: 'Binary' } },
          { name: 'optimizer', value: { kind: 'Optimizer', name: 'sgd', params: [{ name: 'lr', value: { value: 0.1 } }] } },
          { name: 'epochs', value: { value: 50 } },
        ],
        body: { stmts: [] },
      }],
    ],
    [
      'learn with a loop',
      'learn { optimizer: adam(lr=0.01)\n epochs: 10\n for e in range(epochs) { backward(loss) } }',
      [{ kind: 'Learn', settings: [{ name: 'optimizer', value: { kind: 'Optimizer', name: 'adam' } }, { name: 'epochs' }], body: { stmts: [{ kind: 'For' }] } }],
    ],
    ['python import', 'python import numpy as np', [{ kind: 'PythonImport', module: 'numpy', alias: 'np' }]],
    ['python import dotted', 'python import os.path', [{ kind: 'PythonImport', module: 'os.path' }]],
    [
      'tensor declaration',
      'tensor t: float16[2, ?, n] learnable = zeros([2, 3, 4])',
      [{ kind: 'TensorDecl', name: 't', type: { kind: 'TensorType', dtype: 'float16', dims: [2, '?', 'n'], learnable: 'learnable' }, init: { kind: 'Call' } }],
    ],
    ['nested block', '{ let y = 1; }', [{ kind: 'BlockStmt', body: { stmts: [{ kind: 'Let', name: 'y' }] } }]],
    ['bench inside a block', 'bench decode { step() }', [{ kind: 'BenchBlock', name: 'decode', body: { tail: { kind: 'Call' } } }]],
    ['statements on one line with ;', 'let a = 1; let b = 2; f(a, b);', [{ kind: 'Let' }, { kind: 'Let' }, { kind: 'ExprStmt' }]],
    ['expression statement', 'cache.clear();', [{ kind: 'ExprStmt', expr: { kind: 'MethodCall', name: 'clear' } }]],
    ['fact', 'Parent(alice, bob);', [{ kind: 'ExprStmt', expr: { kind: 'Call', callee: { name: 'Parent' } } }]],
  ];
  for (const [name, source, stmts] of cases) {
    it(`${name}: ${source.replace(/\n/g, '⏎')}`, () => {
      const body = mainBody(source);
      const all = [...body.stmts, ...(body.tail ? [{ kind: 'ExprStmt', expr: body.tail }] : [])];
      like(strip(all), stmts);
    });
  }

  it('the last expression without ; is the block tail; with ; it is a statement', () => {
    const f = parse('fn f(a) {\n  let b = a * 2\n  b + 1\n}\nfn g(a) { a + 1; }', 't.tl').items as A.FnDecl[];
    assert.deepEqual(f[0].body.stmts.map((s) => s.kind), ['Let']);
    assert.equal(sx(f[0].body.tail), '(+ b 1:int)');
    assert.equal(f[1].body.tail, undefined);
    assert.deepEqual(f[1].body.stmts.map((s) => s.kind), ['ExprStmt']);
  });
});

describe('parse: declarations', () => {
  const cases: [name: string, source: string, items: unknown[]][] = [
    ['import', 'import "lib/math.tl"', [{ kind: 'Import', path: 'lib/math.tl' }]],
    ['entity', 'entity Person', [{ kind: 'EntityDecl', name: 'Person' }]],
    ['entity with members', 'entity Color = { red, green, blue }', [{ kind: 'EntityDecl', name: 'Color', members: ['red', 'green', 'blue'] }]],
    [
      'tensor with every element type',
      ['float32', 'float16', 'int16', 'int32', 'int64', 'bool', 'complex16'].map((t, i) => `tensor t${i}: ${t}[2]`).join('\n'),
      ['float32', 'float16', 'int16', 'int32', 'int64', 'bool', 'complex16'].map((dtype) => ({ kind: 'TensorDecl', type: { dtype, dims: [2] } })),
    ],
    ['frozen tensor with a value', 'tensor b: float32[3] frozen = [0.0, 0.0, 0.0]', [{ kind: 'TensorDecl', type: { learnable: 'frozen', dims: [3] }, init: { kind: 'ListLit' } }]],
    [
      'relation with embedding',
      'relation Parent(x: entity, y: Person) embed float16[32]',
      [{ kind: 'RelationDecl', name: 'Parent', params: [{ name: 'x', type: { name: 'entity' } }, { name: 'y', type: { name: 'Person' } }], embed: { dims: [32] } }],
    ],
    [
      'rule',
      'Ancestor(X, Z) <- Parent(X, Y), Ancestor(Y, Z), X != Z',
      [{ kind: 'RuleDecl', head: { kind: 'Call', callee: { name: 'Ancestor' } }, body: [{ kind: 'Call' }, { kind: 'Call' }, { kind: 'Binary', op: '!=' }] }],
    ],
    [
      'embedding',
      'embedding People {\n  entities: {alice, bob}\n  dimension: 16\n  init: xavier\n}',
      [{ kind: 'EmbeddingDecl', of: 'entities', name: 'People', members: ['alice', 'bob'], dimension: 16, init: 'xavier' }],
    ],
    [
      'relation embedding',
      'relation_embedding R { relations: all, dimension: 8 }',
      [{ kind: 'EmbeddingDecl', of: 'relations', name: 'R', members: 'all', dimension: 8 }],
    ],
    [
      'function with annotations',
      'fn f(a: float16[?, ?], b: int) -> float16[?] { a }',
      [{
        kind: 'FnDecl', name: 'f',
        params: [{ name: 'a', type: { kind: 'TensorType', dtype: 'float16', dims: ['?', '?'] } }, { name: 'b', type: { kind: 'NamedType', name: 'int' } }],
        ret: { kind: 'TensorType', dims: ['?'] }, body: { tail: { name: 'a' } },
      }],
    ],
    ['function without annotations', 'fn add(a, b) { a + b }', [{ kind: 'FnDecl', params: [{ name: 'a' }, { name: 'b' }], body: { tail: { kind: 'Binary' } } }]],
    ['parameters over several lines', 'fn f(\n  a: int,\n  b: int,\n) -> int { a }', [{ kind: 'FnDecl', params: [{ name: 'a' }, { name: 'b' }] }]],
    ['tuple return type', 'fn f() -> (float16[?, ?], int) { (x, 1) }', [{ kind: 'FnDecl', ret: { kind: 'TupleType', elems: [{ kind: 'TensorType' }, { kind: 'NamedType', name: 'int' }] } }]],
    [
      'generic struct',
      'struct Pair<A, B> { first: A, second: B learnable, w: float32[4] learnable }',
      [{ kind: 'StructDecl', name: 'Pair', typeParams: ['A', 'B'], fields: [{ name: 'first' }, { name: 'second', learnable: 'learnable' }, { name: 'w', learnable: 'learnable' }] }],
    ],
    [
      'impl with methods',
      'impl<T> Box<T> { fn new(v: T) -> Box<T> { Box<T> { value: v } } fn get(self) -> T { self.value } }',
      [{ kind: 'ImplBlock', typeParams: ['T'], target: { name: 'Box', args: [{ name: 'T' }] }, methods: [{ name: 'new' }, { name: 'get', params: [{ name: 'self' }] }] }],
    ],
    ['impl of a trait', 'impl Drop for Resource { fn drop(self) -> void { } }', [{ kind: 'ImplBlock', trait: 'Drop', target: { name: 'Resource' } }]],
    ['main, test and bench', 'main { }\ntest adds { }\nbench fast { }', [{ kind: 'MainBlock' }, { kind: 'TestBlock', name: 'adds' }, { kind: 'BenchBlock', name: 'fast' }]],
    ['global without a value', 'let model: Model', [{ kind: 'Let', name: 'model', type: { name: 'Model' } }]],
    ['script statements', 'let x = 1\nprint(x)\nx = 2', [{ kind: 'Let' }, { kind: 'ExprStmt' }, { kind: 'Assign' }]],
  ];
  for (const [name, source, items] of cases) {
    it(`${name}: ${source.split('\n')[0]}`, () => like(strip(parse(source, 't.tl').items), items));
  }

  it('ignores // and /* */ comments, a BOM and CRLF line ends', () => {
    const p = parse('\uFEFF// top\r\n/* block\r\n comment */ main { // after\r\n  let x = 1 /* inline */ + 2\r\n}\r\n', 't.tl');
    const body = (p.items[0] as A.MainBlock).body;
    assert.equal(sx((body.stmts[0] as A.Let).init), '(+ 1:int 2:int)');
    assert.equal(body.stmts[0].span.line, 4);
    assert.equal(body.stmts[0].span.col, 3);
  });

  it('keywords are whole words: names may start with one', () => {
    const body = mainBody('let letter = 1\nlet format = 2\nlet iffy = letter + format\nlet input = iffy');
    assert.deepEqual(body.stmts.map((s) => (s as A.Let).name), ['letter', 'format', 'iffy', 'input']);
  });
});
