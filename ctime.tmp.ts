import { KernelRunner } from './runtime/kernels.ts';
import { testGpu } from './test/support/gpu.ts';
import { attention } from './runtime/ops/attention.ts';
async function main() {
const r = new KernelRunner(await testGpu());
for (const hd of (process.argv[2] ?? '8,16,32,64,128').split(',').map(Number)) {
  const b = r.storage(1 << 16);
  for (let rep = 0; rep < 2; rep++) {
  const t = performance.now();
  await r.runAll(attention({ q: b, k: b, v: r.storage(1<<16), out: r.storage(1<<16), seq: 1, pos0: 3, nHead: 2, nKvHead: 1, headDim: hd }));
  console.log(hd, (performance.now() - t).toFixed(0), 'ms');
  }
}
}
main();
