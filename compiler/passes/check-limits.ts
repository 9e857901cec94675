// Sizes the device must hold, checked while building: every tensor whose shape is known then must
// fit one storage buffer binding (the WebGPU default, 128 MiB, unless the caller knows the adapter's).
// Tensors sized at run time are checked by the executor against the real adapter.
import type { IR, Node } from '../ir.ts';

export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
}

/** WebGPU's guaranteed minimum: what any adapter, a browser's included, allows. */
export const DEFAULT_LIMITS: DeviceLimits = { maxStorageBufferBindingSize: 128 * 1024 * 1024 };

export interface LimitProblem {
  at?: string; // "file:line:col" of the expression that makes the tensor
  message: string;
}

export function tensorBytes(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1) * 4;
}

export function checkLimits(ir: IR, limits: DeviceLimits = DEFAULT_LIMITS): LimitProblem | undefined {
  for (const g of ir.graphs) {
    for (const n of g.nodes) {
      if (n.op === 'weight' || !n.shape.every((d): d is number => typeof d === 'number')) continue;
      const bytes = tensorBytes(n.shape);
      if (bytes > limits.maxStorageBufferBindingSize) return { at: n.at, message: tooBig(n, n.shape, bytes, limits) };
    }
  }
  return undefined;
}

export function tooBig(n: Node, shape: number[], bytes: number, limits: DeviceLimits): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 0)} MiB`;
  return `the ${n.op} here makes a tensor of shape [${shape.join(', ')}]: ${mib(bytes)}, more than one GPU buffer binding holds (${mib(limits.maxStorageBufferBindingSize)})`;
}
