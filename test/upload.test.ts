// Uploading GGUF tensors to the GPU: the bytes on the GPU are the file's, chunked by whole rows
// when a tensor is larger than one buffer may be, with progress over all tensors together.
import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { testGpu } from './support/gpu.ts';
import { KernelRunner } from '../runtime/kernels.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf, GgufError, ggmlTypeName, type GgufFile } from '../runtime/gguf.ts';
import { blockInfo } from '../runtime/quant.ts';
import { openGguf } from '../runtime/node/gguf.ts';
import { uploadTensor, uploadWeights } from '../runtime/upload.ts';
import { synthLlama, writeGguf, kv } from '../runtime/gguf-writer.ts';
import type { WeightTensor } from '../runtime/weights.ts';
import { requireShared } from './support/shared.ts';

/** The tensor's bytes as the GPU holds them, chunks concatenated (each chunk's padding dropped). */
async function readBack(k: KernelRunner, w: WeightTensor, rowBytes: number): Promise<Uint8Array> {
  const parts = await Promise.all(w.chunks.map(async (c) => new Uint8Array(await k.read(c.buffer, c.rows * rowBytes))));
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

async function fileBytes(file: GgufFile, name: string): Promise<Uint8Array> {
  const t = file.tensor(name)!;
  return file.source.read(t.offset, t.byteLength);
}

const destroy = (ws: Iterable<WeightTensor>) => { for (const w of ws) for (const c of w.chunks) c.buffer.destroy(); };

describe('uploading tensors to the GPU', function () {
  let k: KernelRunner;
  before(async () => { k = new KernelRunner(await testGpu()); });

  it('uploads every tensor of stories260K byte for byte, one buffer each', async function () {
    const file = await openGguf(requireShared(this, 'stories260K.gguf'));
    const weights = await uploadWeights(k.device, file, file.tensors.map((t) => t.name));
    assert.equal(weights.size, 48);
    for (const t of file.tensors) {
      const w = weights.get(t.name)!;
      assert.deepEqual([w.type, w.shape, w.chunks.length, w.chunks[0].rowStart, w.chunks[0].rows], [t.type, t.shape, 1, 0, t.shape[1] ?? 1]);
      assert.ok(w.chunks[0].buffer.usage & GPUBufferUsage.STORAGE);
    }
    for (const name of ['token_embd.weight', 'blk.4.ffn_down.weight', 'output_norm.weight']) {
      assert.deepEqual(await readBack(k, weights.get(name)!, file.tensor(name)!.shape[0] * 4), await fileBytes(file, name), name);
    }
    destroy(weights.values());
    await file.source.close?.();
  });

  // [type, row length, rows, maxChunkBytes, expected rows per chunk]
  const chunked: [T, number, number, number, number][] = [
    [T.F32, 8, 10, 100, 3],        // 32-byte rows, 96 of 100 bytes used
    [T.Q8_0, 32, 7, 70, 2],        // 34-byte rows: chunks of 68 bytes, padded to 68; the last (1 row) to 36
    [T.Q8_0, 64, 5, 68, 1],        // exactly one row per chunk
    [T.Q4_0, 32, 9, 40, 2],        // 18-byte rows
    [T.F16, 6, 7, 1000, 7],        // fits in one chunk; 84 bytes
    [T.F16, 3, 5, 1000, 5],        // 30 bytes, padded to 32
    [T.F16, 3, 5, 14, 2],          // 6-byte rows: the limit rounds down to 12 so that padded chunks fit
    [T.Q6_K, 256, 3, 500, 2],      // 210-byte rows
  ];
  for (const [type, ne0, rows, maxChunkBytes, perChunk] of chunked) {
    const name = `${ggmlTypeName(type)} [${ne0}, ${rows}] in chunks of at most ${maxChunkBytes} bytes`;
    it(`${name}: ${Math.ceil(rows / perChunk)} chunks of ${perChunk} rows, same bytes`, async () => {
      const { blockSize, bytesPerBlock } = blockInfo(type);
      const rowBytes = (ne0 / blockSize) * bytesPerBlock;
      const data = Uint8Array.from({ length: rowBytes * rows }, (_, i) => (i * 7 + 3) & 255);
      const file = await readGguf(bytesSource(writeGguf({ metadata: { 'general.architecture': kv.str('llama') }, tensors: [{ name: 'w', type, shape: [ne0, rows], data }] }), 'chunks.gguf'));
      const w = await uploadTensor(k.device, file, file.tensor('w')!, { maxChunkBytes });
      assert.deepEqual(w.chunks.map((c) => [c.rowStart, c.rows]),
        Array.from({ length: Math.ceil(rows / perChunk) }, (_, i) => [i * perChunk, Math.min(perChunk, rows - i * perChunk)]));
      for (const c of w.chunks) {
        assert.ok(c.buffer.size <= maxChunkBytes, `buffer of ${c.buffer.size} bytes`);
        assert.equal(c.buffer.size, Math.ceil((c.rows * rowBytes) / 4) * 4);
      }
      assert.deepEqual(await readBack(k, w, rowBytes), data);
      destroy([w]);
    });
  }

  // Q8_0 and Q4_0 rows of a multiple of 256 values go to the GPU split (runtime/weight-layout.ts):
  // each row's quants (the block bytes after the 2-byte scale), then its scales, 2 bytes a block.
  // [type, row length, rows, maxChunkBytes, pieceBytes, expected rows per chunk]
  const split: [T, number, number, number, number, number][] = [
    [T.Q4_0, 256, 5, 300, 100, 2], // 144-byte rows; pieces of 100 bytes round up to one row
    [T.Q8_0, 512, 3, 4096, 600, 3], // 544-byte rows, pieces of one row, one chunk
  ];
  for (const [type, ne0, rows, maxChunkBytes, pieceBytes, perChunk] of split) {
    it(`${ggmlTypeName(type)} [${ne0}, ${rows}] goes up split into quants and scales, chunks of ${perChunk} rows`, async () => {
      const { bytesPerBlock } = blockInfo(type);
      const blocks = ne0 / 32, rowBytes = blocks * bytesPerBlock, quantBytes = bytesPerBlock - 2;
      const data = Uint8Array.from({ length: rowBytes * rows }, (_, i) => (i * 13 + 5) & 255);
      const want = new Uint8Array(data.length);
      for (let r = 0; r < rows; r++) {
        for (let b = 0; b < blocks; b++) {
          const src = r * rowBytes + b * bytesPerBlock;
          for (let j = 0; j < quantBytes; j++) want[r * rowBytes + b * quantBytes + j] = data[src + 2 + j];
          want[r * rowBytes + blocks * quantBytes + 2 * b] = data[src];
          want[r * rowBytes + blocks * quantBytes + 2 * b + 1] = data[src + 1];
        }
      }
      const file = await readGguf(bytesSource(writeGguf({ metadata: {}, tensors: [{ name: 'w', type, shape: [ne0, rows], data }] }), 'split.gguf'));
      const w = await uploadTensor(k.device, file, file.tensor('w')!, { maxChunkBytes, pieceBytes });
      assert.deepEqual(w.chunks.map((c) => c.rows), Array.from({ length: Math.ceil(rows / perChunk) }, (_, i) => Math.min(perChunk, rows - i * perChunk)));
      assert.deepEqual(await readBack(k, w, rowBytes), want);
      destroy([w]);
    });
  }

  it('reports progress over all tensors together: rising, ending at the total', async () => {
    const file = await readGguf(bytesSource(synthLlama({ layers: 2, embd: 64, heads: 4, ff: 128, vocab: 300, type: T.Q8_0 }), 'synth.gguf'));
    const names = file.tensors.map((t) => t.name);
    const calls: [number, number][] = [];
    const weights = await uploadWeights(k.device, file, names, { pieceBytes: 1000, maxChunkBytes: 4096, onProgress: (done, total) => calls.push([done, total]) });
    const total = file.tensors.reduce((a, t) => a + t.byteLength, 0);
    assert.ok(calls.length > names.length, `${calls.length} calls`);
    assert.ok(calls.every(([, t]) => t === total));
    assert.ok(calls.every(([d], i) => i === 0 || d > calls[i - 1][0]), 'strictly rising');
    assert.deepEqual(calls.at(-1), [total, total]);
    const embd = weights.get('token_embd.weight')!;
    assert.ok(embd.chunks.length > 1);
    assert.deepEqual(await readBack(k, embd, (64 / 32) * 34), await fileBytes(file, 'token_embd.weight'));
    destroy(weights.values());
  });

  it('fails cleanly when the file shrinks under it (a short read)', async () => {
    const file = await readGguf(bytesSource(synthLlama({ layers: 1, embd: 32, heads: 2, ff: 32, vocab: 260 }), 'shrunk.gguf'));
    const t = file.tensor('token_embd.weight')!;
    const source = { ...file.source, read: async (o: number, n: number) => (await file.source.read(o, n)).subarray(0, n - 8) };
    await assert.rejects(uploadTensor(k.device, { ...file, source }, t, { pieceBytes: 4096 }),
      new RegExp(`^GgufError: shrunk\\.gguf: tensor token_embd\\.weight ends early: read 4088 of 4096 bytes at offset ${t.offset}\\.`));
  });

  const refusals: [string, (file: GgufFile) => Promise<unknown>, RegExp][] = [
    ['an unsupported type, before uploading anything', (f) => uploadWeights(k.device, f, ['ok', 'odd'], { onProgress: () => assert.fail('uploaded before checking') }), /^types\.gguf: tensor odd has type Q5_1, which tlc does not support/],
    ['a missing tensor', (f) => uploadWeights(k.device, f, ['ok', 'nope']), /^types\.gguf: the model has no tensor named nope/],
    ['a row larger than a chunk may be', (f) => uploadTensor(k.device, f, f.tensor('ok')!, { maxChunkBytes: 64 }), /^types\.gguf: tensor ok has rows of 128 bytes, more than one GPU buffer may hold \(64\)/],
  ];
  for (const [what, run, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const file = await readGguf(bytesSource(writeGguf({
        metadata: {},
        tensors: [
          { name: 'ok', type: T.F32, shape: [32, 2], data: new Uint8Array(256) },
          { name: 'odd', type: T.Q5_1, shape: [32, 2], data: new Uint8Array(48) },
        ],
      }), 'types.gguf'));
      await assert.rejects(run(file), (e: Error) => e instanceof GgufError && message.test(e.message));
    });
  }
});
