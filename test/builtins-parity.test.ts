// Parity with the original TensorLogic interpreter: numbers typed as it types them, and its
// builtins, each a program run on the test adapter (a small synthetic model is loaded; these
// programs do not use it) against the output the original's rules give. Then docs/builtins.md
// against the list of the original's builtins (test/reference/original-builtins.txt).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { runProgram } from './support/program.ts';
import { compile } from '../compiler/compile.ts';
import { BUILTINS as LOWERED } from '../compiler/lower/builtins.ts';
import { builtin } from '../compiler/builtins.ts';
import type { HostValue } from '../compiler/ir.ts';

const model = synthLlama({ type: T.F32, embd: 64, heads: 4, kvHeads: 2, layers: 1, seed: 5 });

/** Each printed line: text to match exactly, or numbers to match within 1e-5 (f32 on the GPU). */
type Line = string | number[];

interface Case {
  name: string;
  body: string; // the inside of main { }
  out: Line[];
  args?: Record<string, HostValue>;
}

const NUMBERS: Case[] = [
  { name: "the original's own expectation: 10 / 3 == 3", body: 'assert(10 / 3 == 3)\nprint(10 / 3 == 3, 10 / 3)', out: ['true 3'] },
  { name: 'integer / and % truncate toward zero, as Rust does', body: 'print(-7 / 2, 7 / -2, -7 % 2, 7 % -2, 6 / 3)', out: ['-3 -3 -1 1 2'] },
  { name: 'a float either side makes / a float division', body: 'print(10.0 / 4, 10 / 4.0, 1.5 * 2 / 4, 2.0 * 3 / 4)', out: ['2.5 2.5 0.75 1.5'] },
  { name: 'int() and float() set the type; float(3) / 2 is 1.5', body: 'print(float(3) / 2, int(7.9) / 2, 7 as float / 2)', out: ['1.5 3 3.5'] },
  { name: 'a whole float stays a float through variables and negation', body: 'let x = 4.0\nlet y = -x\nprint(y / 8, x * 2 / 16)', out: ['-0.5 0.5'] },
  { name: 'run-time integers divide as integers', body: 'let n = arg("n", 10)\nprint(n / 3, n % 4, n / 4.0)', args: { n: '11' }, out: ['3 3 2.75'] },
  { name: 'a run-time float keeps its type even when whole', body: 'let t = arg("t", 9.0)\nprint(t / 2)', out: ['4.5'] },
  { name: 'a tensor element read back is a float', body: 'let v = [3.0, 5.0] * 1.0\nprint(v[0] / 2)', out: ['1.5'] },
  { name: 'a run-time loop counter divides as an integer', body: 'for i in range(arg("k", 4)) {\n  if i > 10 { break }\n  write(i / 2, "")\n}\nprint()', out: ['0 0 1 1 '] },
  { name: 'a size with a float is a float', body: 'let ids = tokenize(load_tokenizer(model), "hello world", false)\nlet n = len(ids)\nprint(n * 1.0 / n / 2)', out: ['0.5'] },
  { name: 'string repetition', body: 'print("=" * 5, 3 * "ab", "x" * 0 + "|")', out: ['===== ababab |'] },
];

// Names hold values, not variables: a copy or an argument keeps the value it was given.
const VALUES: Case[] = [
  { name: 'let a = n, then n changes: a keeps the old value', body: 'let n = arg("n", 1)\nlet a = n\nn = n + 1\nprint(a, n)', out: ['1 2'] },
  { name: 'the same in a run-time loop', body: 'let t = 0\nfor i in range(arg("k", 3)) {\n  let before = t\n  t = t + i\n  write(before, t, "")\n}\nprint()', out: ['0 0 0 1 1 3 '] },
  { name: "a function that changes its parameter leaves the caller's variable", body: 'let n = arg("n", 1.0)\nlet m = bump(n)\nprint(n, m)', out: ['1 2'] },
];

