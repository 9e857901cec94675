// Node only: Dawn through the `webgpu` package. Nothing else in runtime/ imports 'webgpu'.
import { openDevice, type Gpu, type OpenOptions } from '../device.ts';
import { setWgslRewrite } from '../kernels.ts';
import type { Kernel } from '../../shaders/kernel.ts';

// Mutation testing of the kernels (scripts/mutate-kernels.mjs): TLC_MUTATE = JSON { kernel: name regex,
// edits: [search, replace][] } rewrites matching kernels' WGSL and reports the count of each edit on stderr.
if (process.env.TLC_MUTATE) {
  const m = JSON.parse(process.env.TLC_MUTATE) as { kernel: string; edits: [string, string][] };
  setWgslRewrite((k: Kernel) => {
    let code = k.wgsl;
    if (!new RegExp(m.kernel).test(k.name)) return code;
    const counts = m.edits.map(([from, to]) => [code.split(from).length - 1, (code = code.replaceAll(from, to))][0]);
    console.error(`TLC_MUTATE ${k.name} ${counts.join(',')}`);
    return code;
  });
}

let dawn: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (dawn) return dawn;
  // Mesa's lavapipe wants a writable runtime dir; CI and containers often have none.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ... as in the browser
  // Whole timestamps: Dawn otherwise rounds them down to 2^16 ns, coarser than most kernels here take
  // (tlc run --profile times each dispatch; tlc bench each pass).
  dawn = create(['disable-dawn-features=timestamp_quantization']) as unknown as GPU;
  return dawn;
}

let shared: Promise<Gpu> | undefined;

/** One device per process (tests and CLI share it; Dawn is slow to start). */
export function openNodeDevice(opts: OpenOptions = {}): Promise<Gpu> {
  if (Object.keys(opts).length > 0) return nodeGpu().then((g) => openDevice(g, opts));
  shared ??= nodeGpu().then((g) => openDevice(g));
  return shared;
}
