// The adapter's streaming-read roofline: the best GB/s of a few plain read kernels over one buffer,
// measured in the same process run as whatever it is compared with (on a CPU adapter it varies
// from run to run with the machine's load, so only a same-run ratio means anything).
import type { Gpu } from './device.ts';
import { KernelRunner } from './kernels.ts';
import { timePass } from './gpu-timer.ts';
import { streamReadKernel, type StreamReadSpec } from '../shaders/stream_read.ts';

export interface Roofline {
  gbPerS: number;
  bytes: number;    // the buffer read
  kernel: string;   // the fastest variant
  timer: 'timestamp' | 'wall clock';
}

/** Thread layouts tried: the CPU adapters' best (contiguous) and the GPUs' (strided, many threads). */
const LAYOUTS: Omit<StreamReadSpec, 'words'>[] = [
  { pattern: 'contiguous', workgroupSize: 64, workgroups: 64 },
  { pattern: 'contiguous', workgroupSize: 256, workgroups: 16 },
  { pattern: 'contiguous', workgroupSize: 64, workgroups: 256 },
  { pattern: 'strided', workgroupSize: 256, workgroups: 1024 },
  { pattern: 'strided', workgroupSize: 256, workgroups: 4096 },
];
const MOST_THREADS = 256 * 4096;

/**
 * Reads a buffer of at least `minBytes` (at least 64 MiB, at most the adapter's largest binding)
 * with each layout, `rounds` times `calls` reads each, and keeps the fastest.
 */
export async function measureRoofline(gpu: Gpu, minBytes = 0, rounds = 3, calls = 3): Promise<Roofline> {
  const runner = new KernelRunner(gpu);
  const step = 16 * MOST_THREADS; // every layout splits the buffer evenly
  const most = Math.floor(gpu.device.limits.maxStorageBufferBindingSize / step) * step;
  const bytes = Math.min(most, Math.ceil(Math.max(minBytes, 64 << 20) / step) * step);
  const data = runner.storage(bytes, 'roofline');
  const out = runner.storage(MOST_THREADS * 4, 'roofline out');
  let best: Roofline = { gbPerS: 0, bytes, kernel: '', timer: gpu.hasTimestamps ? 'timestamp' : 'wall clock' };
  try {
    for (const layout of LAYOUTS) {
      const kernel = streamReadKernel({ ...layout, words: bytes / 16 });
      await runner.run(kernel, [data, out], [layout.workgroups]); // warm-up: compiles the pipeline
      const record = (pass: GPUComputePassEncoder) => {
        for (let i = 0; i < calls; i++) runner.dispatch(pass, kernel, [data, out], [layout.workgroups]);
      };
      for (let r = 0; r < rounds; r++) {
        const gbPerS = (bytes * calls) / (await timePass(gpu, record)) / 1e6;
        if (gbPerS > best.gbPerS) best = { ...best, gbPerS, kernel: kernel.name };
      }
    }
  } finally {
    data.destroy();
    out.destroy();
  }
  return best;
}
