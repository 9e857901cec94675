// tlc for web apps: the platform-neutral compiler and runtime, bundled as dist/web/tlc-runtime.js.
// The chat page imports it too. A web app compiles and runs a program the way `tlc run` does:
//
//   import { openDevice, urlSource, readGguf, modelInfo, build, Program } from './tlc-runtime.js';
//   const gpu = await openDevice(navigator.gpu);
//   const source = await urlSource('models/stories260K.gguf');
//   const file = await readGguf(source);
//   const artifact = build(await (await fetch('chat.tl')).text(), 'chat.tl', modelInfo(file));
//   const program = await Program.load(gpu, artifact, source, { file });
//   const r = await program.run({ prompt: 'Once upon a time', temperature: 0 }, { write: (t) => out.append(t) });
//
// Nothing here may reach runtime/node/ or node: modules: the build fails if it does.
export * from '../runtime/errors.ts';
export * from '../runtime/device.ts';
export * from '../runtime/bytes.ts';
export * from '../runtime/gguf.ts';
export * from '../runtime/hparams.ts';
export * from '../runtime/weights.ts';
export * from '../runtime/upload.ts';
export * from '../runtime/kernels.ts';
export { tokenizerFromGguf, tokenizerFromHfJson, TokenizerError, type Tokenizer } from '../runtime/tokenizer/index.ts';
export { Program, type LoadOptions, type RunIo, type RunOptions, type RunResult, type RunTimings } from '../runtime/program.ts';
export { formatProfile, type RunProfile } from '../runtime/profile.ts';
export { benchModel, type ModelBenchOptions, type ModelBenchResult } from '../runtime/bench-model.ts';
export { measureRoofline, type Roofline } from '../runtime/roofline.ts';
export { compile, type CompileOptions } from '../compiler/compile.ts';
export { build, parseArtifact, type Artifact } from '../compiler/artifact.ts';
export { modelInfo, type ModelInfo } from '../compiler/model-info.ts';
export { DiagnosticError, formatDiagnostic, type Diagnostic } from '../compiler/diagnostics.ts';
export type { HostValue } from '../compiler/ir.ts';
// The library's entry points (loadModel, loadProgram, startChat, ...), as the package exports them as `tlc/web`.
export * from '../lib/browser.ts';
