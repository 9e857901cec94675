// Compiled programs on synthetic models of every weight type, against a plain TypeScript forward
// pass (test/reference/llama.ts): logits within a tolerance, and identical greedy tokens.
import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama, type SynthOptions } from '../../runtime/gguf-writer.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import { RefLlama } from '../reference/llama.ts';
import { sample as refSample } from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import type { HostValue } from '../../compiler/ir.ts';
import { runProgram } from '../support/program.ts';
import { testGpu } from '../support/gpu.ts';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { Program } from '../../runtime/program.ts';
import { readFileSync } from 'node:fs';

// One forward pass over the prompt's tokens, printing the last position's logits.
const LOGITS_TL = `
let model = load_model("synthetic.gguf")
fn block(x: float32[?, ?], i: int) -> float32[?, ?] {
    let b = model.blk[i]
    let seq = shape(x)[0]
    let h = rms_norm(x, b.attn_norm.weight)
    let q = rope(reshape(linear(h, b.attn_q.weight), [seq, model.n_head, model.head_dim]))
    let k = rope(reshape(linear(h, b.attn_k.weight), [seq, model.n_head_kv, model.head_dim]))
    let v = reshape(linear(h, b.attn_v.weight), [seq, model.n_head_kv, model.head_dim])
    let g = model.n_head / model.n_head_kv
    let kx = reshape(broadcast_to(reshape(k, [seq, model.n_head_kv, 1, model.head_dim]), [seq, model.n_head_kv, g, model.head_dim]), [seq, model.n_head, model.head_dim])
    let vx = reshape(broadcast_to(reshape(v, [seq, model.n_head_kv, 1, model.head_dim]), [seq, model.n_head_kv, g, model.head_dim]), [seq, model.n_head, model.head_dim])
    let s = einsum("ihd,jhd->ihj", q, kx) * (1.0 / (model.head_dim ** 0.5))
    let m = broadcast_to(reshape(causal_mask(seq), [seq, 1, seq]), [seq, model.n_head, seq])
    let a = einsum("ihj,jhd->ihd", softmax(apply_attention_mask(s, m), 2), vx)
    let x1 = x + linear(reshape(a, [seq, model.n_head * model.head_dim]), b.attn_output.weight)
    let h2 = rms_norm(x1, b.ffn_norm.weight)
    x1 + linear(silu(linear(h2, b.ffn_gate.weight)) * linear(h2, b.ffn_up.weight), b.ffn_down.weight)
}
main {
    let ids = arg("ids", [1])
    let x = embedding(model.token_embd.weight, ids)
    for i in range(model.n_layer) {
        x = block(x, i)
    }
    let head = model.token_embd.weight
    if !model.tied_output {
        head = model.output.weight
    }
    print(linear(rms_norm(slice_last(x, 0), model.output_norm.weight), head))
}
`;

const MODELS: { name: string; opts: SynthOptions; tol: number }[] = [
  { name: 'F32, separate head, MHA', opts: { type: T.F32, embd: 64, heads: 4, layers: 2 }, tol: 1e-3 },
  { name: 'F16, tied head, GQA 4/2', opts: { type: T.F16, embd: 64, heads: 4, kvHeads: 2, tied: true }, tol: 1e-3 },
  { name: 'Q8_0, GQA 8/2', opts: { type: T.Q8_0, embd: 128, heads: 8, kvHeads: 2, layers: 3 }, tol: 2e-3 },
  { name: 'Q4_0, tied head', opts: { type: T.Q4_0, embd: 64, heads: 2, tied: true }, tol: 2e-3 },
  // Rows of 256 and 512 values: Q4_0 and Q8_0 stored split on the GPU (runtime/weight-layout.ts), the tied table too.
  { name: 'Q4_0 split rows, tied head, GQA 4/2', opts: { type: T.Q4_0, embd: 256, ff: 512, heads: 4, kvHeads: 2, layers: 1, tied: true }, tol: 2e-3 },
  { name: 'Q8_0 split rows', opts: { type: T.Q8_0, embd: 256, ff: 256, heads: 2, layers: 1 }, tol: 2e-3 },
  { name: 'Q4_K, GQA 4/1', opts: { type: T.Q4_K, embd: 256, ff: 512, heads: 4, kvHeads: 1 }, tol: 2e-3 },
  { name: 'Q6_K, separate head', opts: { type: T.Q6_K, embd: 256, ff: 256, heads: 2, layers: 1 }, tol: 2e-3 },
];

const PROMPT = [1, 300, 17, 42, 99, 260];

