// The leaves of the lowering, as a table: a `main` body -> the IR it lowers to, printed as `tlc ir`
// prints it (without source spans and summary lines). Number types (compiler/lower/numbers.ts),
// indexing and slicing (slicing.ts), operators on build-time, run-time and device values (operators.ts).
import assert from 'node:assert/strict';
import { compile } from '../compiler/compile.ts';
import { printIR } from '../compiler/ir-print.ts';
import { fakeModel } from './support/fake-model.ts';

const small = fakeModel({ layers: 1, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 100 });

/** The host statements and graph nodes `body` lowers to (without passes), one printed line each. */
function lowered(body: string, decls = ''): string[] {
  const ir = compile(`let model = load_model("m.gguf")\n${decls}\nmain {\n${body}\n}`, 't.tl', { model: small, noPasses: true });
  return printIR(ir).split('\n')
    .filter((l) => l.startsWith('  ') && !/^ {2}(ops|inputs):/.test(l))
    .map((l) => l.trim().replace(/ {2}@ t\.tl:\d+:\d+$/, ''));
}

/** A compile error's message, without the file position and the source line under it. */
function compileError(body: string, decls = ''): string {
  try {
    lowered(body, decls);
  } catch (e) {
    return (e as Error).message.split('\n')[0].replace(/^t\.tl:\d+:\d+: error: /, '');
  }
  return 'no error';
}

// Three rows of the embedding table: a (3, 64) tensor known at build time.
const T = 'let t = embedding(model.token_embd.weight, [1, 2, 3])';
const T_NODES = ['%0 = const [1, 2, 3] dtype=u32 (3) u32', '%1 = weight token_embd.weight F32 (100, 64) f32', '%2 = embedding(%1, %0) (3, 64) f32'];
// The same for a prompt known only at run time: a (seq, 64) tensor.
const P = 'let ids = tokenize(load_tokenizer(model), arg("p", "hi"), false)\nlet t = embedding(model.token_embd.weight, ids)';
const P_HOST = ['let _ids = tokenize(model_tokenizer(), arg(p, "hi"), false)', 'let _ids_2 = ids(_ids)'];
const P_NODES = ['%0 = ids input 0 (seq) u32', '%1 = weight token_embd.weight F32 (100, 64) f32', '%2 = embedding(%1, %0) (seq, 64) f32'];
const outs = (n: number) => Array.from({ length: n }, (_, i) => `out(graph0, ${i})`).join(', ');
const N = 'let n = arg("n", 10)'; // a run-time integer
const V = 'embedding V {\n  entities: {a, b, c}\n  dimension: 4\n  init: zeros\n}'; // a (3, 4) table

