// How weight rows sit in GPU memory. Most types keep their GGUF bytes. Q8_0 and Q4_0 rows whose
// blocks fill whole 16-byte lines (K a multiple of 256) are stored "split": the row's quants first
// (block b at byte 16b for Q4_0, 32b for Q8_0), then its f16 scales (2 bytes each). The same bytes
// in another order, so a row is as long as in the file and chunks split at the same rows; but a
// block's quants are then one or two aligned 16-byte loads instead of five or nine 4-byte ones
// straddling the scale (on lavapipe, where a load is a loop over the SIMD lanes, the loads are
// a third of a Q4_0 mat-vec's time).
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { GgmlType } from './weights.ts';
import { tensorBytes } from './quant.ts';

const QUANT_BYTES: Partial<Record<GgmlType, number>> = { [T.Q4_0]: 16, [T.Q8_0]: 32 }; // per block of 32, after its f16 scale

/** Whether rows of K values of `type` are stored split (see above). */
export function isSplit(type: GgmlType, K: number): boolean {
  return QUANT_BYTES[type] !== undefined && K % 256 === 0;
}

/** GGUF bytes of whole rows of K values -> the bytes to upload (a new array when the layout differs). */
export function toGpuLayout(type: GgmlType, K: number, bytes: Uint8Array): Uint8Array {
  if (!isSplit(type, K)) return bytes;
  const q = QUANT_BYTES[type]!, blockBytes = q + 2, blocks = K / 32, rowBytes = tensorBytes(type, K);
  if (bytes.length % rowBytes !== 0) throw new Error(`toGpuLayout: ${bytes.length} bytes are not whole rows of ${rowBytes}`);
  const out = new Uint8Array(bytes.length);
  for (let row = 0; row < bytes.length; row += rowBytes) {
    const scales = row + blocks * q;
    for (let b = 0; b < blocks; b++) {
      const src = row + b * blockBytes;
      out[scales + 2 * b] = bytes[src];
      out[scales + 2 * b + 1] = bytes[src + 1];
      out.set(bytes.subarray(src + 2, src + blockBytes), row + b * q);
    }
  }
  return out;
}
