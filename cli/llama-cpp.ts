// llama.cpp on the same file, for `tlc bench --model --vs-llama-cpp`: through node-llama-cpp, an
// optional dependency that tlc does not install (it brings native binaries of some 100 MB). The
// same prompt length and token count as tlc's run, greedy, on the CPU with as many threads as the
// machine has (lavapipe also uses every core), timed here with the same clock.
import os from 'node:os';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TlcError } from '../runtime/errors.ts';
import { promptOf } from '../runtime/bench-model.ts';

export const LLAMA_CPP_MISSING = 'it needs node-llama-cpp: run `npm install --no-save node-llama-cpp` in the tlc folder';

export interface LlamaCppResult {
  version: string;
  threads: number;
  prompt_tokens: number;
  tokens: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

// The module's surface this file uses (node-llama-cpp 3.x), so tlc type-checks without it.
interface NodeLlamaCpp {
  getLlama(o: object): Promise<{
    loadModel(o: object): Promise<{
      tokenize(text: string): number[];
      createContext(o: object): Promise<{ getSequence(): Sequence; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
}
interface Sequence {
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], o: object): AsyncGenerator<number, void, void>;
  clearHistory(): Promise<void>;
}

export async function llamaCppBench(modelPath: string, o: { promptTokens: number; tokens: number; ctx: number; say(m: string): void }): Promise<LlamaCppResult> {
  const name = 'node-llama-cpp'; // a variable, so bundlers and tsc leave the import alone
  let lib: NodeLlamaCpp;
  try {
    lib = (await import(name)) as NodeLlamaCpp;
  } catch {
    throw new TlcError(`--vs-llama-cpp: ${LLAMA_CPP_MISSING}.`);
  }
  const threads = os.availableParallelism();
  const llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: o.ctx, threads, batchSize: 512 });
  try {
    const seq = context.getSequence();
    const ids = model.tokenize(promptOf(o.promptTokens, (t) => model.tokenize(t).length)).slice(0, o.promptTokens);
    const time = async (f: () => Promise<number>) => {
      const t0 = performance.now();
      const n = await f();
      return { n, ms: performance.now() - t0 };
    };
    const decode = async () => {
      let n = 0;
      for await (const _ of seq.evaluate([ids[ids.length - 1]], { temperature: 0 })) if (++n >= o.tokens) break;
      return n;
    };
    // Warm-up, as tlc's bench does, then the timed run from an empty cache.
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, 8));
    await seq.clearHistory();
    const prefill = await time(async () => (await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, -1)), ids.length - 1));
    const dec = await time(decode);
    return {
      version: versionOf(name),
      threads,
      prompt_tokens: ids.length,
      tokens: dec.n,
      prefill_tok_s: round((prefill.n * 1000) / prefill.ms),
      decode_tok_s: round((dec.n * 1000) / dec.ms),
    };
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The installed version of a package whose exports hide its package.json. */
function versionOf(pkg: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve(pkg));
  while (!existsSync(path.join(dir, 'package.json')) || JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg) {
    const up = path.dirname(dir);
    if (up === dir) return '?';
    dir = up;
  }
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}
