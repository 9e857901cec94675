import assert from 'node:assert/strict';
import { testGpu } from './support/gpu.ts';
import { openDevice, DeviceError } from '../runtime/device.ts';

describe('device', () => {
  it('opens the adapter with its own storage-binding limit', async () => {
    const gpu = await testGpu();
    assert.ok(gpu.info.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
    assert.ok(gpu.info.adapter.length > 0);
  });

  it('says what to install when there is no WebGPU', async () => {
    await assert.rejects(openDevice(undefined), (e: Error) => e instanceof DeviceError && /Vulkan driver|setup\.sh/.test(e.message));
  });
});