const CASES: [name: string, body: string, ir: string[], decls?: string][] = [
  // ---- numbers: integer or float, as the original types them
  ['build-time: integer / truncates, a float either side divides; a whole float result stays a float',
    'print(10 / 3, -7 / 2, 10.0 / 4, 10.0 / 5, 2.0 * 3 / 4, 3 * 2.0, -4.0 / 8, 7 % 3, 1.5 * 2)',
    ['print(3, -3, 2.5, float(2), 1.5, float(6), -0.5, 1, float(3))']],
  ['build-time: negation keeps the type; && and || fold to booleans',
    'let k = 3\nprint(-k, true && false, 1 && 0, true || false, 0 || "")',
    ['print(-3, false, false, true, false)']],
  ['a number list with a string is the host\'s + (text), not tensor arithmetic',
    'print([1.0, 2.0] + "a")',
    ['print("[1, 2]a")']],
  ['a float literal stays a float through a variable, negation and arithmetic',
    'let x = 4.0\nlet y = -x\nprint(y, x * 2, x + 1, x - 1.5, x ** 2, -2, -2.0)',
    ['print(float(-4), float(8), float(5), 2.5, float(16), -2, float(-2))']],
  ['run-time: int() and len() are integers, float() a float; an integer with a float is a float',
    `${N}\nprint(n / 2, float(n) / 2, int(n) / 2, n / 2.0, -n / 2, (n + 1) / 2, (n * 2.0) / 2, n ** 2 / 2, n / 2 / 2)`,
    ['let _n = arg(n, 10)', 'print(_n idiv 2, float(_n) / 2, int(_n) idiv 2, _n / float(2), -_n idiv 2, _n + 1 idiv 2, _n * float(2) / 2, _n ** 2 idiv 2, _n idiv 2 idiv 2)']],
  ['run-time: an argument is typed by its default; a string default leaves / to run time (div_auto)',
    `${N}\nlet f = arg("f", 1.5)\nlet s = arg("s", "x")\nprint(f / 2, s / 2, min(n, 3) / 2, max(n, f) / 2, abs(n) / 2, n % 2 / 2, int(f) / 2)`,
    ['let _n = arg(n, 10)', 'let _f = arg(f, 1.5)', 'let _s = arg(s, "x")', 'print(_f / 2, _s div_auto 2, min(_n, 3) idiv 2, max(_n, _f) / 2, abs(_n) idiv 2, _n % 2 idiv 2, int(_f) idiv 2)']],
  ['run-time: an integer or a float with an unknown is unknown; -, ⊙ and string_length keep integers',
    `${N}\nlet f = arg("f", 1.5)\nlet s = arg("s", "x")\nprint(max(f, s) / 2, max(n, s) / 2, (n - 1) / 2, (n ⊙ 2) / 2, string_length(s) / 2)`,
    ['let _n = arg(n, 10)', 'let _f = arg(f, 1.5)', 'let _s = arg(s, "x")', 'print(max(_f, _s) div_auto 2, max(_n, _s) div_auto 2, _n - 1 idiv 2, _n ⊙ 2 idiv 2, string_length(_s) idiv 2)']],
  ['run-time: a variable is typed by its let, through a chain of them',
    `${N}\nlet a = n + 1\nlet b = a * 2\nprint(b / 3)`,
    ['let _n = arg(n, 10)', 'let _a = _n + 1', 'let _b = _a * 2', 'print(_b idiv 3)']],
  ['run-time: `if c then a else b` is an integer when both are, a float when one is, unknown with a string',
    `${N}\nlet c = if n > 3 then 1 else 2\nlet d = if n > 3 then 1.0 else 2\nlet e = if n > 3 then "a" else 2\nprint(c / 2, d / 2, e / 2)`,
    ['let _n = arg(n, 10)', 'let _c = select(_n > 3, 1, 2)', 'let _d = select(_n > 3, float(1), 2)', 'let _e = select(_n > 3, "a", 2)', 'print(_c idiv 2, _d / 2, _e div_auto 2)']],
  ['run-time: / of a float is a float; other calls (str) are unknown; 0 + x and true && true fold only as they should',
    'let a = arg("a", 3)\nprint(str(a) / 2, (a / 2.0) * 2 / 2, 0 + a, true && true)',
    ['let _a = arg(a, 3)', 'print(str(_a) div_auto 2, _a / float(2) * 2 / 2, 0 + _a, true)']],
  ['run-time: dim() of a tensor carried across host steps is an integer',
    `${P}\nfor i in range(arg("k", 2)) {\n  t = t * 2.0\n}\nprint(min(len(t), arg("m", 5)) / 2)`,
    [...P_HOST, 'run graph0(seq = len(_ids_2)) ids=_ids_2', 'let t = out(graph0, 0)', 'for i in 0..arg(k, 2) {', 'run graph1() tensor=t', 't = out(graph1, 0)', '}',
      'print(min(dim(t, 0), arg(m, 5)) idiv 2)', 'outputs: 0: %2 (kept)', ...P_NODES,
      'outputs: 0: %1 (kept)', '%0 = tensor dtype=f32 (seq, 64) f32', '%1 = scale(%0) value=2 bias=0 (seq, 64) f32']],
  ['run-time: a value read back from a tensor is a float',
    `${T}\nprint(t[0, 0] / 2)`,
    ['run graph0()', 'print(out(graph0, 0) / 2)', 'outputs: 0: %2[0]', ...T_NODES]],
  ['run-time: a value read back from a u32 tensor is an integer; each graph\'s outputs are its own',
    `${T}\nlet k = argmax(t, 1)[0]\nprint(k / 2)\nlet v = embedding(model.token_embd.weight, [k])\nprint(v[0, 0] / 2)`,
    ['run graph0()', 'let _k = out(graph0, 0)', 'print(_k idiv 2)', 'let _ids = [_k]', 'run graph1() ids=_ids', 'print(out(graph1, 0) / 2)',
      'outputs: 0: %3[0]', ...T_NODES, '%3 = argmax(%2) (3) u32',
      'outputs: 0: %2[0]', '%0 = ids input 0 (1) u32', '%1 = weight token_embd.weight F32 (100, 64) f32', '%2 = embedding(%1, %0) (1, 64) f32']],
  // x = a + a + ... is x -> (+) -> ... -> a -> arg(a, 1): 31 terms take 32 steps, 32 terms 33.
  ['run-time: the compiler looks 32 steps deep for a type (31 terms)',
    `let a = arg("a", 1)\nlet x = ${new Array(31).fill('a').join(' + ')}\nprint(x / 2)`,
    ['let _a = arg(a, 1)', `let _x = ${new Array(31).fill('_a').join(' + ')}`, 'print(_x idiv 2)']],
  ['run-time: past 32 steps it stops and leaves / to run time (32 terms)',
    `let a = arg("a", 1)\nlet x = ${new Array(32).fill('a').join(' + ')}\nprint(x / 2)`,
    ['let _a = arg(a, 1)', `let _x = ${new Array(32).fill('_a').join(' + ')}`, 'print(_x div_auto 2)']],
  ['run-time: an expression deeper than 200 operators is cut into a variable first',
    `let a = arg("a", 1)\nprint(${new Array(202).fill('a').join(' + ')})`,
    ['let _a = arg(a, 1)', `let _x = ${new Array(201).fill('_a').join(' + ')}`, 'print(_x + _a)']],
  ['`false && x` and `true || x` are known without x; the others wait for it',
    'print(false && arg("a", true), true || arg("a", false), true && arg("a", false), false || arg("a", false), !true, !arg("a", true), -arg("n", 3))',
    ['print(false, true, true && arg(a, false), false || arg(a, false), false, !arg(a, true), -arg(n, 3))']],

  // ---- indexing and slicing
  ['indices and ranges with build-time bounds; x[-1] along one dim is slice_last',
    `${T}\nprint(t[1:3, 4:6], t[:, 63], t[2], t[-1], t[:, -1], t[1:], t[:2], t[-2:, 0], t[:], t[:, :], t[-1, 1:3], t[1:1])`,
    ['run graph0()', `print(${outs(12)})`, 'outputs: 0: %3, 1: %4, 2: %5, 3: %6, 4: %7, 5: %8, 6: %9, 7: %10, 8: %11, 9: %12, 10: %13, 11: %14', ...T_NODES,
      '%3 = slice(%2) starts=[1, 4] sizes=[2, 2] keep=[true, true] (2, 2) f32',
      '%4 = slice(%2) starts=[0, 63] sizes=[3, 1] keep=[true, false] (3) f32',
      '%5 = slice(%2) starts=[2, 0] sizes=[1, 64] keep=[false, true] (64) f32',
      '%6 = slice_last(%2) axis=0 (64) f32',
      '%7 = slice_last(%2) axis=1 (3) f32',
      '%8 = slice(%2) starts=[1, 0] sizes=[2, 64] keep=[true, true] (2, 64) f32',
      '%9 = slice(%2) starts=[0, 0] sizes=[2, 64] keep=[true, true] (2, 64) f32',
      '%10 = slice(%2) starts=[1, 0] sizes=[2, 1] keep=[true, false] (2) f32',
      '%11 = slice(%2) starts=[0, 0] sizes=[3, 64] keep=[true, true] (3, 64) f32', // t[:]
      '%12 = slice(%2) starts=[0, 0] sizes=[3, 64] keep=[true, true] (3, 64) f32', // t[:, :]
      '%13 = slice(%2) starts=[2, 1] sizes=[1, 2] keep=[false, true] (2) f32', // -1 with another index: a plain slice
      '%14 = slice(%2) starts=[1, 0] sizes=[0, 64] keep=[true, true] (0, 64) f32']], // empty: no rows
  ['x[-1, 0] is one element (no slice_last): the host reads element 128 = 2 × 64 + 0',
    `${T}\nprint(t[-1, 0])`,
    ['run graph0()', 'print(out(graph0, 0))', 'outputs: 0: %2[128]', ...T_NODES]],
  ['bounds known only at run time become sizes the host computes: a negative one counts from the end',
    `${P}\nlet n = len(ids)\nprint(t[-1], t[n - 1, 0], t[1:n], t[-2:], t[0:n - 1])`,
    [...P_HOST, 'let _n = len(_ids)', 'let _i = _n - 1', 'let _i_2 = _n', 'let _i_3 = _i_2 - 1', 'let _i_4 = len(_ids_2) + -2', 'let _i_5 = len(_ids_2) - _i_4',
      'run graph0(seq = len(_ids_2), i = _i, i_2 = _i_2, i_3 = _i_3, i_4 = _i_4, i_5 = _i_5) ids=_ids_2', `print(${outs(5)})`,
      'outputs: 0: %3, 1: %4[0], 2: %5, 3: %6, 4: %7', ...P_NODES,
      '%3 = slice_last(%2) axis=0 (64) f32',
      '%4 = slice(%2) starts=[i, 0] sizes=[1, 1] keep=[false, false] () f32',
      '%5 = slice(%2) starts=[1, 0] sizes=[i_3, 64] keep=[true, true] (i_3, 64) f32',
      '%6 = slice(%2) starts=[i_4, 0] sizes=[i_5, 64] keep=[true, true] (i_5, 64) f32',
      '%7 = slice(%2) starts=[0, 0] sizes=[i, 64] keep=[true, true] (i, 64) f32']],

  ['an embedding\'s row picked by a size or an integer known at run time: a slice',
    `${P}\nlet k = len(t) - 1\nlet r = arg("r", 1)\nprint(V[k], V[r])`,
    [...P_HOST, 'let _r = arg(r, 1)', 'let _i = _r', 'run graph0(seq = len(_ids_2), seq_2 = len(_ids_2) - 1, i = _i) ids=_ids_2', 'print(out(graph0, 0), out(graph0, 1))',
      'outputs: 0: %4, 1: %5', '%0 = const [0, 0, 0, 0, 0, 0, 0, 0, … 12 items] (3, 4) f32', ...P_NODES.map((l) => l.replace(/%(\d)/g, (_, d) => `%${+d + 1}`)),
      '%4 = slice(%0) starts=[seq_2, 0] sizes=[1, 4] keep=[false, true] (4) f32', '%5 = slice(%0) starts=[i, 0] sizes=[1, 4] keep=[false, true] (4) f32'], V],

  // ---- sizes known per graph call (len of a tensor with a run-time dim)
  ['arithmetic on a size: x * 1, 1 * x and x / 1 keep it; other arithmetic makes a new size (/ truncates)',
    `${P}\nlet n = len(t)\nprint(t[0:n * 1], t[0:1 * n], t[0:n / 1], t[0:n * 2], t[0:n / 2], t[0:n - 1], t[0:-(-n)], t[0:n % 2])`,
    [...P_HOST, 'run graph0(seq = len(_ids_2), seq_2 = len(_ids_2) * 2, seq_3 = int(len(_ids_2) / 2), seq_4 = len(_ids_2) - 1, seq_5 = 0 - (0 - len(_ids_2)), seq_6 = len(_ids_2) % 2) ids=_ids_2',
      `print(${outs(8)})`, 'outputs: 0: %3, 1: %4, 2: %5, 3: %6, 4: %7, 5: %8, 6: %9, 7: %10', ...P_NODES,
      ...['seq', 'seq', 'seq', 'seq_2', 'seq_3', 'seq_4', 'seq_5', 'seq_6'].map((d, i) => `%${i + 3} = slice(%2) starts=[0, 0] sizes=[${d}, 64] keep=[true, true] (${d}, 64) f32`)]],
  ['1 + n, 1 - n and 1 / n are new sizes; a size with a float is a float; a comparison or ! is no size (its type unknown)',
    `${P}\nlet n = len(t)\nprint(1 + n, 1 - n, 1 / n, 1.5 * n / 2, (n == 3) / 2, !n, min(n / 2, arg("k", 5)) / 2)`,
    [...P_HOST, 'print(1 + len(_ids_2), 1 - len(_ids_2), int(1 / len(_ids_2)), 1.5 * len(_ids_2) / 2, len(_ids_2) == 3 div_auto 2, !len(_ids_2), min(int(len(_ids_2) / 2), arg(k, 5)) idiv 2)']],
  ['a size with a float is a float, a comparison a host value; with another run-time value, a new size',
    `${P}\nlet n = len(t)\nlet m = n + 1\nprint(n * 1.5, n / 2.0, n == 3, m / 2, n % 2, n + arg("k", 1))`,
    [...P_HOST, 'print(len(_ids_2) * 1.5, len(_ids_2) / float(2), len(_ids_2) == 3, int((len(_ids_2) + 1) / 2), len(_ids_2) % 2, len(_ids_2) + arg(k, 1))']],

  // ---- operators on tensors
  ['a tensor with a build-time number is one scale-and-shift node',
    `${T}\nprint(t * 2.0, 3.0 * t, t / 4.0, t + 1.0, 1.0 + t, t - 1.0, 1.0 - t, -t, t ⊙ 2.0, 2.0 ⊙ t)`,
    ['run graph0()', `print(${outs(10)})`, 'outputs: 0: %3, 1: %4, 2: %5, 3: %6, 4: %7, 5: %8, 6: %9, 7: %10, 8: %11, 9: %12', ...T_NODES,
      ...[[2, 0], [3, 0], [0.25, 0], [1, 1], [1, 1], [1, -1], [-1, 1], [-1, 0], [2, 0], [2, 0]].map(([v, b], i) => `%${i + 3} = scale(%2) value=${v} bias=${b} (3, 64) f32`)]],
  ['a weight is a tensor: scaled and negated on the device; ! on a tensor reads it back',
    `let w = model.blk[0].attn_q.weight\n${T}\nprint(w * 2.0, -w, !t)`,
    ['run graph0()', 'print(out(graph0, 1), out(graph0, 2), !out(graph0, 0))', 'outputs: 0: %2, 1: %4, 2: %5', ...T_NODES,
      '%3 = weight blk.0.attn_q.weight F32 (64, 64) f32', '%4 = scale(%3) value=2 bias=0 (64, 64) f32', '%5 = scale(%3) value=-1 bias=0 (64, 64) f32']],
  ['two tensors: elementwise binary nodes; a number over a tensor divides elementwise',
    `${T}\nprint(t + t, t - t, t * t, t / t, t ⊙ t, 2.0 / t)`,
    ['run graph0()', `print(${outs(6)})`, 'outputs: 0: %3, 1: %4, 2: %5, 3: %6, 4: %7, 5: %9', ...T_NODES,
      ...['add', 'sub', 'mul', 'div', 'mul'].map((fn, i) => `%${i + 3} = binary(%2, %2) ${fn} (3, 64) f32`),
      '%8 = const [2] () f32', '%9 = binary(%8, %2) div (3, 64) f32']],
  ['number lists are tensors: with a number, a list or a run-time scalar inside',
    'let n = arg("n", 2.0)\nprint([1.0, 2.0] + 1.0, [1.0, 2.0] * [3.0, 4.0], 2.0 - [1.0, 2.0], [n, 1.0] + 1.0, [1.0, 2.0] * n)',
    ['let _n = float(arg(n, 2))', 'let _x = _n', 'run graph0() scalar=_x', 'print(out(graph0, 0), out(graph0, 1), out(graph0, 2), out(graph0, 3), [1, 2] * _n)',
      'outputs: 0: %1, 1: %3, 2: %4, 3: %10',
      '%0 = const [1, 2] (2) f32', '%1 = scale(%0) value=1 bias=1 (2) f32', '%2 = const [3, 4] (2) f32', '%3 = binary(%0, %2) mul (2) f32',
      '%4 = scale(%0) value=-1 bias=2 (2) f32', '%5 = scalar input 0 () f32', '%6 = const [1] () f32', '%7 = reshape(%5) (1) f32',
      '%8 = reshape(%6) (1) f32', '%9 = concat(%7, %8) axis=0 (2) f32', '%10 = scale(%9) value=1 bias=1 (2) f32']],
  ['@: matrix by vector, vector by vector, matrix by matrix, by a weight, by a transposed weight (linear)',
    `${T}\nlet v = t[0]\nlet m = t[0:2, 0:2]\nprint(t @ v, v @ v, m @ m, m @ m[0], t @ model.blk[0].attn_q.weight, t @ transpose(model.blk[0].attn_k.weight))`,
    ['run graph0()', `print(${outs(6)})`, 'outputs: 0: %5, 1: %6[0], 2: %7, 3: %9, 4: %11, 5: %14', ...T_NODES,
      '%3 = slice(%2) starts=[0, 0] sizes=[1, 64] keep=[false, true] (64) f32',
      '%4 = slice(%2) starts=[0, 0] sizes=[2, 2] keep=[true, true] (2, 2) f32',
      '%5 = einsum(%2, %3) "ij,j->i" (3) f32',
      '%6 = einsum(%3, %3) "j,j->" () f32',
      '%7 = einsum(%4, %4) "ij,jk->ik" (2, 2) f32',
      '%8 = slice(%4) starts=[0, 0] sizes=[1, 2] keep=[false, true] (2) f32',
      '%9 = einsum(%4, %8) "ij,j->i" (2) f32',
      '%10 = weight blk.0.attn_q.weight F32 (64, 64) f32',
      '%11 = einsum(%2, %10) "ij,jk->ik" (3, 64) f32',
      '%12 = weight blk.0.attn_k.weight F32 (32, 64) f32',
      '%13 = transpose(%12) perm=[1, 0] (64, 32) f32', // left for the passes to remove
      '%14 = linear(%2, %12) (3, 32) f32']],
  ['@ of a vector by a matrix',
    `${T}\nlet m = t[0:2, 0:2]\nprint(m[0] @ m)`,
    ['run graph0()', 'print(out(graph0, 0))', 'outputs: 0: %5', ...T_NODES,
      '%3 = slice(%2) starts=[0, 0] sizes=[2, 2] keep=[true, true] (2, 2) f32',
      '%4 = slice(%3) starts=[0, 0] sizes=[1, 2] keep=[false, true] (2) f32',
      '%5 = einsum(%4, %3) "j,jk->k" (2) f32']],
  ['@ of a 3-D tensor: by a vector, by a matrix',
    `${T}\nlet c = reshape(t, [1, 3, 64])\nprint(c @ t[0], c @ reshape(t, [64, 3]))`,
    ['run graph0()', 'print(out(graph0, 0), out(graph0, 1))', 'outputs: 0: %5, 1: %7', ...T_NODES,
      '%3 = reshape(%2) (1, 3, 64) f32',
      '%4 = slice(%2) starts=[0, 0] sizes=[1, 64] keep=[false, true] (64) f32',
      '%5 = einsum(%3, %4) "bij,j->bi" (1, 3) f32',
      '%6 = reshape(%2) (64, 3) f32',
      '%7 = einsum(%3, %6) "bij,jk->bik" (1, 3, 3) f32']],
  ['a comparison or logic with a device scalar (a sampled token vs EOS) reads it back: a host question',
    `${T}\nlet k = argmax(t[0])\nprint(k == 2, k != 2, k < 2, k <= 2, k > 2, k >= 2, k && true, k || false)`,
    ['run graph0()', `print(${['== 2', '!= 2', '< 2', '<= 2', '> 2', '>= 2', '&& true', '|| false'].map((c) => `out(graph0, 0) ${c}`).join(', ')})`,
      'outputs: 0: %4[0]', ...T_NODES, '%3 = slice(%2) starts=[0, 0] sizes=[1, 64] keep=[false, true] (64) f32', '%4 = argmax(%3) flat=true () u32']],
  ['a comparison or logic with a value read back from a tensor is a host question',
    `${T}\nprint(t[0, 0] == 2.0, t[0, 0] > 1.0, t[0, 0] && true)`,
    ['run graph0()', 'print(out(graph0, 0) == float(2), out(graph0, 0) > float(1), out(graph0, 0) && true)', 'outputs: 0: %2[0]', ...T_NODES]],
];

