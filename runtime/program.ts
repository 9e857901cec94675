// A built program bound to a device and a model: what `tlc run` and the browser page drive.
//
//   const p = await Program.load(gpu, artifact, source, { onProgress });
//   const r = await p.run({ prompt: 'Once upon a time' }, { write: (t) => out(t) });
import type { Artifact } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import type { Graph, HostValue } from '../compiler/ir.ts';
import type { ByteSource } from './bytes.ts';
import type { Gpu } from './device.ts';
import { GraphExecutor, type InputValue } from './executor.ts';
import { ggmlTypeName, readGguf, type GgufFile } from './gguf.ts';
import { llamaHParams } from './hparams.ts';
import { KernelRunner } from './kernels.ts';
import { runHost, StoppedError } from './host.ts';
import { Rng } from './rng.ts';
import { tokenizerFromGguf, type Tokenizer } from './tokenizer/index.ts';
import { uploadWeights } from './upload.ts';
import { tuneWeightKernels } from './ops/matmul.ts';
import type { WeightTensor } from './weights.ts';
import { TlcError } from './errors.ts';
import { BufferPool, DeviceValue, deviceValues } from './device-value.ts';
import { checkRunArgs, checkRunParam } from './run-params.ts';
import { Profiler, type RunProfile } from './profile.ts';

export interface LoadOptions {
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /** Most tokens (prompt + generated) a run may hold; default the model's context, at most 4096. */
  ctx?: number;
  /** Reads a tokenizer.json for `load_tokenizer(path)` (Node: the file system; browser: fetch). */
  readText?(path: string): Promise<string>;
  /** Prompt tokens read per graph run (default PREFILL_CHUNK, 64): Stop and progress come between chunks. */
  prefillChunk?: number;
  /** The already-parsed model header, when the caller has it. */
  file?: GgufFile;
}

export interface RunIo {
  write(text: string): void;
  signal?: AbortSignal;
  /** A long prompt is read in chunks (PREFILL_CHUNK tokens): called after each with the tokens read so far. */
  onPrefill?(done: number, total: number): void;
  /**
   * Called as each token is sampled, before the program writes it: the tokens generated so far and the
   * prompt's length. The EOS that ends the text is not counted (it is not part of it).
   */
  onToken?(generated: number, promptTokens: number): void;
  env?(name: string): string | undefined;
}

export interface RunOptions {
  /** Time every dispatch on the GPU (a timed pass each, so somewhat slower); the result gets a `profile`. */
  profile?: boolean;
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
  /** Prompt tokens actually read; the others came from the KV cache of the last run (a shared token prefix). */
  prompt_read: number;
  tokens: number[]; // generated token ids, in order
  text: string; // their decoded text
  /**
   * eos: the model ended its text; max_tokens: the program's token loop ran out; stopped: io.signal;
   * context: the prompt was read and the generated tokens filled the context (ctx); end: the program
   * ended without sampling a token.
   */
  stopped_by: 'eos' | 'max_tokens' | 'stopped' | 'context' | 'end';
  timings: RunTimings;
  /** GPU time per op and kernel, dispatch counts, wall time: only when the run was profiled (RunOptions.profile). */
  profile?: RunProfile;
}

/** Thrown inside a run when the next step would not fit in the context; the run ends with stopped_by 'context'. */
class ContextFull extends Error {}

export class Program {
  private constructor(
    readonly artifact: Artifact,
    readonly file: GgufFile | undefined,
    readonly tokenizer: Tokenizer | undefined,
    private executors: Map<number, GraphExecutor>,
    private pool: BufferPool,
    private loadMs: number,
    private opts: LoadOptions,
    /** Most tokens (prompt + generated) a run holds. */
    readonly ctx: number,
    private gpu: Gpu,
  ) {
    // A program that samples counts its steps by the sampler; one that only takes argmax, by argmax.
    const ops = artifact.ir.graphs.flatMap((g) => g.outputs.map((o) => g.nodes[o.node].op));
    this.samplerOp = ops.includes('sample') ? 'sample' : 'argmax';
  }

  private readonly samplerOp: string;
  /** A graph run a stopped run stopped waiting for (it finishes on the GPU); the next run waits for it. */
  private inFlight?: Promise<void>;
  private destroyed = false;

