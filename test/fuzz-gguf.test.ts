// Damaged GGUF files through everything a build reads (header, hyperparameters, the compiler's model
// view, the tokenizer): fast-check flips, overwrites and truncates bytes of a small synthetic model's
// header. Property: a TlcError with a message, or success; never another exception, never a hang.
import fc from 'fast-check';
import { fuzzRuns } from './support/fuzz.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { readGguf } from '../runtime/gguf.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { llamaHParams } from '../runtime/hparams.ts';
import { modelInfo } from '../compiler/model-info.ts';
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts';
import { TlcError } from '../runtime/errors.ts';

const good = synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, seed: 3 });
const LIMIT_MS = 2000;

async function load(bytes: Uint8Array): Promise<void> {
  const file = await readGguf(bytesSource(bytes, 'fuzz.gguf'));
  llamaHParams(file);
  modelInfo(file);
  tokenizerFromGguf(file.metadata, 'fuzz.gguf');
}

/** Runs `load` with a time limit; only TlcErrors may come out. */
async function survives(bytes: Uint8Array): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer after ${LIMIT_MS} ms`)), LIMIT_MS)));
  try {
    await Promise.race([load(bytes), hang]);
  } catch (e) {
    if (!(e instanceof TlcError) || !e.message) throw e;
  } finally {
    clearTimeout(timer);
  }
}

describe('GGUF loader: damaged headers (fast-check)', function () {
  this.timeout(120_000);

  it('the undamaged model loads', async () => {
    await load(good);
  });

  it('random byte overwrites in the header: a TlcError or success, in time', async () => {
    const headerEnd = 4096; // metadata and tensor infos of this small model lie well inside
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(headerEnd - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (edits) => {
        const bytes = good.slice();
        for (const [at, v] of edits) bytes[at] = v;
        await survives(bytes);
      }),
      { seed: 11, numRuns: fuzzRuns(2000) },
    );
  });

  it('truncations anywhere: a TlcError or success, in time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(good.length - 1), async (n) => survives(good.slice(0, n))),
      { seed: 12, numRuns: fuzzRuns(500) },
    );
  });
});
