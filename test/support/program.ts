// Builds and runs TensorLogic programs on a model, for end-to-end tests.
import { readFileSync } from 'node:fs';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import type { HostValue } from '../../compiler/ir.ts';
import { bytesSource, type ByteSource } from '../../runtime/bytes.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { Program, type RunResult } from '../../runtime/program.ts';
import { testGpu } from './gpu.ts';
import type { Gpu } from '../../runtime/device.ts';

/** Tests use small models: read whole into memory, so no file handle is left open. */
export async function modelSource(model: string | Uint8Array): Promise<ByteSource> {
  return typeof model === 'string' ? bytesSource(new Uint8Array(readFileSync(model)), model) : bytesSource(model, 'synthetic.gguf');
}

/** Compiles `source` for the model, loads it on the test adapter, runs it once. */
export async function runProgram(
  source: { file: string; text?: string },
  model: string | Uint8Array,
  args: Record<string, HostValue>,
): Promise<RunResult & { output: string; program: Program }> {
  const text = source.text ?? readFileSync(source.file, 'utf8');
  const src = await modelSource(model);
  const file = await readGguf(src);
  const artifact = build(text, source.file, modelInfo(file));
  const program = await Program.load(await testGpu(), artifact, src, { file });
  let output = '';
  const r = await program.run(args, { write: (t) => (output += t) });
  return { ...r, output, program };
}

/** Compiles a program that loads no model, runs it once on `gpu`, frees it: what it printed. */
export async function printed(gpu: Gpu, text: string, file: string, args: Record<string, HostValue> = {}): Promise<string> {
  const program = await Program.load(gpu, build(text, file), undefined);
  let out = '';
  try {
    await program.run(args, { write: (t) => (out += t) });
  } finally {
    program.destroy();
  }
  return out;
}