  static async load(gpu: Gpu, artifact: Artifact, model: ByteSource | undefined, opts: LoadOptions = {}): Promise<Program> {
    const t0 = performance.now();
    if (opts.prefillChunk !== undefined && !(Number.isInteger(opts.prefillChunk) && opts.prefillChunk >= 1)) {
      throw new TlcError(`prefillChunk: expected a whole number >= 1, got ${opts.prefillChunk}`);
    }
    tuneWeightKernels(gpu); // the matmul layout that suits this adapter
    const runner = new KernelRunner(gpu);
    if (!artifact.model || !model) {
      if (artifact.model) throw new TlcError(`${artifact.source.file} needs a model: pass the GGUF file it was built for (${artifact.model.path}).`);
      checkCtx(opts.ctx);
      const ctx = opts.ctx ?? 4096;
      const pool = new BufferPool(gpu.device);
      const executors = new Map(artifact.ir.graphs.map((g) => [g.id, new GraphExecutor(runner, g, new Map(), { ctx, pool, prefillChunk: opts.prefillChunk })]));
      return new Program(artifact, undefined, undefined, executors, pool, performance.now() - t0, opts, ctx, gpu);
    }
    const file = opts.file ?? (await readGguf(model));
    const info = modelInfo(file);
    if (info.fingerprint !== artifact.model.fingerprint) {
      throw new TlcError(
        `${artifact.source.file} was built for the model ${artifact.model.path}, and ${model.name} differs from it (another shape or tensor layout); build again with --model ${model.name}.`,
      );
    }
    checkCtx(opts.ctx, llamaHParams(file).n_ctx_train); // before the upload: a bad ctx costs nothing
    // The weights the artifact expects, against the file (a hand-edited artifact can claim others).
    for (const w of artifact.ir.weights) {
      const t = file.tensor(w.name);
      if (!t || ggmlTypeName(t.type) !== w.type || t.shape.join() !== w.shape.join()) {
        throw new TlcError(`${artifact.source.file}: the artifact is damaged or from another version of tlc (it expects ${w.name} as ${w.type} [${w.shape.join(', ')}], and ${model.name} has ${t ? `${ggmlTypeName(t.type)} [${t.shape.join(', ')}]` : 'no such tensor'}); build it again.`);
      }
    }
    const names = artifact.ir.weights.map((w) => w.name);
    const weights: Map<string, WeightTensor> = await uploadWeights(gpu.device, file, names, { onProgress: opts.onProgress });
    const hp = llamaHParams(file);
    const ctx = opts.ctx ?? Math.min(hp.n_ctx_train, 4096);
    const pool = new BufferPool(gpu.device);
    const executors = new Map(artifact.ir.graphs.map((g) => [g.id, new GraphExecutor(runner, g, weights, { ctx, pool, prefillChunk: opts.prefillChunk })]));
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
    return new Program(artifact, file, tokenizer, executors, pool, performance.now() - t0, opts, ctx, gpu);
  }

