// The page's one link to the generation API: read a model's header, compile the conversation program
// for it and load it onto the GPU, then chat (runtime/conversation.ts, as `tlc chat` does) or continue
// a text (as `tlc run examples/chat.tl` does). Device trouble becomes one clear message.
import {
  benchModel, build, CONVERSATION_TL, DeviceError, llamaHParams, modelInfo, Program, readGguf, TlcError,
  type ByteSource, type Conversation, type DeviceInfo, type GgufFile, type Gpu, type LlamaHParams, type ModelBenchResult,
  type ReplyParams, type ReplyResult, type RunIo, type RunOptions, type RunResult,
} from './lib.ts';

/**
 * Limits the kernels in shaders/ assume: 256-thread workgroups and grids of up to 65535 groups per
 * dimension. They are WebGPU's defaults, so a conforming adapter meets them; a page that finds less says so.
 */
export const NEEDED_LIMITS: Record<string, number> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** What the device lacks, one phrase per limit ("maxComputeInvocationsPerWorkgroup is 64, tlc needs 256"). */
export function limitProblems(info: DeviceInfo, needed = NEEDED_LIMITS): string[] {
  return Object.entries(needed)
    .filter(([name, min]) => !(info.limits[name] >= min))
    .map(([name, min]) => `${name} is ${info.limits[name] ?? 'missing'}, tlc needs ${min}`);
}

export interface ModelHeader {
  source: ByteSource;
  file: GgufFile;           // header only: metadata and tensor infos
  hparams: LlamaHParams;
}

export async function readModel(source: ByteSource): Promise<ModelHeader> {
  const file = await readGguf(source);
  return { source, file, hparams: llamaHParams(file) };
}

export interface LoadedModel {
  header: ModelHeader;
  /** CONVERSATION_TL (examples/chat.tl on token ids) compiled for the model: chat turns and text runs. */
  program: Program;
  compileMs: number;        // the program -> artifact, in the page
  loadMs: number;           // weights read and uploaded
  release(): void;          // frees its GPU buffers
}

/** Compiles the conversation program for the model and uploads the weights it uses; `ctx` as Program.load's. */
export async function loadModel(
  gpu: Gpu, header: ModelHeader, opts: { ctx?: number; onProgress(done: number, total: number): void },
): Promise<LoadedModel> {
  const t0 = performance.now();
  const artifact = build(CONVERSATION_TL, 'conversation.tl', modelInfo(header.file));
  const t1 = performance.now();
  const program = await deviceGuard(gpu, `loading ${header.source.name}`, () =>
    Program.load(gpu, artifact, header.source, { file: header.file, ctx: opts.ctx, onProgress: opts.onProgress, readText: fetchText }));
  return { header, program, compileMs: t1 - t0, loadMs: performance.now() - t1, release: () => program.destroy() };
}

/** Sampling parameters: the program's arg("...") names. */
export type Sampling = Required<Pick<ReplyParams, 'max_tokens' | 'temperature' | 'top_k' | 'top_p' | 'seed'>>;

/** A reply, in either mode: the run's result, what ended it, and (chat) how the conversation changed. */
export interface Reply extends RunResult {
  /** The reply as shown (a chat reply ends before a stop text). */
  reply: string;
  finish: ReplyResult['finish'];
  dropped_turns: number;
}

/**
 * One turn of the conversation (or the last one again): runtime/conversation.ts renders it with the
 * model's chat template, keeps the KV cache across turns, and drops the oldest turns that do not fit.
 */
export async function chatTurn(gpu: Gpu, chat: Conversation, text: string | undefined, params: Sampling, io: RunIo, opts: RunOptions): Promise<Reply> {
  try {
    return await deviceGuard(gpu, 'generating', () => (text === undefined ? chat.regenerate(io, params, opts) : chat.say(text, io, params, opts)));
  } catch (e) {
    // The conversation's own words, plus where the page's context is set.
    if (e instanceof TlcError && e.message.startsWith('the message is too long')) {
      throw new TlcError(`${e.message}: shorten the message, or raise the context (the field beside the meter).`);
    }
    throw e;
  }
}

