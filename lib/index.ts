/// <reference types="@webgpu/types" preserve="true" />
// tlc as a library in Node: `import { loadModel, loadProgram, startChat } from 'tlc'`.
//
//   const model = await loadModel('stories260K.gguf');               // a path, hf:OWNER/REPO/FILE.gguf, or bytes
//   const program = await loadProgram('chat.tl', { model });          // compiled for the model, weights uploaded
//   const r = await program.run({ prompt: 'Once upon a time', max_tokens: 40, temperature: 0 },
//                               { write: (text) => process.stdout.write(text) });
//   const chat = await startChat(model, { system: 'You are terse.' });
//   await chat.say('Hello', { write: (text) => process.stdout.write(text) }, { max_tokens: 64 });
//
// The same compiler and runtime as the `tlc` command (WebGPU through Dawn, the `webgpu` package), with
// the CLI's rules for models: a path or an hf: reference (downloaded into the model cache), and a program
// that names its own model with load_model("...") gets that one when no model is given. Every error
// meant for the user is a TlcError (a DiagnosticError, with file:line:col, for a bad program).
// The browser has its own entry, `tlc/web` (lib/browser.ts), with the same names.
import { readFile } from 'node:fs/promises';
import { parseArtifact, type Artifact } from '../compiler/artifact.ts';
import { chooseModel, infoOf, openModel } from '../cli/model.ts';
import { readImport, readSource } from '../cli/source.ts';
import { bytesSource, type ByteSource } from '../runtime/bytes.ts';
import type { Conversation } from '../runtime/conversation.ts';
import type { Gpu, OpenOptions } from '../runtime/device.ts';
import { TlcError } from '../runtime/errors.ts';
import { llamaHParams } from '../runtime/hparams.ts';
import { openNodeDevice } from '../runtime/node/gpu.ts';
import type { Program } from '../runtime/program.ts';
import {
  chatArtifact, compileText, conversationOn, isArtifact, isModel, loadCompiled, modelFromSource, withModel,
  type ChatOptions, type Model, type ProgramOptions, type ProgramText,
} from './api.ts';

/** A model as loadModel takes it: a GGUF file's path, an hf: reference, the file's bytes, or a ByteSource. */
export type ModelRef = string | Uint8Array | ByteSource;

/** A program: a .tl file's path (or a .json artifact of `tlc build`), its text, or an artifact. */
export type ProgramRef = string | ProgramText | Artifact;

export interface LoadProgramOptions extends ProgramOptions {
  /**
   * The model to run on: a Model (stays open), or a ModelRef (opened for the load, closed after). Without
   * one, the model the program names in load_model("...") (an artifact: the one it was built for).
   */
  model?: Model | ModelRef;
  /** Told what tlc would print on stderr (the random-weights demo model is used); default console.warn. */
  notice?(message: string): void;
}

export interface StartChatOptions extends ChatOptions {
  /** A chat program of one's own that reads the conversation with arg("ids"); default CONVERSATION_TL. */
  program?: ProgramRef;
}

/** The WebGPU device (Dawn), one per process; every load uses it unless given another. */
export function openGpu(opts: OpenOptions = {}): Promise<Gpu> {
  return openNodeDevice(opts);
}

/** Opens a GGUF model and reads its header: a path, hf:OWNER/REPO/FILE.gguf (downloaded when not in the cache), bytes, or a ByteSource. */
export async function loadModel(model: ModelRef): Promise<Model> {
  if (typeof model === 'string') {
    const m = await openModel(model);
    return { name: m.path, source: m.source, file: m.file, hparams: llamaHParams(m.file), info: infoOf(m)!, close: async () => m.source.close?.() };
  }
  if (model instanceof Uint8Array) return modelFromSource(bytesSource(model, 'memory.gguf'));
  if (model && typeof model.read === 'function') return modelFromSource(model);
  throw new TlcError('loadModel: expected a path, an hf: reference, the bytes of a GGUF file, or a ByteSource');
}

