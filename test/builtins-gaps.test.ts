// Builtins of the original that its example programs use and tlc added later (split, chunk,
// padding_mask, combine_masks, print_top_k, new_tensor_buffer, sum/mean with keepdim, the
// corrected fused_gelu_linear, fills too big for one buffer, nested number lists as tensors):
// each a program run on the test adapter, against the same computation written in plain
// TypeScript here, following the original's Rust source.
import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf } from '../runtime/gguf.ts';
import { dequantize } from '../runtime/quant.ts';
import { runProgram } from './support/program.ts';

const f32Model = synthLlama({ type: T.F32, embd: 64, heads: 4, kvHeads: 2, layers: 1, seed: 5 });
const q8Model = synthLlama({ type: T.Q8_0, embd: 64, heads: 4, kvHeads: 2, layers: 1, seed: 7 });

// ---- plain TypeScript references -------------------------------------------------------------

type Tensor = { shape: number[]; data: number[] };

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const tensor = (shape: number[], data: number[]): Tensor => ({ shape, data });
const strides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));

/** The sum or mean along one axis; keepdim keeps it as 1. */
function reduce(x: Tensor, axis: number, fn: 'sum' | 'mean', keepdim: boolean): Tensor {
  const st = strides(x.shape);
  const outShape = x.shape.filter((_, i) => i !== axis);
  const out = new Array(outShape.reduce((p, q) => p * q, 1)).fill(0);
  x.data.forEach((v, flat) => {
    const idx = x.shape.map((_, i) => Math.floor(flat / st[i]) % x.shape[i]).filter((_, i) => i !== axis);
    const o = idx.reduce((acc, k, i) => acc * outShape[i] + k, 0);
    out[o] += fn === 'sum' ? v : v / x.shape[axis];
  });
  return tensor(keepdim ? x.shape.map((d, i) => (i === axis ? 1 : d)) : outShape, out);
}

/** The original's split(x, size, dim) / chunk: the first piece, x[0:min(size, n)] along dim (row-major). */
function firstPiece(x: Tensor, size: number, dim: number): Tensor {
  const n = Math.min(size, x.shape[dim]);
  const shape = x.shape.map((d, i) => (i === dim ? n : d));
  const st = strides(x.shape);
  const data = x.data.filter((_, flat) => Math.floor(flat / st[dim]) % x.shape[dim] < n);
  return tensor(shape, data);
}

/** padding_mask: (batch, max_len), 1 where pos < the length truncated to a whole number (saturating at 0). */
function paddingMask(lengths: number[], maxLen: number): number[] {
  return lengths.flatMap((len) => range(maxLen).map((pos) => (pos < Math.max(0, Math.trunc(len)) ? 1 : 0)));
}

/** gelu, tanh approximation (the original's kernel and tlc's). */
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608 * (x + 0.044715 * x ** 3)));

/** matmul(gelu(x), w) + bias, bias broadcast over rows. */
function geluLinear(x: Tensor, w: Tensor, bias: number[]): number[] {
  const [m, k] = x.shape, n = w.shape[1];
  return range(m * n).map((o) => {
    const [i, j] = [Math.floor(o / n), o % n];
    let s = 0;
    for (let kk = 0; kk < k; kk++) s += gelu(x.data[i * k + kk]) * w.data[kk * n + j];
    return s + bias[j % bias.length];
  });
}

/** What print_top_k prints: a title, then the k largest (stable: equal values in index order). */
function topK(values: number[], k: number): string[] {
  const order = range(values.length).sort((i, j) => values[j] - values[i]);
  return [`      Top ${k} logits:`, ...order.slice(0, k).map((i) => `        [${String(i).padStart(5)}] = ${values[i].toFixed(4).padStart(10)}`)];
}

/** The original's TensorBuffer display: capacity and used bytes in whole MiB. */
const bufferText = (capacity: number, used: number) => `TensorBuffer(capacity=${Math.floor(capacity / 2 ** 20)}MB, used=${Math.floor(used / 2 ** 20)}MB)`;