/** Text mode: the model continues `prompt` (no history, no template), as `tlc run examples/chat.tl` does. */
export async function continueText(gpu: Gpu, program: Program, prompt: string, params: Sampling, io: RunIo, opts: RunOptions): Promise<Reply> {
  const ids = program.tokenizer!.encode(prompt);
  if (ids.length >= program.ctx) {
    throw new TlcError(`The text is ${ids.length} tokens and the context holds ${program.ctx}: shorten it, or raise the context (the field beside the meter).`);
  }
  const r = await deviceGuard(gpu, 'generating', () => program.run({ ids, ...params }, io, opts));
  return { ...r, reply: r.text, finish: r.stopped_by, dropped_turns: 0 };
}

/**
 * Benchmarks the model: chat.tl compiled and loaded again (its own Program, freed at the end), a prompt of
 * about `promptTokens` read, `tokens` decoded greedily, beside the adapter's streaming-read roofline.
 */
export async function bench(
  gpu: Gpu, header: ModelHeader, programText: string | undefined,
  o: { promptTokens: number; tokens: number; say(line: string): void },
): Promise<ModelBenchResult> {
  if (programText === undefined) throw new TlcError('There is no program to bench: examples/chat.tl was absent when this page was built.');
  if (!(Number.isInteger(o.promptTokens) && o.promptTokens >= 1)) throw new TlcError(`Bench: prompt tokens must be a whole number >= 1, not ${o.promptTokens}.`);
  if (!(Number.isInteger(o.tokens) && o.tokens >= 2)) throw new TlcError(`Bench: tokens must be a whole number >= 2 (the first comes from the prompt), not ${o.tokens}.`);
  // As `tlc bench --model`: a context just big enough (the chat template and BOS add a few tokens), at least 256.
  const trained = header.hparams.n_ctx_train;
  const need = o.promptTokens + o.tokens + 8;
  if (need > trained) throw new TlcError(`Bench: ${o.promptTokens} prompt tokens and ${o.tokens} tokens do not fit in the model's context (${trained} tokens).`);
  const ctx = Math.min(trained, Math.max(256, need));
  return deviceGuard(gpu, `benchmarking ${header.source.name}`, () =>
    benchModel(gpu, programText, header.source, header.file, { ...o, ctx, short: true }));
}

// ---------------------------------------------------------------------------------------------
// Device trouble, said plainly: a model too big for the memory the browser gives WebGPU, or a lost device.

const watched = new WeakSet<GPUDevice>();
const lost = new WeakMap<GPUDevice, GPUDeviceLostInfo>();

/** Runs `fn` with an out-of-memory error scope open; turns what a too-big model causes into one clear TlcError. */
async function deviceGuard<T>(gpu: Gpu, what: string, fn: () => Promise<T>): Promise<T> {
  const device = gpu.device;
  if (!watched.has(device)) {
    watched.add(device);
    void device.lost.then((info) => lost.set(device, info));
  }
  device.pushErrorScope('out-of-memory');
  let result: T | undefined, error: unknown;
  try {
    result = await fn();
  } catch (e) {
    error = e;
  }
  const oom = await device.popErrorScope().catch(() => null);
  const gone = lost.get(device);
  if (gone && gone.reason !== 'destroyed') {
    throw new TlcError(`The GPU device was lost while ${what} (${gone.message || 'no reason given'}). ` +
      'The model may be too big for this browser; reload the page to start again.');
  }
  const outOfMemory = (oom?.message ?? (isOutOfMemory(error) ? (error as Error).message : undefined))?.replace(/\.$/, '');
  if (outOfMemory !== undefined) {
    throw new TlcError(`Out of memory while ${what}: the model does not fit in the memory this browser gives WebGPU ` +
      `(${outOfMemory}). Try a smaller or more quantized model.`);
  }
  if (error !== undefined) throw error;
  return result as T;
}

function isOutOfMemory(e: unknown): boolean {
  if (e instanceof DeviceError) return e.message.startsWith('Out of GPU memory');
  // V8 when it cannot allocate a read buffer: "Array buffer allocation failed".
  return e instanceof RangeError && /allocation failed|out of memory/i.test(e.message);
}

/** `load_tokenizer("path")` in the page: the file next to the page, fetched. */
async function fetchText(path: string): Promise<string> {
  const r = await fetch(path);
  if (!r.ok) throw new TlcError(`load_tokenizer("${path}"): HTTP ${r.status}`);
  return r.text();
}