/**
 * Compiles a program for a model (`tlc build` in memory): without `opts.model`, for the model the program
 * names, read for its header only. Imports are read from the file system, beside the program's file.
 */
export async function compileProgram(program: ProgramRef, opts: { model?: Model | ModelRef; notice?(message: string): void } = {}): Promise<Artifact> {
  const p = readProgram(program);
  if (isArtifact(p)) return p;
  return withModel(opts.model ?? namedModel(p, opts.notice), loadModel, async (model) => compileText(p, model, readImport));
}

/** Compiles a program (unless it is an artifact) and loads it on the GPU with its model's weights; `program.run(...)` runs it. */
export async function loadProgram(program: ProgramRef, opts: LoadProgramOptions = {}): Promise<Program> {
  const p = readProgram(program);
  const given = opts.model ?? (isArtifact(p) ? p.model?.path : namedModel(p, opts.notice));
  const gpu = opts.gpu ?? (await openGpu());
  return withModel(given, loadModel, async (model) => loadCompiled(gpu, compileText(p, model, readImport), model, opts, readText));
}

/** A multi-turn conversation with a model (`tlc chat`): `chat.say(text, io, params)`; `chat.program.destroy()` frees it. */
export async function startChat(model: Model | ModelRef, opts: StartChatOptions = {}): Promise<Conversation> {
  if (model === undefined || model === null) throw new TlcError('startChat: give a model (a path, an hf: reference, bytes or a Model)');
  const program = opts.program === undefined ? undefined : readProgram(opts.program);
  const gpu = opts.gpu ?? (await openGpu());
  return withModel(model, loadModel, async (m) => conversationOn(await loadCompiled(gpu, chatArtifact(m!, program, readImport), m, opts, readText), opts));
}

function readProgram(program: ProgramRef): ProgramText | Artifact {
  if (typeof program !== 'string') return program;
  if (program.endsWith('.json')) return parseArtifact(readSource(program, 'the artifact'), program);
  return { source: readSource(program), file: program };
}

/** The model a program's text names (cli/model.ts's rules, as `tlc run FILE.tl` follows them), if any. */
function namedModel(p: ProgramText, notice: ((message: string) => void) | undefined): string | undefined {
  return chooseModel(undefined, p.source, p.file ?? 'program.tl', notice ?? ((m) => console.warn(m)));
}

const readText = (path: string) => readFile(path, 'utf8');

export { isModel, type ChatOptions, type Model, type ProgramOptions, type ProgramText };
export { Program, type LoadOptions, type RunIo, type RunOptions, type RunResult, type RunTimings } from '../runtime/program.ts';
export {
  Conversation, CONVERSATION_TL, type ChatMessage, type ConversationOptions, type ReplyParams, type ReplyResult, type TurnResult,
} from '../runtime/conversation.ts';
export { TlcError } from '../runtime/errors.ts';
export { DiagnosticError, formatDiagnostic, type Diagnostic } from '../compiler/diagnostics.ts';
export { DeviceError, type DeviceInfo, type Gpu, type OpenOptions } from '../runtime/device.ts';
export { GgufError, readGguf, type GgufFile } from '../runtime/gguf.ts';
export { TokenizerError, type Tokenizer } from '../runtime/tokenizer/index.ts';
export { build, parseArtifact, type Artifact } from '../compiler/artifact.ts';
export { bytesSource, type ByteSource } from '../runtime/bytes.ts';
export { fileSource } from '../runtime/node/file.ts';
export { synthLlama, writeGguf, type SynthOptions } from '../runtime/gguf-writer.ts';
export { formatProfile, type RunProfile } from '../runtime/profile.ts';
export type { HostValue } from '../compiler/ir.ts';
export type { ModelInfo } from '../compiler/model-info.ts';
export type { LlamaHParams } from '../runtime/hparams.ts';