/** A model's tensor as row-major values, dequantized on the host. */
async function weightRows(model: Uint8Array, name: string): Promise<{ rows: number; cols: number; data: Float32Array }> {
  const file = await readGguf(bytesSource(model, 'synthetic.gguf'));
  const t = file.tensor(name)!;
  const [cols, rows] = t.shape;
  return { rows, cols, data: dequantize(t.type, await file.source.read(t.offset, t.byteLength), rows * cols) };
}

// ---- the cases ---------------------------------------------------------------------------------

/** Each printed line: text to match exactly, or numbers to match within 1e-4. */
type Line = string | number[];

interface Case {
  name: string;
  body: string; // the inside of main { }
  out: () => Line[] | Promise<Line[]>;
  model?: Uint8Array;
}

const t23 = tensor([2, 3], [1, 5, 2, 7, -1, 3]);
const a64 = tensor([6, 4], range(24, 1));
const b74 = tensor([7, 4], range(28, 1));
const pe = (seq: number, d: number) => tensor([seq, d], range(seq * d).map((f) => {
  const [pos, i] = [Math.floor(f / d), f % d];
  const angle = pos / Math.exp((i / d) * Math.log(10000));
  return i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
}));

const CASES: Case[] = [
  {
    name: 'sum and mean along an axis, keepdim keeping it as 1',
    body: 'let t = [[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]] * 1.0\nprint(sum(t, 0, false), sum(t, 1, true), shape(sum(t, 1, true)))\nprint(mean(t, 0, true), shape(mean(t, 0, true)), mean(t, 1, false), sum(t))',
    out: () => [
      [...reduce(t23, 0, 'sum', false).data, ...reduce(t23, 1, 'sum', true).data, 2, 1],
      [...reduce(t23, 0, 'mean', true).data, 1, 3, ...reduce(t23, 1, 'mean', false).data, 17],
    ],
  },
  {
    name: 'split and chunk: the first piece along a dim, in the tensor\'s order',
    body: `let a = f32::arange(1, 25).reshape([6, 4])\nlet b = f32::arange(1, 29).reshape([7, 4])\n` +
      'print(split(a, 2, 0))\nprint(split(b, 3, 0))\nprint(chunk(a, 3, 0))\nprint(split(a, 2, 1))\nprint(chunk(b, 2, 0), shape(chunk(b, 2, 0)))\nprint(chunk(a, 3, 1))\nprint(shape(split(a, 10, 0)), shape(split(a, 3.7, 1)))',
    out: () => [
      firstPiece(a64, 2, 0).data, firstPiece(b74, 3, 0).data, firstPiece(a64, Math.ceil(6 / 3), 0).data, firstPiece(a64, 2, 1).data,
      [...firstPiece(b74, Math.ceil(7 / 2), 0).data, 4, 4], firstPiece(a64, Math.ceil(4 / 3), 1).data, [6, 4, 6, 3],
    ],
  },
  {
    name: 'padding_mask from lengths (truncated), combine_masks',
    body: 'let m = padding_mask([3, 5, 2, 4], 5)\nprint(m, shape(m))\nprint(padding_mask([2.5, 0.0, 7.0, -1.0] * 1.0, 4))\nprint(combine_masks(m, padding_mask([1, 2, 3, 4], 5)))',
    out: () => [
      [...paddingMask([3, 5, 2, 4], 5), 4, 5],
      paddingMask([2.5, 0, 7, -1], 4),
      paddingMask([3, 5, 2, 4], 5).map((v, i) => v * paddingMask([1, 2, 3, 4], 5)[i]),
    ],
  },
  {
    name: 'fused_gelu_linear: gelu(x) @ weight + bias, weight (in, out)',
    body: 'print(fused_gelu_linear(positional_encoding(2, 4), positional_encoding(4, 3), [0.5, -1.0, 2.0]))\nprint(fused_gelu_linear(positional_encoding(2, 4), positional_encoding(4, 3), zeros([2, 3])))',
    out: () => [geluLinear(pe(2, 4), pe(4, 3), [0.5, -1, 2]), geluLinear(pe(2, 4), pe(4, 3), [0])],
  },
  {
    name: 'print_top_k of a vector and of the last row of a matrix (equal values in index order); it gives 0',
    body: 'let v = [0.5, 3.0, -2.0, 3.0, 1.25, 0.0] * 1.0\nlet r = print_top_k(v, 4)\nprint(r)\nprint_top_k([[9.0, 9.0, 9.0], [1.0, -3.5, 2.0]] * 1.0, 5)\nprint_top_k(v, to_int(2.0))',
    out: () => [...topK([0.5, 3, -2, 3, 1.25, 0], 4), '0', ...topK([1, -3.5, 2], 5), ...topK([0.5, 3, -2, 3, 1.25, 0], 2)],
  },
  {
    name: "print_top_k of an F32 model weight: its last row",
    body: 'print_top_k(get_tensor(model, "output.weight"), 6)',
    out: async () => {
      const w = await weightRows(f32Model, 'output.weight');
      return topK([...w.data.subarray((w.rows - 1) * w.cols)], 6);
    },
  },
  {
    name: 'print_top_k of a Q8_0 model weight: its last row, dequantized on the device',
    model: q8Model,
    body: 'print_top_k(get_tensor(model, "token_embd.weight"), 5)',
    out: async () => {
      const w = await weightRows(q8Model, 'token_embd.weight');
      return topK([...w.data.subarray((w.rows - 1) * w.cols)], 5);
    },
  },
  {
    name: 'new_tensor_buffer: alloc sets slots aside, zeros/ones take them or 2 bytes an element, print shows the accounts',
    body: 'let buf = new_tensor_buffer(4 * 1024 * 1024)\nprint("status:", buf)\nbuf.alloc([512, 512], 3, 2)\nprint(buf)\n' +
      'let z = buf.zeros([512, 512])\nlet o = buf.ones([2, 3])\nprint("{}", buf)\nprint(sum(z), o, shape(z))\nbuf.alloc([1024, 512], 1, 2)\nlet w = buf.ones([1024, 512])\nprint(buf, sum(w))',
    out: () => {
      const cap = 4 * 2 ** 20;
      const afterAlloc = 3 * 512 * 512 * 2;
      return [`status: ${bufferText(cap, 0)}`, bufferText(cap, afterAlloc), bufferText(cap, afterAlloc + 2 * 3 * 2), [0, 1, 1, 1, 1, 1, 1, 512, 512],
        `${bufferText(cap, afterAlloc + 12 + 1024 * 512 * 2)} ${1024 * 512}`];
    },
  },
  {
    name: 'a fill too big for one buffer binding costs nothing while only its shape is used',
    body: 'let big = zeros([32000, 2048])\nlet r = reshape(big, [2048, 32000])\nprint(shape(big), shape(r), shape(ones([64000, 1024])))\nprint(zeros([2, 2]) + 1.0)',
    out: () => ['[32000, 2048] [2048, 32000] [64000, 1024]', [1, 1, 1, 1]],
  },
  {
    name: 'nested number lists: m[i, j], slices, and lists of read-back numbers as tensors',
    body: 'let m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\nprint(m[1, 2], m[0, -1] / 2, m[1, :], m[:, 0])\nlet t = [0.5, 2.0] * 1.0\nlet v = [[t[0], t[1]], [t[1], 7.0]]\nprint(v[1, 0], v[0, :] * 2.0, v @ [1.0, 10.0])\nprint([t[0], t[1]] * 2.0, [t[1], 1.0] + [1.0, 2.0], t * t[1])\nprint([t[0] + 1.0, t[1] * 3.0] * 2.0, t * (t[1] + 1.0))',
    out: () => [[6, 1.5, 4, 5, 6, 1, 4], [2, 1, 4, 0.5 + 20, 2 + 70], [1, 4, 3, 3, 1, 4], [3, 12, 1.5, 6]],
  },
];

