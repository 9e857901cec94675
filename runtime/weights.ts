// A GGUF tensor on the GPU, kept in its GGUF type (dequantization happens inside kernels).
// A tensor bigger than maxStorageBufferBindingSize is split by rows into several buffers.
import type { GGMLQuantizationType } from '@huggingface/gguf';

export type GgmlType = GGMLQuantizationType;

export interface WeightChunk {
  buffer: GPUBuffer;   // raw GGUF bytes of rows [rowStart, rowStart + rows), padded to a multiple of 4 bytes
  rowStart: number;
  rows: number;
}

export interface WeightTensor {
  name: string;
  type: GgmlType;
  /** GGUF order: shape[0] (ne0) is the contiguous row length; rows = product of the rest. */
  shape: number[];
  chunks: WeightChunk[];
}

export function rowCount(shape: number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}
