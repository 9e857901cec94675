// What the compiler knows of a model at build time: its GGUF header only (no tensor data).
import type { GgufFile } from '../runtime/gguf.ts';
import { ggmlTypeName } from '../runtime/gguf.ts';
import { llamaHParams, type LlamaHParams } from '../runtime/hparams.ts';

export interface ModelInfo {
  path: string; // as given to the compiler; the runtime may load the same model from elsewhere
  hparams: LlamaHParams;
  tensors: Record<string, { type: string; shape: number[] }>; // GGUF order shapes
  chatTemplate?: string;
  /** Identifies the header: another model with the same fingerprint runs the same artifact. */
  fingerprint: string;
}

export function modelInfo(file: GgufFile): ModelInfo {
  const hparams = llamaHParams(file);
  const tensors: ModelInfo['tensors'] = {};
  for (const t of file.tensors) tensors[t.name] = { type: ggmlTypeName(t.type), shape: t.shape };
  const tmpl = file.metadata['tokenizer.chat_template'];
  const fp = JSON.stringify([hparams, Object.entries(tensors).map(([n, t]) => [n, t.type, t.shape])]);
  return { path: file.source.name, hparams, tensors, chatTemplate: typeof tmpl === 'string' ? tmpl : undefined, fingerprint: hash(fp) };
}

/** FNV-1a, 52 bits as hex: a short stable fingerprint (not a security hash). */
export function hash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (h >> 12n).toString(16).padStart(13, '0');
}