async function output(c: Case): Promise<string[]> {
  const r = await runProgram({ file: 't.tl', text: `let model = load_model("synthetic.gguf")\nmain {\n${c.body}\n}` }, c.model ?? f32Model, {});
  r.program.destroy();
  return r.output.replace(/\n$/, '').split('\n');
}

function check(lines: string[], want: Line[]): void {
  assert.equal(lines.length, want.length, `lines: ${JSON.stringify(lines)}`);
  want.forEach((w, i) => {
    if (typeof w === 'string') {
      if (!/^ +\[ *\d+\] = /.test(w)) return assert.equal(lines[i], w);
      // a print_top_k line: the index exactly, the value within a last-digit rounding
      const [, wi, wv] = /\[ *(\d+)\] = +(\S+)/.exec(w)!, [, gi, gv] = /\[ *(\d+)\] = +(\S+)/.exec(lines[i]) ?? [];
      assert.equal(gi, wi, `line ${i}: ${lines[i]}, expected ${w}`);
      assert.equal(lines[i].length, w.length, `line ${i}: ${JSON.stringify(lines[i])}, expected ${JSON.stringify(w)}`);
      return assert.ok(Math.abs(Number(gv) - Number(wv)) <= 1.5e-4, `line ${i}: ${lines[i]}, expected ${w}`);
    }
    const got = lines[i].replace(/[[\],]/g, ' ').trim().split(/\s+/).map(Number);
    assert.equal(got.length, w.length, `line ${i}: ${lines[i]}`);
    got.forEach((g, j) => assert.ok(Math.abs(g - w[j]) <= 1e-4, `line ${i}, number ${j}: ${g}, expected ${w[j]}`));
  });
}

