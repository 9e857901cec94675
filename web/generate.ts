// The page's one link to the generation API: read a model's header, compile chat.tl for it and load it
// onto the GPU, generate. The same steps as `tlc run examples/chat.tl --model M`, all in the page.
import {
  benchModel, build, DeviceError, llamaHParams, modelInfo, Program, readGguf, TlcError,
  type ByteSource, type DeviceInfo, type GgufFile, type Gpu, type HostValue, type LlamaHParams, type ModelBenchResult, type RunIo, type RunOptions, type RunResult,
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
  program: Program;
  compileMs: number;        // chat.tl -> artifact, in the page
  loadMs: number;           // weights read and uploaded
  release(): void;          // frees its GPU buffers
}

/** Compiles `programText` (chat.tl) for the model and uploads the weights it uses. */
export async function loadModel(
  gpu: Gpu, header: ModelHeader, programText: string | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<LoadedModel> {
  if (programText === undefined) throw new TlcError('There is no program to run: examples/chat.tl was absent when this page was built.');
  const t0 = performance.now();
  const artifact = build(programText, 'chat.tl', modelInfo(header.file));
  const t1 = performance.now();
  const program = await deviceGuard(gpu, `loading ${header.source.name}`, () =>
    Program.load(gpu, artifact, header.source, { file: header.file, onProgress, readText: fetchText }));
  return { header, program, compileMs: t1 - t0, loadMs: performance.now() - t1, release: () => program.destroy() };
}

/** Run-time parameters of chat.tl: its arg("...") names, and the seed of the sampler. */
export interface GenerateParams {
  prompt: string;
  max_tokens: number;
  temperature: number;
  seed: number;
  top_k?: number;
  top_p?: number;
}

export type Generation = RunResult;

/**
 * Runs the program once; `io.write` gets the text as it streams, `io.signal` stops it (stopped_by 'stopped').
 * With `opts.profile` every kernel is timed and the result has a `profile`.
 */
export function generate(model: LoadedModel, params: GenerateParams, io: RunIo, gpu: Gpu, opts: RunOptions = {}): Promise<Generation> {
  const args: Record<string, HostValue> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) args[k] = v;
  return deviceGuard(gpu, 'generating', () => model.program.run(args, io, opts));
}

/**
 * Benchmarks the model: chat.tl compiled and loaded again (its own Program, freed at the end), a prompt of
 * about `promptTokens` read, `tokens` decoded greedily, beside the adapter's streaming-read roofline.
 */
export async function bench(
  gpu: Gpu, header: ModelHeader, programText: string | undefined,
  o: { promptTokens: number; tokens: number; say(line: string): void },
): Promise<ModelBenchResult> {
  if (programText === undefined) throw new TlcError('There is no program to run: examples/chat.tl was absent when this page was built.');
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