const BUILTIN_CASES: Case[] = [
  { name: '@ of a matrix by a vector, and of two vectors (a dot product)', body: 'let m = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] * 1.0\nlet v = [10.0, 1.0] * 1.0\nprint(m @ v)\nprint(v @ v)', out: ['[12, 34, 56]', '101'] },
  {
    // q of zeros: every key scores 0, so a row's output is the mean of the values it may see; v widened
    // to 64 by repeating each value 32 times, then averaged by w_o = 1/64 everywhere.
    name: "attention_with_cache as the original computes it: causal, K/V widened, projected by w_o^T",
    body: 'let k = [[0.5, 0.25], [1.0, 2.0]] * 1.0\nlet v = [[1.0, 2.0], [3.0, 4.0]] * 1.0\nlet wo = ones([64, 64]) / 64.0\n' +
      'let o = attention_with_cache(zeros([2, 64]) * 1.0, k, v, wo)\nprint(o[0, 0], o[0, 63], o[1, 0], o[1, 63])\n' +
      'let d = attention_with_cache(zeros([1, 64]) * 1.0, k, v, wo)\nprint(d[0, 0], d[0, 63])',
    out: [[1.5, 1.5, 2.5, 2.5], [2.5, 2.5]],
  },
  { name: 'max / min of a tensor, along an axis, elementwise, of numbers', body: 'let t = [[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]] * 1.0\nprint(max(t), min(t))\nprint(max(t, 0), min(t, 1))\nprint(max(t, 1, true), max(t, 2.0))\nprint(max(3, 7), min(2.5, 1), max(-2, -3) / 2)', out: ['7 -1', '[7, 5, 3] [1, -1]', '[5, 7] [2, 5, 2, 7, 2, 3]', '7 1 -1'] },
  { name: 'max / min methods and of a positional encoding', body: 'let pe = positional_encoding(4, 6)\nprint(pe.max() == max(pe), pe.min(), max(pe), min(positional_encoding(8, 2)) < -0.9)', out: ['true 0 1 true'] },
  { name: 'argmax / argmin along any axis, and flat', body: 'let t = [[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]] * 1.0\nprint(argmax(t), argmin(t), argmax(t, 0), argmin(t, 1), argmin(t, 0, true))', out: ['3 4 [1, 0, 1] [0, 1] [0, 1, 0]'] },
  {
    name: 'positional_encoding: sin(pos / 10000^(i/d)) for even i, cos for odd i',
    body: 'print(positional_encoding(3, 4))',
    out: [[0, 1, 0, 1, Math.sin(1), Math.cos(1 / 10), Math.sin(1 / 100), Math.cos(1 / 1000), Math.sin(2), Math.cos(2 / 10), Math.sin(2 / 100), Math.cos(2 / 1000)]],
  },
  { name: 'typed constructors f32:: and f16::, arange', body: 'print(f32::zeros([2, 2]), f16::ones([3]), f32::arange(3), f16::arange(2, 5), arange(1, 3))', out: ['[0, 0, 0, 0] [1, 1, 1] [0, 1, 2] [2, 3, 4] [1, 2]'] },
  { name: 'any tensor builtin under f32:: and f16::', body: 'print(f32::sum(f16::ones([2, 3])), f16::relu([-1.0, 2.0]))', out: ['6 [0, 2]'] },
  { name: 'learnable(x) is x until training compiles', body: 'let w = learnable(f32::ones([2]) * 3.0)\nprint(w)', out: ['[3, 3]'] },
  { name: 'numbers: abs floor ceil round (integers, halves away from zero)', body: 'print(abs(-3), abs(-2.5), floor(2.7), ceil(2.1), round(-2.5), round(2.5), floor(-2.5) / 2)', out: ['3 2.5 2 3 -3 3 -1'] },
  { name: 'numbers at run time take the same rules', body: 'let x = arg("x", 2.5)\nprint(floor(x), round(x), abs(0.0 - x), max(x, 3), min(arg("n", 4), 2) / 3)', out: ['2 3 2.5 3 0'] },
  { name: 'sin cos tan pow elementwise and on numbers', body: 'let t = [0.5, 2.0] * 1.0\nprint(sin(t), cos(t), tan(t))\nprint(pow(t, 2.0), pow(t, 3.0), pow(2, 10), sin(0.0))', out: [[Math.sin(0.5), Math.sin(2), Math.cos(0.5), Math.cos(2), Math.tan(0.5), Math.tan(2)], [0.25, 4, 0.125, 8, 1024, 0]] },
  { name: 'add sub mul div temperature', body: 'let t = [2.0, 4.0] * 1.0\nprint(add(t, 1.0), sub(t, t), mul(t, t), div(t, 2.0), temperature(t, 4.0), div(7, 2))', out: ['[3, 5] [0, 0] [4, 16] [1, 2] [0.5, 1] 3'] },
  { name: 'fused forms, apply_mask, dropout at inference', body: 'let t = [1.0, -2.0] * 1.0\nprint(fused_add_relu(t, t), fused_mul_relu(t, 3.0), fused_affine(t, 2.0, 1.0), apply_mask(t, [0.0, 1.0]), dropout(t, 0.5, false))', out: ['[2, 0] [3, 0] [3, -3] [0, -2] [1, -2]'] },
  { name: 'layer_norm and batch_norm', body: 'let t = [[1.0, 3.0], [2.0, 2.0]] * 1.0\nprint(layer_norm(t, [2], 0.0001), batch_norm(t, 1.0, 4.0, 0.0))', out: [[-1 / Math.sqrt(1.0001), 1 / Math.sqrt(1.0001), 0, 0, 0, 1, 0.5, 0.5]] },
  { name: 'flatten squeeze unsqueeze permute', body: 'let t = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] * 1.0\nprint(flatten(t), shape(unsqueeze(t, 0)), shape(squeeze(unsqueeze(t, -1))), permute(t, [1, 0]))', out: ['[1, 2, 3, 4, 5, 6] [1, 2, 3] [2, 3] [1, 4, 2, 5, 3, 6]'] },
  { name: 'precompute_rope_cos / sin: (max_seq, head_dim), each pair twice', body: 'print(precompute_rope_cos(4, 2, 100.0))\nprint(precompute_rope_sin(4, 2, 100.0))', out: [[1, 1, 1, 1, Math.cos(1), Math.cos(1), Math.cos(0.1), Math.cos(0.1)], [0, 0, 0, 0, Math.sin(1), Math.sin(1), Math.sin(0.1), Math.sin(0.1)]] },
  { name: 'from_vec, range_i, get', body: 'print(from_vec([1.0, 2.0, 3.0, 4.0], [2, 2])[1, 0], range_i(3), range_i(2, 4), get([4, 5, 6], -1))', out: ['3 [0, 1, 2] [2, 3] 6'] },
  { name: 'string helpers: UTF-8 byte length, character substrings', body: 'print(string_length("héllo"), string_substring("héllo", 1, 3), string_length(str(arg("s", "abc"))))', out: ['6 éll 3'] },
  { name: 'print with a format', body: 'let x = 2.5\nprint("x = {}, n = {}", x, 10 / 4)\nprint("{} only", 1, 2)', out: ['x = 2.5, n = 2', '1 only'] },
  { name: 'token ids: int_to_tokenids, detokenize_single, detokenize_incremental', body: 'let tok = load_tokenizer(model)\nlet ids = tokenize(tok, "hello", false)\nprint(int_to_tokenids(7), detokenize_single(tok, ids[0], false) == detokenize(tok, [ids[0]], false), detokenize_incremental(tok, ids) == detokenize(tok, ids, false))', out: ['[7] true true'] },
  { name: 'cndl_ names of the same meaning', body: 'let t = [[1.0, 2.0], [3.0, 4.0]] * 1.0\nprint(cndl_transpose(t, 0, 1), cndl_relu(t - 2.0), cndl_softmax(t, 1)[0, 0] + cndl_softmax(t, 1)[0, 1])', out: [[1, 3, 2, 4, 0, 0, 1, 2, 1]] },
  {
    name: 'gather along each dim, 1-D index of rows; out-of-range indices read 0',
    body: 'let t = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] * 1.0\nprint(gather(t, 1, [[2.0, 0.0], [1.0, 1.0]]), gather(t, 0, [[1.0, 0.0, 1.0]]))\nprint(gather(t, 0, [1.0, 1.0, 0.0]), gather([1.0, 2.0] * 1.0, 0, [1.0, 5.0, -1.0, 0.0]), t.gather(1, [[0.0], [2.0]]))',
    out: ['[3, 1, 5, 5] [4, 2, 6]', '[4, 5, 6, 4, 5, 6, 1, 2, 3] [2, 0, 0, 1] [1, 6]'],
  },
  {
    name: 'scatter overwrites (the last duplicate wins), skips out-of-range indices, 1-D index of rows',
    body: 'let z = f32::zeros([3, 2])\nprint(scatter(z, 0, [[2.0, 0.0]], [[7.0, 8.0]]), scatter(z, 1, [[1.0, 1.0], [0.0, 9.0], [-1.0, 0.0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))\n' +
      'print(scatter(f32::zeros([4]), 0, [1.0, 1.0, 3.0], [5.0, 6.0, 7.0]), scatter(f32::zeros([4, 2]), 0, f32::arange(1, 3), f32::ones([2, 2])))',
    out: ['[0, 8, 0, 0, 7, 0] [0, 2, 3, 0, 6, 0]', '[0, 6, 0, 7] [0, 0, 1, 1, 1, 1, 0, 0]'],
  },
  // (the first alone: a graph run whose only read is empty)
  { name: 'an empty slice reads back as an empty list', body: 'let t = [[1.0, 2.0], [3.0, 4.0]] * 1.0\nprint(t[1:1])', out: ['[]'] },
  { name: 'an empty slice sums to 0 and keeps its shape', body: 'let t = [[1.0, 2.0], [3.0, 4.0]] * 1.0\nlet e = t[1:1]\nprint(e, sum(e), shape(e))', out: ['[] 0 [0, 2]'] },
  { name: 'sample and top_p_sample draw valid indices', body: 'let p = [0.0, 0.0, 1.0, 0.0] * 1.0\nprint(sample(p), top_p_sample(p * 10.0, 0.5))', out: ['2 2'] },
];

