// The program `tlc chat` and `tlc serve` run: the conversation program (runtime/conversation.ts) or a
// .tl program of one's own that reads the conversation's token ids with `arg("ids")`, on a model.
import path from 'node:path';
import { build } from '../compiler/artifact.ts';
import { CONVERSATION_TL } from '../runtime/conversation.ts';
import { openNodeDevice } from '../runtime/node/gpu.ts';
import { Program } from '../runtime/program.ts';
import { infoOf, openModel } from './model.ts';
import { chatProgramProblem } from './params.ts';
import { UsageError } from './report.ts';
import { readImport, readSource } from './source.ts';

export interface ChatModel {
  program: Program;
  /** The model's name as the API shows it (its file name without .gguf). */
  name: string;
  close(): Promise<void>;
}

/** `--ctx` as given on the command line, checked. */
export async function loadChatModel(opts: { model?: string; program?: string; ctx?: number; onProgress?(done: number, total: number): void }): Promise<ChatModel> {
  if (!opts.model) throw new UsageError('--model M.gguf is required.');
  const model = await openModel(opts.model);
  const info = infoOf(model)!;
  let artifact;
  if (opts.program) {
    const source = readSource(opts.program);
    artifact = build(source, opts.program, info, undefined, readImport);
    const problem = chatProgramProblem(artifact);
    if (problem) throw new UsageError(problem);
  } else {
    artifact = build(CONVERSATION_TL, 'conversation.tl', info);
  }
  const gpu = await openNodeDevice();
  let program: Program;
  try {
    program = await Program.load(gpu, artifact, model.source, { file: model.file, ctx: opts.ctx, onProgress: opts.onProgress });
  } catch (e) {
    await model.source.close?.();
    throw e;
  }
  return {
    program,
    name: path.basename(opts.model).replace(/\.gguf$/i, ''),
    close: async () => {
      program.destroy();
      await model.source.close?.();
    },
  };
}
