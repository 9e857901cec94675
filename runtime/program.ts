// A built program bound to a device and a model: what `tlc run` and the browser page drive.
//
//   const p = await Program.load(gpu, artifact, source, { onProgress });
//   const r = await p.run({ prompt: 'Once upon a time' }, { write: (t) => out(t) });
import type { Artifact } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import type { HostValue } from '../compiler/ir.ts';
import type { ByteSource } from './bytes.ts';
import type { Gpu } from './device.ts';
import { GraphExecutor, type InputValue } from './executor.ts';
import { readGguf, type GgufFile } from './gguf.ts';
import { llamaHParams } from './hparams.ts';
import { KernelRunner } from './kernels.ts';
import { runHost, StoppedError } from './host.ts';
import { Rng } from './rng.ts';
import { tokenizerFromGguf, type Tokenizer } from './tokenizer/index.ts';
import { uploadWeights } from './upload.ts';
import { tuneWeightKernels } from './ops/matmul.ts';
import type { WeightTensor } from './weights.ts';
import { TlcError } from './errors.ts';
import { BufferPool, deviceValues } from './device-value.ts';

export interface LoadOptions {
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /** Most tokens (prompt + generated) a run may hold; default the model's context, at most 4096. */
  ctx?: number;
  /** Reads a tokenizer.json for `load_tokenizer(path)` (Node: the file system; browser: fetch). */
  readText?(path: string): Promise<string>;
  /** The already-parsed model header, when the caller has it. */
  file?: GgufFile;
}

export interface RunIo {
  write(text: string): void;
  signal?: AbortSignal;
  env?(name: string): string | undefined;
}

export interface RunTimings {
  load_ms: number;
  prefill_ms: number;
  decode_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

export interface RunResult {
  prompt_tokens: number;
  tokens: number[]; // generated token ids, in order
  text: string; // their decoded text
  stopped_by: 'eos' | 'max_tokens' | 'stopped' | 'end';
  timings: RunTimings;
}

export class Program {
  private constructor(
    readonly artifact: Artifact,
    readonly file: GgufFile | undefined,
    readonly tokenizer: Tokenizer | undefined,
    private executors: Map<number, GraphExecutor>,
    private pool: BufferPool,
    private loadMs: number,
    private opts: LoadOptions,
  ) {
    // A program that samples counts its steps by the sampler; one that only takes argmax, by argmax.
    const ops = artifact.ir.graphs.flatMap((g) => g.outputs.map((o) => g.nodes[o.node].op));
    this.samplerOp = ops.includes('sample') ? 'sample' : 'argmax';
  }

  private readonly samplerOp: string;

  static async load(gpu: Gpu, artifact: Artifact, model: ByteSource | undefined, opts: LoadOptions = {}): Promise<Program> {
    const t0 = performance.now();
    tuneWeightKernels(gpu); // the matmul layout that suits this adapter
    const runner = new KernelRunner(gpu);
    if (!artifact.model || !model) {
      if (artifact.model) throw new TlcError(`${artifact.source.file} needs a model: pass the GGUF file it was built for (${artifact.model.path}).`);
      const pool = new BufferPool(gpu.device);
      const executors = new Map(artifact.ir.graphs.map((g) => [g.id, new GraphExecutor(runner, g, new Map(), { ctx: opts.ctx ?? 4096, pool })]));
      return new Program(artifact, undefined, undefined, executors, pool, performance.now() - t0, opts);
    }
    const file = opts.file ?? (await readGguf(model));
    const info = modelInfo(file);
    if (info.fingerprint !== artifact.model.fingerprint) {
      throw new TlcError(
        `${artifact.source.file} was built for the model ${artifact.model.path}, and ${model.name} differs from it (another shape or tensor layout); build again with --model ${model.name}.`,
      );
    }
    const names = artifact.ir.weights.map((w) => w.name);
    const weights: Map<string, WeightTensor> = await uploadWeights(gpu.device, file, names, { onProgress: opts.onProgress });
    const hp = llamaHParams(file);
    const ctx = opts.ctx ?? Math.min(hp.n_ctx_train, 4096);
    const pool = new BufferPool(gpu.device);
    const executors = new Map(artifact.ir.graphs.map((g) => [g.id, new GraphExecutor(runner, g, weights, { ctx, pool })]));
    try {
      for (const e of executors.values()) e.warm();
    } catch (e) {
      // Free what was made, so a failed load (a shader the adapter rejects, no memory) leaks nothing.
      for (const x of executors.values()) x.destroy();
      pool.destroy();
      for (const w of weights.values()) for (const c of w.chunks) c.buffer.destroy();
      throw e;
    }
    const tokenizer = tokenizerFromGguf(file.metadata, model.name);
    return new Program(artifact, file, tokenizer, executors, pool, performance.now() - t0, opts);
  }

