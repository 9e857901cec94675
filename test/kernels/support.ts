// Shared by the kernel tests: one runner on the real adapter, upload/readback, tolerant comparison.
import assert from 'node:assert/strict';
import { KernelRunner } from '../../runtime/kernels.ts';
import { testGpu } from '../support/gpu.ts';

let runner: Promise<KernelRunner> | undefined;

export function gpuRunner(): Promise<KernelRunner> {
  runner ??= testGpu().then((g) => new KernelRunner(g));
  return runner;
}

export async function readF32(r: KernelRunner, buf: GPUBuffer, n: number, offset = 0): Promise<Float32Array> {
  return new Float32Array(await r.read(buf, n * 4, offset * 4));
}

export async function readU32(r: KernelRunner, buf: GPUBuffer, n: number, offset = 0): Promise<Uint32Array> {
  return new Uint32Array(await r.read(buf, n * 4, offset * 4));
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise; infinities must match exactly.
 * Reports the worst element.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol: number; rtol?: number }, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const rtol = tol.rtol ?? 0;
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${what}: [${i}] is ${a}, expected ${e}`);
      continue;
    }
    const excess = Math.abs(a - e) - (tol.atol + rtol * Math.abs(e));
    if (excess > worstExcess) { worstExcess = excess; worst = i; }
  }
  if (worst >= 0) assert.fail(`${what}: [${worst}] is ${actual[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${rtol})`);
}