describe('builtins the original\'s programs use: against a TypeScript computation', function () {
  this.timeout(120_000);

  for (const c of CASES) it(c.name, async () => check(await output(c), await c.out()));

  it('a TensorBuffer that runs out is the original\'s error; one used in run-time control flow is a build error', async () => {
    await assert.rejects(output({ name: '', body: 'let buf = new_tensor_buffer(1000)\nbuf.alloc([10, 10], 5, 2)\nbuf.alloc([10, 10], 1, 2)', out: () => [] }),
      /Buffer exhausted: requested 200 bytes, available 0 bytes/);
    await assert.rejects(output({ name: '', body: 'let buf = new_tensor_buffer(1000)\nlet z = buf.zeros([10, 60])', out: () => [] }),
      /Buffer exhausted: requested 1200 bytes, available 1000 bytes/);
    await assert.rejects(output({ name: '', body: 'let buf = new_tensor_buffer(1000)\nfor i in range(arg("n", 2)) {\n  buf.alloc([2], 1, 2)\n}', out: () => [] }),
      /TensorBuffer.alloc inside run-time control flow/);
  });

  it('a fill too big for one buffer binding is an error where the device needs its elements', async () => {
    await assert.rejects(output({ name: '', body: 'print(zeros([32000, 2048]) + 1.0)', out: () => [] }), /shape \[32000, 2048\]: 250 MiB, more than one GPU buffer binding holds/);
  });

  it('split, chunk and padding_mask refuse what the original refuses', async () => {
    await assert.rejects(output({ name: '', body: 'print(split(ones([2, 2]), 0, 0))', out: () => [] }), /split: the piece size must be > 0/);
    await assert.rejects(output({ name: '', body: 'print(chunk(ones([2, 2]), 2, 2))', out: () => [] }), /chunk: dim 2 is out of range/);
    await assert.rejects(output({ name: '', body: 'print_top_k(ones([2, 2, 2]), 2)', out: () => [] }), /print_top_k expects a 1-D or 2-D tensor/);
  });
});
