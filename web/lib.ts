// tlc for web apps: the platform-neutral runtime and compiler, bundled as dist/web/tlc-runtime.js
// (`import { openDevice, urlSource, readGguf } from './tlc-runtime.js'`). The chat page imports it too.
// Nothing here may reach runtime/node/: the build fails if it does.
export * from '../runtime/errors.ts';
export * from '../runtime/device.ts';
export * from '../runtime/bytes.ts';
export * from '../runtime/gguf.ts';
export * from '../runtime/hparams.ts';
export * from '../runtime/weights.ts';
export * from '../runtime/upload.ts';
export * from '../runtime/kernels.ts';
export { modelInfo, type ModelInfo } from '../compiler/model-info.ts';
// Phase 2 adds the generation API once it exists:
//   export { compileSource } from '../compiler/<its module>.ts';
//   export { Program, type RunResult } from '../runtime/program.ts';