const ERRORS: [name: string, body: string, message: string, decls?: string][] = [
  ['a slice past the end', `${T}\nprint(t[0:4])`, 'the slice 0:4 is out of range for a dimension of size 3'],
  ['a slice that ends before it starts', `${T}\nprint(t[2:1])`, 'the slice 2:1 is out of range for a dimension of size 3'],
  ['a slice that starts before 0 (counted from the end)', `${T}\nprint(t[-4:])`, 'the slice -1:3 is out of range for a dimension of size 3'],
  ['more indices than dims', `${T}\nprint(t[0, 0, 0])`, 'a tensor of shape [3, 64] takes at most 2 indices, got 3'],
  ['an embedding\'s row by a value of unknown type known only at run time', 'let r = arg("r", "b")\nprint(V[r])',
    '\'r\' is known only at run time: an embedding\'s row is picked by a member\'s name known at build time, or an integer', V],
  ['a fractional index', `${T}\nprint(t[1.5])`, 'an index must be a whole number, got the number 1.5'],
  ['a string index', `${T}\nprint(t["a"])`, 'an index must be a whole number, got the string "a"'],
  ['@ by a scalar', `${T}\nprint(t @ t[0, 0])`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 2-D @ 0-D'],
  ['@ of a scalar by a vector', `${T}\nprint(sum(t) @ t[0])`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 0-D @ 1-D'],
  ['@ of a scalar by a matrix', `${T}\nprint(sum(t) @ t[0:2, 0:2])`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 0-D @ 2-D'],
  ['@ of a 4-D tensor by a matrix', `${T}\nprint(reshape(t, [1, 1, 3, 64]) @ t[0:2, 0:2])`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 4-D @ 2-D'],
  ['@ of a 4-D tensor', `${T}\nprint(reshape(t, [1, 1, 3, 64]) @ t[0])`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 4-D @ 1-D'],
  ['@ by a 3-D tensor', `${T}\nprint(t @ reshape(t, [1, 64, 3]))`, '@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got 2-D @ 3-D'],
  ['% on tensors', `${T}\nprint(t % t)`, 'operator % on tensors cannot be compiled yet'],
  ['% of a tensor by a number', `${T}\nprint(t % 2.0)`, 'operator % on tensors cannot be compiled yet'],
  ['negating a string', 'print(-"a")', 'cannot negate the string "a"'],
  ['a matrix inverse', 'print(inv(2.0))', 'matrix inverse (inv) cannot be compiled to WebGPU yet'],
  ['dividing by zero at build time', 'print(1 / 0)', 'division by zero: 1 / 0'],
  ['an operator that does not apply', 'print("a" - 1)', 'operator - does not apply to the string "a" and the number 1'],
];

describe('lowering values: body -> IR', () => {
  for (const [name, body, ir, decls] of CASES) it(name, () => assert.deepEqual(lowered(body, decls), ir));
  describe('errors', () => {
    for (const [name, body, message, decls] of ERRORS) it(name, () => assert.equal(compileError(body, decls), message));
  });
});