async function output(c: Case): Promise<string[]> {
  const fns = 'fn bump(x: float) -> float {\n  x = x + 1.0\n  x\n}\n'; // for the values cases
  const r = await runProgram({ file: 't.tl', text: `let model = load_model("synthetic.gguf")\n${fns}main {\n${c.body}\n}` }, model, c.args ?? {});
  r.program.destroy();
  return r.output.replace(/\n$/, '').split('\n');
}

function check(lines: string[], want: Line[]): void {
  assert.equal(lines.length, want.length, `lines: ${JSON.stringify(lines)}`);
  want.forEach((w, i) => {
    if (typeof w === 'string') return assert.equal(lines[i], w);
    const got = lines[i].replace(/[[\],]/g, ' ').trim().split(/\s+/).map(Number);
    assert.equal(got.length, w.length, `line ${i}: ${lines[i]}`);
    got.forEach((g, j) => assert.ok(Math.abs(g - w[j]) <= 1e-5, `line ${i}, number ${j}: ${g}, expected ${w[j]}`));
  });
}

describe('parity with the original: numbers and builtins', function () {
  this.timeout(120_000);

  for (const [group, cases] of [['numbers', NUMBERS], ['values', VALUES], ['builtins', BUILTIN_CASES]] as const) {
    describe(group, () => {
      for (const c of cases) it(c.name, async () => check(await output(c), c.out));
    });
  }

  it('integer division by zero is an error, at build time and at run time', async () => {
    assert.throws(() => compile('main { print(1 / 0) }', 't.tl'), /division by zero/);
    await assert.rejects(output({ name: '', body: 'print(7 % arg("z", 0))', out: [] }), /division by zero/);
  });

  it('a builtin the table refuses is a compile error that names it', () => {
    assert.throws(() => compile('main { let x = [1.0] * 1.0\nprint(load_weight_cache_f32(x, x)) }', 't.tl'), /load_weight_cache_f32/);
  });
});

