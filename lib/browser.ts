/// <reference types="@webgpu/types" preserve="true" />
// tlc as a library in the browser: the names of the Node entry (lib/index.ts) with the browser's sources
// of models and programs: URLs (read by HTTP Range requests), Blobs (a dropped or chosen file), bytes.
// It is part of the browser bundle, dist/web/tlc-runtime.js (web/lib.ts re-exports it), which the
// package exports as `tlc/web`:
//
//   import { loadModel, loadProgram, startChat } from 'tlc/web';
//   const model = await loadModel('models/stories260K.gguf');         // a URL, hf:OWNER/REPO/FILE.gguf, a Blob or bytes
//   const program = await loadProgram('chat.tl', { model });          // the program's URL, { source }, or an artifact
//   await program.run({ prompt: 'Once upon a time', temperature: 0 }, { write: (t) => out.append(t) });
//
// Nothing here may reach runtime/node/ or node: modules (the web build fails if it does).
import { parseArtifact, type Artifact } from '../compiler/artifact.ts';
import { blobSource, bytesSource, urlSource, type ByteSource } from '../runtime/bytes.ts';
import type { Conversation } from '../runtime/conversation.ts';
import { openDevice, type Gpu, type OpenOptions } from '../runtime/device.ts';
import { TlcError } from '../runtime/errors.ts';
import { DEFAULT_ENDPOINT, isHubRef, parseHubRef, resolveUrl } from '../runtime/hub-ref.ts';
import type { Program } from '../runtime/program.ts';
import {
  chatArtifact, compileText, conversationOn, isArtifact, loadCompiled, modelFromSource, withModel,
  type ChatOptions, type Model, type ProgramOptions, type ProgramText,
} from './api.ts';

/** A model as loadModel takes it: a URL (relative to the page), hf:OWNER/REPO/FILE.gguf, a Blob, bytes, or a ByteSource. */
export type ModelRef = string | Blob | Uint8Array | ByteSource;

/** A program: the URL of a .tl file (or of a .json artifact of `tlc build`), its text, or an artifact. */
export type ProgramRef = string | ProgramText | Artifact;

export interface LoadProgramOptions extends ProgramOptions {
  /** The model to run on: a Model (stays open), or a ModelRef (opened for the load). A program that loads a model needs one. */
  model?: Model | ModelRef;
}

export interface StartChatOptions extends ChatOptions {
  /** A chat program of one's own that reads the conversation with arg("ids"); default CONVERSATION_TL. */
  program?: ProgramRef;
}

let shared: Promise<Gpu> | undefined;

/** The page's WebGPU device (navigator.gpu), opened once; a DeviceError says why when there is none. */
export function openGpu(opts: OpenOptions = {}): Promise<Gpu> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (Object.keys(opts).length > 0) return openDevice(gpu, opts);
  shared ??= openDevice(gpu).catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/** Reads a GGUF model's header: a URL, hf:OWNER/REPO/FILE.gguf (read from the hub's resolve URL), a Blob, bytes, or a ByteSource. */
export async function loadModel(model: ModelRef): Promise<Model> {
  if (typeof model === 'string') {
    if (!isHubRef(model)) return modelFromSource(await fromUrl(model));
    const ref = parseHubRef(model);
    if (!ref.file) throw new TlcError(`${model}: name the file in the browser (hf:${ref.repo}/FILE.gguf)`);
    return modelFromSource({ ...(await fromUrl(resolveUrl(DEFAULT_ENDPOINT, ref.repo, ref.file))), name: model });
  }
  if (typeof Blob !== 'undefined' && model instanceof Blob) return modelFromSource(blobSource(model));
  if (model instanceof Uint8Array) return modelFromSource(bytesSource(model, 'memory.gguf'));
  if (model && typeof (model as ByteSource).read === 'function') return modelFromSource(model as ByteSource);
  throw new TlcError('loadModel: expected a URL, an hf: reference, a Blob, the bytes of a GGUF file, or a ByteSource');
}

/** Compiles a program for a model (none: a program that loads no model). A program's imports are not available in the page. */
export async function compileProgram(program: ProgramRef, opts: { model?: Model | ModelRef } = {}): Promise<Artifact> {
  const p = await readProgram(program);
  return withModel(opts.model, loadModel, async (model) => compileText(p, model));
}

/** Compiles a program (unless it is an artifact) and loads it on the GPU with the model's weights; `program.run(...)` runs it. */
export async function loadProgram(program: ProgramRef, opts: LoadProgramOptions = {}): Promise<Program> {
  const p = await readProgram(program);
  const gpu = opts.gpu ?? (await openGpu());
  return withModel(opts.model, loadModel, async (model) => loadCompiled(gpu, compileText(p, model), model, opts, fetchText));
}

/** A multi-turn conversation with a model: `chat.say(text, io, params)`; `chat.program.destroy()` frees it. */
export async function startChat(model: Model | ModelRef, opts: StartChatOptions = {}): Promise<Conversation> {
  if (model === undefined || model === null) throw new TlcError('startChat: give a model (a URL, an hf: reference, a Blob, bytes or a Model)');
  const program = opts.program === undefined ? undefined : await readProgram(opts.program);
  const gpu = opts.gpu ?? (await openGpu());
  return withModel(model, loadModel, async (m) => conversationOn(await loadCompiled(gpu, chatArtifact(m!, program), m, opts, fetchText), opts));
}

/** A URL as a ByteSource; what fails (no such file, no network) is a TlcError. */
async function fromUrl(url: string): Promise<ByteSource> {
  try {
    return await urlSource(url);
  } catch (e) {
    throw new TlcError(`${url}: cannot read the model: ${(e as Error).message.replace(`${url}: `, '')}`);
  }
}

async function readProgram(program: ProgramRef): Promise<ProgramText | Artifact> {
  if (typeof program !== 'string') return program;
  const text = await fetchText(program);
  return /\.json(\?|#|$)/.test(program) ? parseArtifact(text, program) : { source: text, file: program.replace(/[?#].*$/, '').split('/').pop() || program };
}

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url).catch((e: Error) => {
    throw new TlcError(`${url}: ${e.message}`);
  });
  if (!r.ok) throw new TlcError(`${url}: HTTP ${r.status}`);
  return r.text();
}

export { isModel, type ChatOptions, type Model, type ProgramOptions, type ProgramText } from './api.ts';
export {
  Conversation, CONVERSATION_TL, type ChatMessage, type ConversationOptions, type ReplyParams, type ReplyResult, type TurnResult,
} from '../runtime/conversation.ts';