describe('compiled programs on synthetic models match a TypeScript forward pass', function () {
  this.timeout(300_000);

  for (const m of MODELS) {
    describe(m.name, () => {
      const bytes = synthLlama({ ...m.opts, seed: 11 });
      let ref: RefLlama;
      before(() => {
        ref = RefLlama.load(bytes);
      });

      it(`logits within ${m.tol} of the reference`, async () => {
        const r = await runProgram({ file: 'logits.tl', text: LOGITS_TL }, bytes, { ids: PROMPT });
        r.program.destroy();
        const got = JSON.parse(r.output) as number[];
        const want = ref.logits(PROMPT);
        assert.equal(got.length, want.length);
        const diff = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
        assert.ok(diff < m.tol, `max |logit difference| ${diff}`);
      });

      it('examples/chat.tl generates the greedy tokens of the reference (KV cache on)', async () => {
        const r = await runProgram({ file: 'examples/chat.tl' }, bytes, { prompt: 'hello world', max_tokens: 8, temperature: 0 });
        r.program.destroy();
        const prompt = r.program.tokenizer!.encode('hello world', { addBos: true });
        assert.equal(r.prompt_tokens, prompt.length);
        assert.deepEqual(r.tokens, ref.greedy(prompt, 8).filter((t) => t !== ref.hp.eos_id));
      });
    });
  }
});

describe('seeded sampling', function () {
  this.timeout(300_000);
  const bytes = synthLlama({ type: T.F32, embd: 64, heads: 4, seed: 5 });
  const ref = RefLlama.load(bytes);
  let program: Program;
  before(async () => {
    const src = bytesSource(bytes), file = await readGguf(src);
    program = await Program.load(await testGpu(), build(readFileSync('examples/chat.tl', 'utf8'), 'examples/chat.tl', modelInfo(file)), src, { file });
  });
  after(() => program?.destroy());
  const run = (args: Record<string, HostValue>) => program.run({ prompt: 'a', ...args }, { write: () => {} });

  // The run draws u from new Rng(seed), one number per sampled token; the token is the reference's
  // sample of the reference's logits for that u (test/reference/ops.ts), except where u lands within
  // the logits' tolerance (1e-3) of a boundary between two tokens: there either neighbour will do.
  it('the tokens are the reference\'s draws from the seeded Rng; the same seed gives the same tokens', async () => {
    const o = { temperature: 1.5, topK: 0, topP: 1 };
    for (const seed of [1, 2, 0xffffffff]) {
      const r = await run({ max_tokens: 12, temperature: o.temperature, top_k: o.topK, top_p: o.topP, seed });
      const seq = program.tokenizer!.encode('a', { addBos: true }), rng = new Rng(seed);
      assert.equal(r.tokens.length, 12);
      r.tokens.forEach((tok, i) => {
        const logits = ref.logits(seq), u = rng.next();
        const allowed = [u, Math.max(0, u - 1e-3), Math.min(0.9999999, u + 1e-3)].map((x) => refSample(logits, o, x));
        assert.ok(allowed.includes(tok), `seed ${seed}, token ${i} (u ${u}): run ${tok}, reference ${allowed[0]}`);
        seq.push(tok);
      });
      assert.deepEqual((await run({ max_tokens: 12, temperature: o.temperature, top_k: o.topK, top_p: o.topP, seed })).tokens, r.tokens);
    }
  });

  // The first token of 400 seeds against top-k 4 of softmax(logits / 1.5): a chi-square bound at
  // p = 0.001 (3 degrees of freedom), and no token outside the top 4.
  it('over 400 seeds the first token follows the top-k distribution', async () => {
    const N = 400, K = 4, T_ = 1.5;
    const logits = ref.logits(program.tokenizer!.encode('a', { addBos: true }));
    const top = [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, K);
    const w = top.map((t) => Math.exp((logits[t] - logits[top[0]]) / T_)), total = w.reduce((a, b) => a + b);
    const counts = new Map<number, number>();
    for (let seed = 0; seed < N; seed++) {
      const [tok] = (await run({ max_tokens: 1, temperature: T_, top_k: K, top_p: 1, seed })).tokens;
      counts.set(tok, (counts.get(tok) ?? 0) + 1);
    }
    for (const t of counts.keys()) assert.ok(top.includes(t), `token ${t} is outside the top ${K} (${top}) but came up ${counts.get(t)} times`);
    const chi2 = top.reduce((acc, t, i) => acc + ((counts.get(t) ?? 0) - (N * w[i]) / total) ** 2 / ((N * w[i]) / total), 0);
    assert.ok(chi2 < 16.27, `chi-square ${chi2.toFixed(2)}: counts ${top.map((t) => `${t}: ${counts.get(t) ?? 0}`)}, expected ${w.map((x) => ((N * x) / total).toFixed(1))}`);
  });
});

describe('bad input at run time', function () {
  this.timeout(120_000);

  it('a prompt longer than the context says so', async () => {
    const bytes = synthLlama({ type: T.F32, embd: 64, heads: 4, seed: 5 });
    const src = bytesSource(bytes);
    const file = await readGguf(src);
    const artifact = build(readFileSync('examples/chat.tl', 'utf8'), 'examples/chat.tl', modelInfo(file));
    const program = await Program.load(await testGpu(), artifact, src, { file, ctx: 8 });
    await assert.rejects(
      program.run({ prompt: 'a long prompt that needs more than eight tokens', max_tokens: 4, temperature: 0 }, { write: () => {} }),
      /longer than the context \(8 tokens\)/,
    );
    program.destroy();
  });
});
