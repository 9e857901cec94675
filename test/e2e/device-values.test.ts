// Tensors that outlive a graph: values kept on the device across host reads, run-time ifs and
// run-time loops (concat, the KVCache API), slicing; on a small synthetic model, each against the
// same value computed another way.
import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { runProgram } from '../support/program.ts';
import { compile } from '../../compiler/compile.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import { readFileSync } from 'node:fs';

const bytes = synthLlama({ type: T.F32, embd: 64, heads: 4, kvHeads: 2, layers: 2, seed: 3 });
const HEAD = 'let model = load_model("synthetic.gguf")\n';

/** Runs `main { body }` and returns the printed lines, each split into numbers where it can. */
async function run(body: string, args: Record<string, number | string> = {}): Promise<string[]> {
  const r = await runProgram({ file: 't.tl', text: `${HEAD}main {\n${body}\n}` }, bytes, args);
  r.program.destroy();
  return r.output.trim().split('\n');
}
const nums = (line: string) => line.split(' ').map(Number);

describe('device values: tensors that outlive a graph', function () {
  this.timeout(300_000);

  it('a tensor read back in the middle is used after the read, not recomputed', async () => {
    const body = 'let x = embedding(model.token_embd.weight, [3, 7, 9])\nprint(x[1, 2])\nlet y = x * 2.0\nprint(y[1, 2], x[2, 5])\nprint(y[2, 5])';
    const [a, [b, c], [d]] = (await run(body)).map(nums);
    assert.equal(b, 2 * a[0]);
    assert.equal(d, 2 * c);
    const info = modelInfo(await readGguf(bytesSource(bytes)));
    const ir = compile(`${HEAD}main {\n${body}\n}`, 't.tl', { model: info });
    assert.equal(ir.graphs.flatMap((g) => g.nodes).filter((n) => n.op === 'embedding').length, 1, 'one embedding in all graphs');
    assert.ok(ir.graphs.some((g) => g.inputs.some((i) => i.kind === 'tensor')));
  });

  it('a run-time if inside the unrolled layer loop keeps the derived KV cache, and the tokens of chat.tl', async () => {
    const chat = readFileSync('examples/chat.tl', 'utf8');
    // chat.tl with the original's debug pattern: print an element of x in layer 0 of step 0.
    const debug = chat.replace('for layer in range(model.n_layer) {', 'for layer in range(model.n_layer) {\n            if layer == 0 && step == 0 { print("x00", x[0, 0]) }');
    assert.notEqual(debug, chat);
    const args = { prompt: 'hello world', max_tokens: 8, temperature: 0 };
    const [plain, split] = [await runProgram({ file: 'chat.tl', text: chat }, bytes, args), await runProgram({ file: 'debug.tl', text: debug }, bytes, args)];
    [plain, split].forEach((r) => r.program.destroy());
    assert.deepEqual(split.tokens, plain.tokens);
    assert.equal(split.output.split('x00').length, 2, 'the debug line is printed once');
    const graphs = split.program.artifact.ir.graphs;
    assert.ok(graphs.some((g) => g.nodes.some((n) => n.op === 'attention') && g.inputs.some((i) => i.kind === 'tensor')), 'the read splits the step; the part after it takes x as a device value');
    assert.ok(graphs.filter((g) => g.nodes.some((n) => n.op === 'attention' || n.op === 'embedding')).every((g) => g.incremental), 'every part is incremental');
  });

  it('examples/chat_kvcache.tl (KVCache::new, set, append, get_k, get_v) gives the tokens of chat.tl', async () => {
    const args = { prompt: 'hello world', max_tokens: 10, temperature: 0 };
    const a = await runProgram({ file: 'examples/chat.tl' }, bytes, args);
    const b = await runProgram({ file: 'examples/chat_kvcache.tl' }, bytes, args);
    [a, b].forEach((r) => r.program.destroy());
    assert.equal(b.tokens.length, 10);
    assert.deepEqual(b.tokens, a.tokens);
  });

  it('a tensor carried by a run-time loop grows by concat', async () => {
    const body = [
      'let x = embedding(model.token_embd.weight, [3, 7])',
      'let h = x',
      'for step in range(arg("steps", 4)) {',
      '  h = concat(h, x * (step + 1.0), 0)',
      '  if step > 100 { break }',
      '}',
      'print(len(h), shape(h)[1])',
      'print(h[7, 4], x[1, 4])',
    ].join('\n');
    const [[rows, cols], [last, x14]] = (await run(body, { steps: 4 })).map(nums);
    assert.deepEqual([rows, cols], [10, 64]);
    assert.ok(Math.abs(last - 3 * x14) < 1e-6, `${last} vs 3 * ${x14}`);
  });

  it('a number list the loop does arithmetic on is a tensor, so the loop ends', async () => {
    const [line] = await run('let counter = [0.0]\nwhile counter[0] < 3.0 {\n  counter = counter + [1.0]\n}\nprint(counter[0])');
    assert.equal(Number(line), 3);
  });

  it('slices with build-time and run-time bounds', async () => {
    const body = [
      'let x = embedding(model.token_embd.weight, [3, 7, 9, 11])',
      'let n = len(arg("ids", [1, 2, 3, 4]))',
      'print(x[1:3][1, 5], x[2, 5])',
      'print(x[:, 6][3], x[3, 6])',
      'print(x[-1][2], x[3, 2])',
      'print(x[2:][0, 1], x[2, 1])',
      'print(x[n - 1][4], x[3, 4])',
      'print(x[n - 3:n - 1][0, 0], x[1, 0])',
      'print(shape(x[1:n]))',
    ].join('\n');
    const lines = await run(body);
    for (const l of lines.slice(0, -1)) {
      const [a, b] = nums(l);
      assert.equal(a, b, l);
    }
    assert.equal(lines.at(-1), '[3, 64]');
  });

  it('a slice out of range at run time is an error, not garbage', async () => {
    await assert.rejects(run('let x = embedding(model.token_embd.weight, [3, 7])\nlet i = arg("i", 5)\nprint(x[i][0])'), /out of range/);
  });

  it('a host size used as a tensor size must be that size at run time', async () => {
    const body = 'let ids = arg("ids", [3, 7, 9])\nlet x = embedding(model.token_embd.weight, ids)\nprint(reshape(x, [arg("n", 3), 4, 16])[1, 0, 0], x[1, 0])';
    const [ok] = await run(body);
    assert.equal(nums(ok)[0], nums(ok)[1]);
    await assert.rejects(run(body, { n: 2 }), /used as one size, and differ/);
  });

  it('token ids the host gives are checked against the embedding table', async () => {
    await assert.rejects(run('print(embedding(model.token_embd.weight, arg("ids", [1]))[0, 0])', { ids: '[3, 320]' }), /token id 320 is outside the table \(0\.\.319\)/);
  });

  it('an early return in a function called with a run-time value', async () => {
    const src = 'fn f(n: int) -> int {\n  if n <= 1 { return 1 }\n  return 7\n}\n';
    const r = await runProgram({ file: 't.tl', text: `${HEAD}${src}main {\n print(f(arg("n", 1)), f(arg("m", 5)))\n}` }, bytes, { n: 3, m: 0 });
    r.program.destroy();
    assert.equal(r.output.trim(), '7 1');
  });

  it("the original's inference idioms: argmax over all, x @ transpose(W), one id, host sizes, slice()", async () => {
    const body = [
      'let ids = arg("ids", [3, 7, 9])',
      'let x = embedding(model.token_embd.weight, ids)',
      'let n = len(ids)',
      // a reshape to a size the host computes keeps the tensor's own run-time size
      'let q = reshape(x, [n, 4, 16])',
      'print(q[2, 1, 3], x[2, 19])',
      // argmax with no dim: the flat index of the largest element, one number
      'let lin = linear(x, model.blk[0].attn_q.weight)',
      'let lin2 = matmul(x, transpose(model.blk[0].attn_q.weight))',
      'print(lin[1, 5], lin2[1, 5])',
      'print(argmax(lin), argmax(lin, 1))',
      // one id embeds as one row
      'let e = embedding(model.token_embd.weight, 7)',
      'print(shape(e), e[0, 4], x[1, 4])',
      // slice(v, a, b) and slice(m, row, a, b)
      'print(slice(x, 1, 3)[1, 2], x[2, 2], slice(x, 2, 4, 6)[1], x[2, 5])',
      // a causal mask of a size the host knows
      'print(shape(causal_mask(n)))',
    ].join('\n');
    const raw = await run(body);
    const lines = raw.map(nums);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
    assert.equal(lines[0][0], lines[0][1]);
    assert.ok(close(lines[1][0], lines[1][1]), raw[1]);
    const m = raw[2].match(/^(\d+) \[(\d+), (\d+), (\d+)\]$/);
    assert.ok(m, raw[2]);
    const [flat, ...rows] = m.slice(1).map(Number);
    assert.ok(flat >= 0 && flat < 3 * 64 && rows.every((r) => r < 64), raw[2]);
    assert.ok(rows.includes(flat % 64), 'the flat argmax is one of the row argmaxes');
    assert.match(raw[3], /^\[1, 64\] (\S+) \1$/);
    assert.deepEqual(lines[4].slice(0, 2), [lines[4][1], lines[4][0]]);
    assert.deepEqual(lines[4].slice(2), [lines[4][3], lines[4][2]]);
    assert.equal(raw[5], '[3, 3]');
  });
});
