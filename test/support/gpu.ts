// The real adapter for kernel tests (lavapipe on a machine without a GPU).
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import type { Gpu } from '../../runtime/device.ts';

export function testGpu(): Promise<Gpu> {
  return openNodeDevice();
}