  /** Runs the program once. `args` feed `arg(name, default)`: prompt, max_tokens, temperature, seed, ... */
  async run(args: Record<string, HostValue>, io: RunIo): Promise<RunResult> {
    const rng = new Rng(Number(args.seed ?? 0x5eed));
    const tokens: number[] = [];
    let promptTokens = 0;
    const prefill = { ms: 0, tokens: 0 };
    const decode = { ms: 0, tokens: 0 };
    let stopped = false;
    let step = { ms: 0, seq: 0, rows: 0 }; // graph runs since the last sampled token
    const eos = this.file ? llamaHParams(this.file).eos_id : undefined;

    try {
      await runHost(this.artifact.ir.host, {
        args,
        write: io.write,
        env: (name) => io.env?.(name),
        random: () => rng.next(),
        signal: io.signal,
        tokenizer: () => {
          if (!this.tokenizer) throw new TlcError('this program has no model, so it has no tokenizer: load_model(...) first');
          return this.tokenizer;
        },
        chatTemplate: this.file?.metadata['tokenizer.chat_template'] as string | undefined,
        loadTokenizer: async (path) => {
          if (!this.opts.readText) throw new TlcError(`load_tokenizer("${path}"): reading tokenizer files is not available here`);
          const { tokenizerFromHfJson } = await import('./tokenizer/index.ts');
          let text: string;
          try {
            text = await this.opts.readText(path);
          } catch (e) {
            throw new TlcError(`load_tokenizer("${path}"): cannot read the file (${(e as Error).message.replace(/^[A-Z]+: /, '')})`);
          }
          return tokenizerFromHfJson(text);
        },
        runGraph: async (id, dims, inputs, live) => {
          const exec = this.executors.get(id)!;
          // Buffers of device values nothing refers to any more go back to the pool first.
          this.pool.collect([...deviceValues([...live(), ...inputs]), ...[...this.executors.values()].flatMap((e) => e.liveValues())]);
          const t = performance.now();
          await exec.run(dims, inputs as InputValue[]);
          step.ms += performance.now() - t;
          step.seq = Math.max(step.seq, exec.lastSeq);
          step.rows = Math.max(step.rows, exec.lastRows);
          // The graph that samples a token ends a generation step (the graphs since the last one
          // are its parts); the first step is the prefill.
          const sampled = exec.graph.outputs.findIndex((o) => !o.keep && exec.graph.nodes[o.node].op === this.samplerOp);
          if (sampled < 0) return;
          if (tokens.length === 0) {
            promptTokens = step.seq;
            prefill.ms += step.ms;
            prefill.tokens += step.rows || step.seq || 1;
          } else {
            decode.ms += step.ms;
            decode.tokens += 1;
          }
          step = { ms: 0, seq: 0, rows: 0 };
          tokens.push(Number(exec.output(sampled)));
        },
        readOutput: (graph, output) => this.executors.get(graph)!.output(output),
      });
    } catch (e) {
      if (!(e instanceof StoppedError)) throw e;
      stopped = true;
    }
    const last = tokens.length ? tokens[tokens.length - 1] : undefined;
    // The EOS token ends generation; it is not part of the text.
    const generated = last !== undefined && last === eos ? tokens.slice(0, -1) : tokens;
    return {
      prompt_tokens: promptTokens,
      tokens: generated,
      text: this.tokenizer?.decode(generated) ?? '',
      stopped_by: stopped ? 'stopped' : last === undefined ? 'end' : last === eos ? 'eos' : 'max_tokens',
      timings: {
        load_ms: round(this.loadMs),
        prefill_ms: round(prefill.ms),
        decode_ms: round(decode.ms),
        prefill_tok_s: round(prefill.ms ? (prefill.tokens * 1000) / prefill.ms : 0),
        decode_tok_s: round(decode.ms ? (decode.tokens * 1000) / decode.ms : 0),
      },
    };
  }

  destroy(): void {
    for (const e of this.executors.values()) e.destroy();
    this.pool.destroy();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
