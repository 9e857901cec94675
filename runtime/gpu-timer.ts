// Times one compute pass on the GPU: from timestamp queries where the adapter has them, else by
// the wall clock from submit to onSubmittedWorkDone (which also counts the submit itself).
import type { Gpu } from './device.ts';

/** Milliseconds the GPU spent on the dispatches `record` puts in one compute pass. */
export function timePass(gpu: Gpu, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  return gpu.hasTimestamps ? timeWithTimestamps(gpu.device, record) : timeWithClock(gpu.device, record);
}

/** Milliseconds between the start and end of one compute pass, from GPU timestamps. */
async function timeWithTimestamps(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  record(pass);
  pass.end();
  enc.resolveQuerySet(querySet, 0, 2, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const [t0, t1] = new BigUint64Array(read.getMappedRange());
  read.unmap();
  for (const b of [resolve, read]) b.destroy();
  querySet.destroy();
  return Number(t1 - t0) / 1e6;
}

/** Wall-clock milliseconds from submit to onSubmittedWorkDone, for adapters without timestamps. */
async function timeWithClock(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  record(pass);
  pass.end();
  const cmd = enc.finish();
  const t0 = performance.now();
  device.queue.submit([cmd]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}
