// The benchmarks' own correctness (their speed is reported, never asserted): the streaming-read
// kernel reads every word it claims to, the roofline and the model bench report consistent
// figures, and `tlc bench --model` prints them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { KernelRunner } from '../runtime/kernels.ts';
import { streamReadKernel, type StreamReadSpec } from '../shaders/stream_read.ts';
import { measureRoofline } from '../runtime/roofline.ts';
import { benchModel, promptOf, weightBytesPerToken } from '../runtime/bench-model.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf } from '../runtime/gguf.ts';
import { Rng } from '../runtime/rng.ts';
import { testGpu } from './support/gpu.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHAT_TL = path.join(ROOT, 'examples/chat.tl');

describe('bench', () => {
  describe('stream_read kernel: each thread XORs exactly its words', () => {
    const cases: StreamReadSpec[] = [
      { pattern: 'contiguous', workgroupSize: 64, workgroups: 4, words: 64 * 4 * 3 },
      { pattern: 'strided', workgroupSize: 64, workgroups: 2, words: 64 * 2 * 5 },
    ];
    for (const spec of cases) {
      it(`${spec.pattern} wg${spec.workgroupSize} x ${spec.workgroups}, ${spec.words} words`, async () => {
        const runner = new KernelRunner(await testGpu());
        const rng = new Rng(3);
        const data = Uint32Array.from({ length: spec.words * 4 }, () => Math.floor(rng.next() * 2 ** 32));
        const threads = spec.workgroupSize * spec.workgroups, per = spec.words / threads;
        const a = runner.storage(data), out = runner.storage(threads * 4);
        await runner.run(streamReadKernel(spec), [a, out], [spec.workgroups]);
        const got = new Uint32Array(await runner.read(out, threads * 4));
        for (let t = 0; t < threads; t++) {
          let s = 0;
          for (let i = 0; i < per; i++) {
            const word = spec.pattern === 'contiguous' ? t * per + i : t + i * threads;
            for (let c = 0; c < 4; c++) s ^= data[word * 4 + c];
          }
          assert.equal(got[t], s >>> 0, `thread ${t}`);
        }
      });
    }
    it('refuses a buffer that does not split evenly', () => {
      assert.throws(() => streamReadKernel({ pattern: 'strided', workgroupSize: 64, workgroups: 2, words: 100 }), /do not split/);
    });
  });

  it('the roofline reads a buffer at least as large as asked (up to the binding limit) and names its kernel', async () => {
    const gpu = await testGpu();
    const r = await measureRoofline(gpu, 70 << 20, 1, 1);
    assert.ok(r.bytes >= 70 << 20 && r.bytes <= gpu.device.limits.maxStorageBufferBindingSize, `${r.bytes}`);
    assert.ok(r.gbPerS > 0 && Number.isFinite(r.gbPerS));
    assert.match(r.kernel, /^stream_read_(contiguous|strided)_/);
  });

  it('promptOf finds the longest filler with at most n tokens', () => {
    const words = (t: string) => t.split(' ').length;
    for (const n of [1, 2, 7, 50, 333]) assert.equal(words(promptOf(n, words)), n);
    const twoPerWord = (t: string) => 2 * t.split(' ').length + 1; // BOS + two tokens a word
    assert.equal(twoPerWord(promptOf(10, twoPerWord)), 9);
  });

  describe('weight bytes per token: every tensor, of the embedding table one row unless it is the head', () => {
    for (const tied of [false, true]) {
      it(tied ? 'tied output' : 'own output.weight', async () => {
        const file = await readGguf(bytesSource(synthLlama({ type: T.Q8_0, tied, vocab: 320, embd: 64 })));
        const embd = file.tensor('token_embd.weight')!;
        const others = file.tensors.filter((t) => t !== embd).reduce((a, t) => a + t.byteLength, 0);
        assert.equal(weightBytesPerToken(file), others + embd.byteLength / 320 + (tied ? embd.byteLength : 0));
      });
    }
  });

  it('benchModel: figures that agree with one another', async function () {
    this.timeout(120_000);
    const bytes = synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 256, type: T.Q4_0 });
    const src = bytesSource(bytes, 'synthetic.gguf');
    const file = await readGguf(src);
    const { readFileSync } = await import('node:fs');
    const r = await benchModel(await testGpu(), readFileSync(CHAT_TL, 'utf8'), src, file, { promptTokens: 40, tokens: 5, short: true });
    assert.ok(r.prompt_tokens > 20 && r.prompt_tokens <= 40, `prompt ${r.prompt_tokens}`);
    assert.equal(r.tokens, 4); // the first of 5 comes from the prefill
    assert.ok(r.decode_tok_s > 0 && r.prefill_tok_s > 0);
    assert.ok(Math.abs(r.decode_tok_s - 1000 / r.decode_ms_per_token) < 0.05 * r.decode_tok_s);
    assert.equal(r.weight_bytes_per_token, weightBytesPerToken(file));
    assert.ok(Math.abs(r.decode_gb_s - r.weight_bytes_per_token / r.decode_ms_per_token / 1e6) <= 0.01);
    assert.ok(Math.abs(r.roofline_pct - (100 * r.decode_gb_s) / r.roofline_gb_s) < 1);
    assert.ok(r.short && r.short.prompt_tokens <= 16 && r.short.decode_ms_per_token > 0);
  });

  describe('tlc bench --model', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tlc-bench-'));
    const model = path.join(dir, 'tiny.gguf');
    writeFileSync(model, synthLlama({ layers: 1, embd: 64, heads: 4, vocab: 320, ctx: 128, type: T.Q8_0 }));
    const tlc = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'bin/tlc.js'), ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

    it('--json gives the figures', async function () {
      this.timeout(120_000);
      const r = await tlc(['bench', '--model', model, '--prompt-tokens', '12', '--tokens', '3', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      for (const k of ['prefill_tok_s', 'decode_tok_s', 'weight_bytes_per_token', 'decode_gb_s', 'roofline_gb_s', 'roofline_pct']) {
        assert.equal(typeof out.tlc[k], 'number', k);
      }
      assert.equal(out.tlc.tokens, 2);
    });

    it('bad counts are usage errors', async function () {
      this.timeout(60_000);
      const r = await tlc(['bench', '--model', model, '--tokens', '0']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--tokens must be a whole number >= 2, got 0/);
    });
  });
});
