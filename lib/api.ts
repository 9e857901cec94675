// The library's platform-neutral half: what the Node entry (lib/index.ts, `import ... from 'tlc'`) and
// the browser entry (lib/browser.ts, `tlc/web`) share. Each adds where models, programs, imported files
// and the GPU come from; everything here is the compiler and runtime the CLI and the page use.
import { ARTIFACT_FORMAT, build, type Artifact } from '../compiler/artifact.ts';
import type { ReadSource } from '../compiler/imports.ts';
import { modelInfo, type ModelInfo } from '../compiler/model-info.ts';
import { chatProgramProblem } from '../compiler/arg-names.ts';
import type { ByteSource } from '../runtime/bytes.ts';
import { Conversation, CONVERSATION_TL, type ConversationOptions } from '../runtime/conversation.ts';
import type { Gpu } from '../runtime/device.ts';
import { TlcError } from '../runtime/errors.ts';
import { readGguf, type GgufFile } from '../runtime/gguf.ts';
import { llamaHParams, type LlamaHParams } from '../runtime/hparams.ts';
import { Program, type LoadOptions } from '../runtime/program.ts';

/** A GGUF model with its header read; the weights are read when a program is loaded on it. */
export interface Model {
  /** Where it came from (a path, a URL, a name), as errors name it. */
  readonly name: string;
  readonly source: ByteSource;
  /** The header: metadata and tensor infos. */
  readonly file: GgufFile;
  readonly hparams: LlamaHParams;
  /** What the compiler knows of the model. */
  readonly info: ModelInfo;
  /** Closes the file. Programs already loaded on the model keep running (their weights are on the GPU). */
  close(): Promise<void>;
}

/** A program's source text; `file` names it in diagnostics and is where its imports are looked up. */
export interface ProgramText {
  source: string;
  file?: string;
}

/** How a program is loaded (LoadOptions of runtime/program.ts, less what the library fills in). */
export interface ProgramOptions {
  /** Most tokens (prompt + generated) a run may hold; default the model's context, at most 4096. */
  ctx?: number;
  /** Weight upload progress, in bytes. */
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /** Prompt tokens read per graph run (default 64). */
  prefillChunk?: number;
  /** The device to run on; default the one openGpu() gives. */
  gpu?: Gpu;
}

/** Options of startChat: the conversation's, and how its program is loaded. */
export interface ChatOptions extends ConversationOptions, ProgramOptions {}

/** A Model for a ByteSource: its header read (`info.path` is `name`, as the artifact records it). */
export async function modelFromSource(source: ByteSource, name = source.name): Promise<Model> {
  let file: GgufFile;
  try {
    file = await readGguf(source);
  } catch (e) {
    await source.close?.();
    throw e;
  }
  return {
    name,
    source,
    file,
    hparams: llamaHParams(file),
    info: { ...modelInfo(file), path: name },
    close: async () => source.close?.(),
  };
}

export function isArtifact(p: unknown): p is Artifact {
  return typeof p === 'object' && p !== null && (p as Artifact).format === ARTIFACT_FORMAT;
}

/** Compiles a program's text for the model (none: a program that loads no model). An artifact is returned as is. */
export function compileText(program: ProgramText | Artifact, model: Model | undefined, readSource?: ReadSource): Artifact {
  if (isArtifact(program)) return program;
  if (typeof program?.source !== 'string') throw new TlcError('a program: expected its text as { source, file? }, a path or URL, or an artifact');
  return build(program.source, program.file ?? 'program.tl', model?.info, undefined, readSource);
}

/** Loads a compiled program on the GPU with the model's weights. */
export function loadCompiled(gpu: Gpu, artifact: Artifact, model: Model | undefined, opts: ProgramOptions, readText: LoadOptions['readText']): Promise<Program> {
  return Program.load(gpu, artifact, model?.source, { ctx: opts.ctx, onProgress: opts.onProgress, prefillChunk: opts.prefillChunk, readText, file: model?.file });
}

/**
 * The chat program for a model: CONVERSATION_TL (examples/chat.tl on token ids), or a program of one's
 * own, which must read the conversation with `arg("ids")` as CONVERSATION_TL does.
 */
export function chatArtifact(model: Model, program: ProgramText | Artifact | undefined, readSource?: ReadSource): Artifact {
  if (!program) return build(CONVERSATION_TL, 'conversation.tl', model.info);
  const artifact = compileText(program, model, readSource);
  const problem = chatProgramProblem(artifact);
  if (problem) throw new TlcError(problem);
  return artifact;
}

/** A conversation on a loaded chat program (freed by `conversation.program.destroy()`). */
export function conversationOn(program: Program, opts: ConversationOptions): Conversation {
  try {
    return new Conversation(program, { system: opts.system, messages: opts.messages, notice: opts.notice });
  } catch (e) {
    program.destroy();
    throw e;
  }
}

/**
 * Runs `fn` on a model: `given` itself when it is a Model (the caller's to close), else the model `open`
 * opens from it, closed again when `fn` is done (a loaded program no longer reads the file).
 */
export async function withModel<M, T>(given: M | Model | undefined, open: (m: M) => Promise<Model>, fn: (model: Model | undefined) => Promise<T>): Promise<T> {
  if (given === undefined || isModel(given)) return fn(given as Model | undefined);
  const model = await open(given as M);
  try {
    return await fn(model);
  } finally {
    await model.close();
  }
}

export function isModel(m: unknown): m is Model {
  return typeof m === 'object' && m !== null && 'source' in m && 'file' in m && 'info' in m && typeof (m as Model).close === 'function';
}