describe('docs/builtins.md lists every builtin of the original', () => {
  const names = readFileSync('test/reference/original-builtins.txt', 'utf8').trim().split('\n');
  const rows = new Map<string, string>();
  const docs = readFileSync('docs/builtins.md', 'utf8');
  const table = docs.slice(docs.indexOf('## Parity with the original TensorLogic'));
  for (const m of table.matchAll(/^\| `([^`]+)` \| (supported|different|refused) \|/gm)) {
    assert.ok(!rows.has(m[1]), `${m[1]} has two rows`);
    rows.set(m[1], m[2]);
  }
  // Lowered by the compiler itself rather than through the builtin table.
  const LOWERED_ELSEWHERE = new Set(['KVCache::new', 'KVCache::new_f16', 'KVCache::new_f32']);

  it('has a row for each of the original\'s builtins, and no other', () => {
    assert.ok(names.length > 150, 'the list of names is read');
    assert.deepEqual(names.filter((n) => !rows.has(n)), [], 'builtins without a row');
    assert.deepEqual([...rows.keys()].filter((n) => !names.includes(n)), [], 'rows for names the original does not have');
  });

  it('every builtin marked supported or different compiles; every one refused does not', () => {
    for (const [name, status] of rows) {
      const lowered = name in LOWERED || LOWERED_ELSEWHERE.has(name);
      if (status === 'refused') assert.ok(!lowered, `${name} is marked refused, but tlc compiles it: update docs/builtins.md`);
      else {
        assert.ok(lowered, `${name} is marked ${status}, but tlc cannot compile it`);
        if (!name.includes('::')) assert.ok(builtin(name), `${name} is missing from compiler/builtins.ts (the checker would reject calls)`);
      }
    }
  });
});
