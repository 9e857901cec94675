// Embedding lookup: y[s] = dequantized row ids[s] of a GGUF table, for any weight type.
//   ids: (seq) u32, table: (vocab, K) in its GGUF type (GGUF shape [K, vocab]), y: (seq, K) f32.
// One thread per (token, unit) decodes one unit of the row (see dequant.ts). A table split into
// chunks gets one dispatch per chunk; each writes the tokens whose ids fall in its rows, and the
// first also writes zeros for ids past the vocabulary, so no row of y is left undefined.
import type { GgmlType } from '../runtime/weights.ts';
import type { Kernel } from './kernel.ts';
import { codec } from './dequant.ts';
import { typeName } from '../runtime/quant.ts';

export interface EmbeddingSpec {
  type: GgmlType;
  K: number;     // row length
  rows: number;  // rows in this chunk's buffer
  vocab: number; // rows of the whole table
}

export const EMBEDDING_THREADS = 64;

/** Threads the kernel needs per token. */
export function embeddingUnits(spec: EmbeddingSpec): number {
  return spec.K / codec(spec.type, spec.K).unit;
}

export function embeddingKernel(spec: EmbeddingSpec): Kernel {
  const { type, K, rows, vocab } = spec;
  const c = codec(type, K, 'embedding table');
  const u4 = c.unit / 4;
  const wgsl = /* wgsl */ `
@group(0) @binding(0) var<storage, read> ids: array<u32>;      // (seq)
@group(0) @binding(1) var<storage, read> w: array<${c.word}>;   // table rows row0 .. row0 + ${rows}, raw ${typeName(type)} bytes
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>; // (seq, K)
struct Params { seq: u32, row0: u32, gridX: u32, pad: u32 }
@group(0) @binding(3) var<uniform> p: Params;

const UNITS = ${K / c.unit}u; // per row
const ROWS = ${rows}u;
const VOCAB = ${vocab}u;
const ROW_BYTES = ${c.rowBytes}u;
const K4 = ${K / 4}u;

${c.wgsl}
@compute @workgroup_size(${EMBEDDING_THREADS})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let t = (wid.x + wid.y * p.gridX) * ${EMBEDDING_THREADS}u + lid;
  let s = t / UNITS;
  let u = t % UNITS;
  if (s >= p.seq) { return; }
  let id = ids[s];
  let out = s * K4;
  if (id >= VOCAB && p.row0 == 0u) {
    for (var i = 0u; i < ${u4}u; i++) { y[out + xoff(u, i) / 4u] = vec4f(0.0); }
    return;
  }
  let row = id - p.row0; // wraps to a huge value for ids below this chunk
  if (row >= ROWS) { return; }
  let v = decode(row * ROW_BYTES, u);
  for (var i = 0u; i < ${u4}u; i++) { y[out + xoff(u, i) / 4u] = v[i]; }
}
`;
  return {
    name: `embedding_${typeName(type).toLowerCase()}_k${K}_r${rows}${rows !== vocab ? `_v${vocab}` : ''}`,
    wgsl,
    bindings: ['read', 'read', 'read_write', 'uniform'],
  };
}