  /** Runs the program once. `args` feed `arg(name, default)`: prompt, max_tokens, temperature, seed, ... */
  async run(argsIn: Record<string, HostValue>, io: RunIo, opts: RunOptions = {}): Promise<RunResult> {
    const args = checkRunArgs(argsIn); // a bad temperature, top_p, seed, ... is a TlcError before anything runs
    if (this.destroyed) throw new TlcError('this program was destroyed; load it again');
    if (this.inFlight) await this.inFlight; // what a stopped run left on the GPU, so the executors are whole
    const started = performance.now();
    const profiler = opts.profile ? new Profiler(this.gpu.device, this.gpu.hasTimestamps) : undefined;
    for (const e of this.executors.values()) e.profiler = profiler;
    const rng = new Rng(Number(args.seed ?? 0x5eed));
    const tokens: number[] = [];
    let promptTokens = 0;
    const prefill = { ms: 0, tokens: 0 };
    const decode = { ms: 0, tokens: 0 };
    let stopped: 'stopped' | 'context' | undefined;
    let step = { ms: 0, seq: 0, rows: 0 }; // graph runs since the last sampled token
    let reading = 0; // the sequence length of the graph run in progress (a prompt stopped in its prefill)
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
          // Once the prompt is read (a token was sampled), a step that would not fit in the context
          // ends the run (stopped_by 'context') with the tokens so far. A prompt longer than the
          // context stays an error (the executor says so).
          reading = exec.graph.incremental ? seqLength(exec.graph, dims, inputs) : Math.max(0, ...inputs.map((v) => (Array.isArray(v) ? v.length : 0)));
          if (tokens.length > 0 && exec.graph.incremental && reading > this.ctx) throw new ContextFull();
          // Buffers of device values nothing refers to any more go back to the pool first.
          this.pool.collect([...deviceValues([...live(), ...inputs]), ...[...this.executors.values()].flatMap((e) => e.liveValues())]);
          profiler?.startGraphRun(tokens.length === 0 ? 'prefill' : 'decode');
          const t = performance.now();
          await this.untilDoneOrStopped(exec.run(dims, inputs as InputValue[], { signal: io.signal, onRows: io.onPrefill }), io.signal);
          step.ms += performance.now() - t;
          profiler?.endGraphRun();
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
          const token = Number(exec.output(sampled));
          tokens.push(token);
          if (token !== eos) io.onToken?.(tokens.length, promptTokens);
        },
        readOutput: (graph, output) => this.executors.get(graph)!.output(output),
      });
    } catch (e) {
      if (e instanceof StoppedError) {
        stopped = 'stopped';
        if (tokens.length === 0) promptTokens = Math.max(step.seq, reading); // stopped while reading the prompt
      }
      else if (e instanceof ContextFull) stopped = 'context';
      else throw e;
    } finally {
      for (const e of this.executors.values()) e.profiler = undefined;
    }
    const profile = await profiler?.finish(performance.now() - started, decode.tokens, stopped === 'stopped');
    const last = tokens.length ? tokens[tokens.length - 1] : undefined;
    // The EOS token ends generation; it is not part of the text.
    const generated = last !== undefined && last === eos ? tokens.slice(0, -1) : tokens;
    return {
      prompt_tokens: promptTokens,
      prompt_read: prefill.tokens,
      tokens: generated,
      text: this.tokenizer?.decode(generated) ?? '',
      stopped_by: stopped ?? (last === undefined ? 'end' : last === eos ? 'eos' : 'max_tokens'),
      timings: {
        load_ms: round(this.loadMs),
        prefill_ms: round(prefill.ms),
        decode_ms: round(decode.ms),
        prefill_tok_s: round(prefill.ms ? (prefill.tokens * 1000) / prefill.ms : 0),
        decode_tok_s: round(decode.ms ? (decode.tokens * 1000) / decode.ms : 0),
      },
      ...(profile ? { profile } : {}),
    };
  }

  /**
   * Waits for a graph run, or until `signal` stops the run: then a StoppedError at once, and the graph
   * run finishes on the GPU by itself (a long prefill is one submit, which cannot be cut short); the
   * next run, or destroy, waits for it.
   */
  private untilDoneOrStopped(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return work;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const left: Promise<void> = work.catch(() => {}).then(() => {
          if (this.inFlight === left) this.inFlight = undefined;
        });
        this.inFlight = left;
        reject(new StoppedError());
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        () => (signal.removeEventListener('abort', onAbort), resolve()),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  /** Frees the program's GPU buffers (after a graph run a stopped run left in flight, if any). */
  destroy(): void {
    this.destroyed = true;
    if (this.inFlight) {
      void this.inFlight.then(() => this.free());
      return;
    }
    this.free();
  }

  private free(): void {
    for (const e of this.executors.values()) e.destroy();
    this.pool.destroy();
  }
}

/** `ctx` of LoadOptions: a whole number >= 1, and no more than the model's training context. */
function checkCtx(ctx: number | undefined, nCtxTrain?: number): void {
  if (ctx === undefined) return;
  const c = checkRunParam('ctx', ctx, 'ctx');
  if ('error' in c) throw new TlcError(c.error);
  if (nCtxTrain && ctx > nCtxTrain) throw new TlcError(`ctx: ${ctx} is more than the model's context (${nCtxTrain} tokens); give at most ${nCtxTrain}`);
}

/** The sequence length an incremental graph's run would hold: its seq dim, bound by the host or by a tensor input. */
function seqLength(g: Graph, dims: Record<string, number>, inputs: readonly unknown[]): number {
  const dim = g.incremental!.seqDim;
  if (dims[dim] !== undefined) return dims[dim];
  for (let i = 0; i < g.inputs.length; i++) {
    const inp = g.inputs[i], v = inputs[i];
    if (inp.kind !== 'tensor' || !(v instanceof DeviceValue)) continue;
    const k = g.nodes[inp.node].shape.indexOf(dim);
    if (k >= 0) return v.shape[k];
  }
  return 0;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
