// Builds a WeightTensor on the GPU from GGUF bytes, optionally split by rows into chunks (as the
// loader does for tensors bigger than one binding), for the weight-kernel tests.
import type { KernelRunner } from '../../runtime/kernels.ts';
import type { GgmlType, WeightTensor } from '../../runtime/weights.ts';
import { tensorBytes } from '../../runtime/quant.ts';
import { toGpuLayout } from '../../runtime/weight-layout.ts';

/** bytes: (rows, K) in `type`; chunkRows: rows per buffer, e.g. [5, 5, 3] (default: one buffer). */
export function uploadWeight(runner: KernelRunner, name: string, type: GgmlType, K: number, rows: number, bytes: Uint8Array, chunkRows = [rows]): WeightTensor {
  const rowBytes = tensorBytes(type, K);
  let rowStart = 0;
  const chunks = chunkRows.map((n) => {
    const gpuBytes = toGpuLayout(type, K, bytes.subarray(rowStart * rowBytes, (rowStart + n) * rowBytes));
    const chunk = { buffer: runner.storage(gpuBytes, `${name}[${rowStart}..]`), rowStart, rows: n };
    rowStart += n;
    return chunk;
  });
  if (rowStart !== rows) throw new Error(`chunks cover ${rowStart} rows of ${rows}`);
  return { name, type, shape: [K, rows], chunks };
}
