// The page's one link to the generation API: read a model's header, load it onto the GPU, generate.
//
// Phase 1 (now): loading reads the GGUF header and uploads every tensor, so the page shows real
// progress; generate() says that it waits for runtime/program.ts. Phase 2 swaps the two bodies for
//   const artifact = await compileSource(programText, 'chat.tl', header.file);
//   const program = await Program.load(gpu, artifact, header.source, { onProgress });
//   return program.run({ prompt, max_tokens, temperature, seed }, io);
// and nothing else on the page changes.
import {
  llamaHParams, readGguf, TlcError, uploadWeights,
  type ByteSource, type DeviceInfo, type GgufFile, type Gpu, type LlamaHParams, type WeightTensor,
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
  release(): void;          // frees its GPU buffers
}

export async function loadModel(
  gpu: Gpu, header: ModelHeader, _programText: string | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<LoadedModel> {
  const names = header.file.tensors.map((t) => t.name);
  const weights: Map<string, WeightTensor> = await uploadWeights(gpu.device, header.file, names, { onProgress });
  return {
    header,
    release: () => weights.forEach((t) => t.chunks.forEach((c) => c.buffer.destroy())),
  };
}

export interface GenerateParams {
  prompt: string;
  max_tokens: number;
  temperature: number;
  seed: number;
}

/** The RunResult that runtime/program.ts will return. */
export interface Generation {
  prompt_tokens: number;
  tokens: number[];         // generated tokens, prompt excluded
  text: string;
  stopped_by: 'eos' | 'max_tokens' | 'stopped' | 'end';
  timings: { load_ms: number; prefill_ms: number; decode_ms: number; prefill_tok_s: number; decode_tok_s: number };
}

export async function generate(
  _model: LoadedModel, _params: GenerateParams,
  _io: { write(text: string): void; signal?: AbortSignal },
): Promise<Generation> {
  throw new TlcError('This build of the page loads models but cannot generate text yet: it waits for runtime/program.ts.');
}
