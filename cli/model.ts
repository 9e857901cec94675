// Finding the model for a build or a run: --model, the artifact's, the program's own default path,
// or, when there is none, a small synthetic demo model with random weights (and a loud label).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from '../compiler/parse.ts';
import type * as A from '../compiler/ast.ts';
import { readGguf, type GgufFile } from '../runtime/gguf.ts';
import { bytesSource, type ByteSource } from '../runtime/bytes.ts';
import { fileSource } from '../runtime/node/file.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { TlcError } from '../runtime/errors.ts';
import { modelInfo, type ModelInfo } from '../compiler/model-info.ts';

export const DEMO_MODEL = '<demo: synthetic random weights>';

export interface ResolvedModel {
  path: string;
  source: ByteSource;
  file: GgufFile;
  demo: boolean;
}

export async function openModel(p: string): Promise<ResolvedModel>;
export async function openModel(p: string | undefined): Promise<ResolvedModel | undefined>;
export async function openModel(p: string | undefined): Promise<ResolvedModel | undefined> {
  if (p === undefined) return undefined;
  if (p === DEMO_MODEL) {
    const source = bytesSource(synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 256, seed: 7, name: 'tlc demo (random weights)' }), DEMO_MODEL);
    return { path: p, source, file: await readGguf(source), demo: true };
  }
  if (!existsSync(p)) throw new TlcError(`The model file ${p} does not exist.`);
  const source = await fileSource(p);
  return { path: p, source, file: await readGguf(source), demo: false };
}

/** What the compiler needs of a model (its path as the artifact will record it). */
export function infoOf(model: ResolvedModel | undefined): ModelInfo | undefined {
  return model && { ...modelInfo(model.file), path: model.demo ? model.path : path.resolve(model.path) };
}

/** The header of the model at `p`, read and closed again: all a build needs. */
export async function modelInfoAt(p: string | undefined): Promise<ModelInfo | undefined> {
  const model = await openModel(p);
  await model?.source.close?.();
  return infoOf(model);
}

/**
 * The model path a program names itself: load_model("x.gguf") or load_model(arg("model", "x.gguf")).
 * `null` when it calls load_model without a literal path, undefined when it loads no model.
 */
export function programModelPath(source: string, file: string): string | null | undefined {
  let found: string | null | undefined;
  const visit = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    const n = node as A.Call;
    if (n.kind === 'Call' && n.callee?.kind === 'Ident' && n.callee.name === 'load_model') {
      const a = n.args[0];
      if (a?.kind === 'Lit' && a.type === 'string') found = a.value;
      else if (a?.kind === 'Call' && a.callee.kind === 'Ident' && a.callee.name === 'arg' && a.args[1]?.kind === 'Lit' && a.args[1].type === 'string') found = a.args[1].value;
      else found = null;
      return;
    }
    for (const v of Object.values(node)) if (typeof v === 'object') visit(v);
  };
  visit(parse(source, file));
  return typeof found === 'string' ? path.resolve(path.dirname(file), found) : found;
}

/**
 * --model, else the program's default path when it exists, else the demo model (with a notice);
 * undefined for a program that loads no model.
 */
export function chooseModel(given: string | undefined, source: string, file: string, say: (msg: string) => void): string | undefined {
  if (given) return given;
  const own = programModelPath(source, file);
  if (own === undefined) return undefined;
  if (own && existsSync(own)) return own;
  say(`tlc: no model given (--model) and ${own ? `${own} does not exist` : 'the program names none'}; using a small synthetic demo model with RANDOM weights: its text is noise.`);
  return DEMO_MODEL;
}
