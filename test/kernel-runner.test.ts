import assert from 'node:assert/strict';
import { testGpu } from './support/gpu.ts';
import { KernelRunner } from '../runtime/kernels.ts';
import type { Kernel } from '../shaders/kernel.ts';

describe('kernel runner', () => {
  it('runs a WGSL kernel and reads the result back', async () => {
    const k = new KernelRunner(await testGpu());
    const double: Kernel = {
      name: 'double',
      bindings: ['read', 'read_write', 'uniform'],
      wgsl: `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
struct Params { n: u32 }
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { y[id.x] = 2.0 * x[id.x]; }
}`,
    };
    const x = Float32Array.from({ length: 100 }, (_, i) => i - 50);
    const xb = k.storage(x), yb = k.storage(x.byteLength);
    await k.run(double, [xb, yb, k.uniform(new Uint32Array([100]))], [2]);
    const y = new Float32Array(await k.read(yb, x.byteLength));
    assert.deepEqual([...y], [...x].map((v) => 2 * v));
    assert.equal(k.pipeline(double), k.pipeline({ ...double }), 'one pipeline per distinct WGSL');

    // Bind groups are reused for the same buffers (and ranges), never for other ones.
    const u = k.uniform(new Uint32Array([100]));
    const g = k.bindGroup(double, [xb, yb, u]);
    assert.equal(k.bindGroup(double, [xb, yb, u]), g, 'same buffers, same bind group');
    assert.equal(new KernelRunner(k.gpu).bindGroup(double, [xb, yb, u]), g, 'shared by the runners of a device');
    const yb2 = k.storage(x.byteLength);
    assert.notEqual(k.bindGroup(double, [xb, yb2, u]), g, 'another buffer');
    assert.notEqual(k.bindGroup(double, [xb, yb, { buffer: u, offset: 0, size: 16 }]), g, 'a range is part of the key');
    // and a reused bind group still computes with the buffers' current contents
    k.device.queue.writeBuffer(xb, 0, new Float32Array(100).fill(3));
    await k.run(double, [xb, yb, u], [2]);
    assert.deepEqual([...new Float32Array(await k.read(yb, 400))], new Array(100).fill(6));
  });
});
