// A GGUF v3 writer, for tests and tools: header, key-value pairs, tensor infos, then the tensor
// data, each tensor aligned to `general.alignment` (default 32). Little endian, as everywhere today.
import { GGUFValueType as V, GGMLQuantizationType as T } from '@huggingface/gguf';
import { ggmlLayout, ggmlTypeName, SUPPORTED_TYPES } from './gguf.ts';
import { TlcError } from './errors.ts';
import { quantize } from './quant.ts';
import { Rng } from './rng.ts';
import type { GgmlType } from './weights.ts';

type Scalar = number | bigint | boolean | string;

/** A metadata value with its GGUF type (numbers do not say whether they are u32 or f32). */
export interface GgufValue {
  type: V;
  value: Scalar | Scalar[];
  itemType?: V; // for arrays
}

/** Typed metadata values: `kv.u32(2048)`, `kv.f32(1e-5)`, `kv.strs(tokens)`. */
export const kv = {
  u8: (v: number): GgufValue => ({ type: V.UINT8, value: v }),
  i8: (v: number): GgufValue => ({ type: V.INT8, value: v }),
  u16: (v: number): GgufValue => ({ type: V.UINT16, value: v }),
  i16: (v: number): GgufValue => ({ type: V.INT16, value: v }),
  u32: (v: number): GgufValue => ({ type: V.UINT32, value: v }),
  i32: (v: number): GgufValue => ({ type: V.INT32, value: v }),
  u64: (v: number | bigint): GgufValue => ({ type: V.UINT64, value: v }),
  i64: (v: number | bigint): GgufValue => ({ type: V.INT64, value: v }),
  f32: (v: number): GgufValue => ({ type: V.FLOAT32, value: v }),
  f64: (v: number): GgufValue => ({ type: V.FLOAT64, value: v }),
  bool: (v: boolean): GgufValue => ({ type: V.BOOL, value: v }),
  str: (v: string): GgufValue => ({ type: V.STRING, value: v }),
  array: (itemType: V, values: Scalar[]): GgufValue => ({ type: V.ARRAY, value: values, itemType }),
  strs: (values: string[]): GgufValue => kv.array(V.STRING, values),
  f32s: (values: ArrayLike<number>): GgufValue => kv.array(V.FLOAT32, Array.from(values)),
  i32s: (values: ArrayLike<number>): GgufValue => kv.array(V.INT32, Array.from(values)),
};

export interface GgufTensorData {
  name: string;
  type: GgmlType;
  shape: number[];   // GGUF order, ne0 first
  data: Uint8Array;  // the raw bytes of that type (see quant.ts), exactly as many as the shape needs
}

export interface GgufContents {
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorData[];
}

/** Writes a GGUF file into memory. */
export function writeGguf(contents: GgufContents): Uint8Array {
  const parts: Uint8Array[] = [];
  writeGgufTo(contents, (bytes) => parts.push(bytes));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes a GGUF file piece by piece through `write` (e.g. to a file stream): the header, then each tensor's data. */
export function writeGgufTo(contents: GgufContents, write: (bytes: Uint8Array) => void): void {
  const alignMeta = contents.metadata['general.alignment'];
  const alignment = alignMeta ? Number(alignMeta.value) : 32;
  const w = new ByteWriter();
  w.raw(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(contents.tensors.length);
  w.u64(Object.keys(contents.metadata).length);
  for (const [key, v] of Object.entries(contents.metadata)) {
    w.str(key);
    w.u32(v.type);
    if (v.type === V.ARRAY) {
      if (v.itemType === undefined || !Array.isArray(v.value)) throw new TlcError(`GGUF writer: ${key} is an array without an item type`);
      w.u32(v.itemType);
      w.u64(v.value.length);
      for (const item of v.value) w.value(v.itemType, item);
    } else {
      w.value(v.type, v.value as Scalar);
    }
  }
  let offset = 0; // relative to the start of the data section
  for (const t of contents.tensors) {
    checkSize(t);
    w.str(t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset = alignUp(offset + t.data.length, alignment);
  }
  w.zeros(alignUp(w.length, alignment) - w.length);
  write(w.bytes());
  for (const t of contents.tensors) {
    write(t.data);
    const pad = alignUp(t.data.length, alignment) - t.data.length;
    if (pad) write(new Uint8Array(pad));
  }
}

// ---- synthetic llama models ----

export interface SynthOptions {
  layers?: number;   // default 2
  embd?: number;     // default 64
  heads?: number;    // default 4
  kvHeads?: number;  // default = heads
  ff?: number;       // default 2 * embd
  vocab?: number;    // default 320; at least 259 (<unk>, <s>, </s> and 256 byte tokens)
  ctx?: number;      // context_length, default 256
  type?: GgmlType;   // type of the 2-D matrices (norms stay F32), default F32
  tied?: boolean;    // no output.weight: the head reuses token_embd
  seed?: number;     // default 1; the same options and seed give the same bytes
  ropeBase?: number; // default 10000
  rmsEps?: number;   // default 1e-5
  name?: string;
  chatTemplate?: string; // tokenizer.chat_template (Jinja); none by default
}

// general.file_type values (llama.cpp's LLAMA_FTYPE_*) for a model whose matrices are all one type.
const FILE_TYPE: Partial<Record<GgmlType, number>> = { [T.F32]: 0, [T.F16]: 1, [T.Q4_0]: 2, [T.Q8_0]: 7, [T.Q4_K]: 14, [T.Q6_K]: 18 };

/** A llama model with random weights and a small SentencePiece vocabulary, as GGUF bytes. */
export function synthLlama(opts: SynthOptions = {}): Uint8Array {
  const embd = opts.embd ?? 64, heads = opts.heads ?? 4, kvHeads = opts.kvHeads ?? heads;
  const layers = opts.layers ?? 2, ff = opts.ff ?? 2 * embd, nVocab = opts.vocab ?? 320, ctx = opts.ctx ?? 256;
  const type = opts.type ?? T.F32, seed = opts.seed ?? 1;
  checkSynth({ layers, embd, heads, kvHeads, ff, vocab: nVocab, ctx, type });
  const headDim = embd / heads;
  const vocab = spmVocab(nVocab);
  const rng = new Rng(seed);

  // Matrices are (rows = ne1, row length = ne0); std 1/sqrt(ne0) keeps activations near unit scale,
  // and the head's 2/sqrt(embd) gives logits of std ~2: peaked enough to be told apart, not one-hot.
  const matrix = (name: string, ne0: number, ne1: number, std = 1 / Math.sqrt(ne0)): GgufTensorData => ({
    name, type, shape: [ne0, ne1], data: quantize(type, normals(rng, ne0 * ne1, 0, std)),
  });
  const norm = (name: string): GgufTensorData => ({ name, type: T.F32, shape: [embd], data: quantize(T.F32, normals(rng, embd, 1, 0.1)) });

  const tensors: GgufTensorData[] = [matrix('token_embd.weight', embd, nVocab, 2 / Math.sqrt(embd)), norm('output_norm.weight')];
  if (!opts.tied) tensors.push(matrix('output.weight', embd, nVocab, 2 / Math.sqrt(embd)));
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}`;
    tensors.push(
      norm(`${b}.attn_norm.weight`),
      matrix(`${b}.attn_q.weight`, embd, embd),            // (embd, embd): n_head heads of head_dim
      matrix(`${b}.attn_k.weight`, embd, kvHeads * headDim), // (kv_heads * head_dim, embd)
      matrix(`${b}.attn_v.weight`, embd, kvHeads * headDim),
      matrix(`${b}.attn_output.weight`, embd, embd),
      norm(`${b}.ffn_norm.weight`),
      matrix(`${b}.ffn_gate.weight`, embd, ff),
      matrix(`${b}.ffn_up.weight`, embd, ff),
      matrix(`${b}.ffn_down.weight`, ff, embd),
    );
  }

  const metadata: Record<string, GgufValue> = {
    'general.architecture': kv.str('llama'),
    'general.name': kv.str(opts.name ?? `synthetic llama ${ggmlTypeName(type)} seed ${seed}`),
    'general.alignment': kv.u32(32),
    'general.file_type': kv.u32(FILE_TYPE[type]!),
    ...(type === T.F32 || type === T.F16 ? {} : { 'general.quantization_version': kv.u32(2) }),
    'llama.context_length': kv.u32(ctx),
    'llama.embedding_length': kv.u32(embd),
    'llama.block_count': kv.u32(layers),
    'llama.feed_forward_length': kv.u32(ff),
    'llama.attention.head_count': kv.u32(heads),
    'llama.attention.head_count_kv': kv.u32(kvHeads),
    'llama.rope.dimension_count': kv.u32(headDim),
    'llama.rope.freq_base': kv.f32(opts.ropeBase ?? 10000),
    'llama.attention.layer_norm_rms_epsilon': kv.f32(opts.rmsEps ?? 1e-5),
    'llama.vocab_size': kv.u32(nVocab),
    'tokenizer.ggml.model': kv.str('llama'),
    'tokenizer.ggml.pre': kv.str('default'),
    'tokenizer.ggml.tokens': kv.strs(vocab.tokens),
    'tokenizer.ggml.scores': kv.f32s(vocab.scores),
    'tokenizer.ggml.token_type': kv.i32s(vocab.types),
    'tokenizer.ggml.unknown_token_id': kv.u32(0),
    'tokenizer.ggml.bos_token_id': kv.u32(1),
    'tokenizer.ggml.eos_token_id': kv.u32(2),
    'tokenizer.ggml.add_bos_token': kv.bool(true),
    'tokenizer.ggml.add_eos_token': kv.bool(false),
    ...(opts.chatTemplate !== undefined ? { 'tokenizer.chat_template': kv.str(opts.chatTemplate) } : {}),
  };
  return writeGguf({ metadata, tensors });
}

function checkSynth(o: Required<Pick<SynthOptions, 'layers' | 'embd' | 'heads' | 'kvHeads' | 'ff' | 'vocab' | 'ctx' | 'type'>>): void {
  const bad = (why: string) => new TlcError(`synthetic model: ${why}`);
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'type' && (!Number.isInteger(v) || v <= 0)) throw bad(`${k} must be a positive integer, got ${v}`);
  }
  if (!SUPPORTED_TYPES.includes(o.type)) throw bad(`weight type ${ggmlTypeName(o.type)} is not one of ${SUPPORTED_TYPES.map(ggmlTypeName).join(', ')}`);
  if (o.embd % o.heads) throw bad(`embd ${o.embd} is not a multiple of heads ${o.heads}`);
  if ((o.embd / o.heads) % 2) throw bad(`head size ${o.embd / o.heads} must be even for rope`);
  if (o.heads % o.kvHeads) throw bad(`heads ${o.heads} is not a multiple of kv-heads ${o.kvHeads}`);
  if (o.vocab < 259) throw bad(`vocab ${o.vocab} is too small: <unk>, <s>, </s> and 256 byte tokens need 259`);
  const { blockSize } = ggmlLayout(o.type)!;
  if (o.embd % blockSize || o.ff % blockSize) {
    throw bad(`${ggmlTypeName(o.type)} packs rows in blocks of ${blockSize} values, so embd (${o.embd}) and ff (${o.ff}) must be multiples of ${blockSize}`);
  }
}

/** `n` normal values of the given mean and std. */
function normals(rng: Rng, n: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(n); // (n,)
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6;
const WORDS = 'the a and was to he she it in of day little girl boy once upon time there play big happy dog cat sun tree said they with her his one saw wanted very friend mom ball park went had';

/**
 * A SentencePiece-style vocabulary of exactly n tokens: <unk>, <s>, </s>, the byte tokens <0x00>..<0xFF>,
 * then word pieces ("▁" marks a word start) whose scores fall with their index. Every word's prefixes
 * come before it ("▁t", "▁th", "▁the"), so SentencePiece's merges can reach each word.
 */
export function spmVocab(n: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [UNKNOWN, CONTROL, CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(BYTE);
  }
  const pieces = new Set<string>(['▁', ...'abcdefghijklmnopqrstuvwxyz'.split('').flatMap((c) => [c, `▁${c}`])]);
  for (const word of WORDS.split(' ')) {
    for (let i = 2; i <= word.length; i++) pieces.add(`▁${word.slice(0, i)}`);
  }
  for (const a of 'etaoinshrdlu') for (const b of 'etaoinshrdlu') pieces.add(a + b);
  const words = [...pieces];
  for (let i = 0; tokens.length < n; i++) {
    tokens.push(i < words.length ? words[i] : `▁w${i}`); // past the list: unreachable filler pieces
    types.push(NORMAL);
  }
  const scores = tokens.map((_, i) => (types[i] === NORMAL ? -(i - 259) : 0));
  return { tokens: tokens.slice(0, n), scores: scores.slice(0, n), types: types.slice(0, n) };
}

function checkSize(t: GgufTensorData): void {
  const layout = ggmlLayout(t.type);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const want = layout && (count / layout.blockSize) * layout.bytesPerBlock;
  if (want !== undefined && want !== t.data.length) {
    throw new TlcError(`GGUF writer: tensor ${t.name} (${ggmlTypeName(t.type)} [${t.shape.join(', ')}]) needs ${want} bytes, got ${t.data.length}`);
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A growable little-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  /** Makes room for n more bytes; returns a view of them. */
  private take(n: number): DataView {
    if (this.length + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.length += n;
    return new DataView(this.buf.buffer, this.length - n, n);
  }

  raw(bytes: Uint8Array): void {
    const at = this.take(bytes.length).byteOffset;
    this.buf.set(bytes, at);
  }
  zeros(n: number): void { this.take(n); }
  u32(v: number): void { this.take(4).setUint32(0, v, true); }
  u64(v: number | bigint): void { this.take(8).setBigUint64(0, BigInt(v), true); }
  str(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.u64(bytes.length);
    this.raw(bytes);
  }

  value(type: V, v: Scalar): void {
    switch (type) {
      case V.UINT8: return this.take(1).setUint8(0, Number(v));
      case V.INT8: return this.take(1).setInt8(0, Number(v));
      case V.UINT16: return this.take(2).setUint16(0, Number(v), true);
      case V.INT16: return this.take(2).setInt16(0, Number(v), true);
      case V.UINT32: return this.take(4).setUint32(0, Number(v), true);
      case V.INT32: return this.take(4).setInt32(0, Number(v), true);
      case V.FLOAT32: return this.take(4).setFloat32(0, Number(v), true);
      case V.BOOL: return this.take(1).setUint8(0, v ? 1 : 0);
      case V.STRING: return this.str(String(v));
      case V.UINT64: return this.take(8).setBigUint64(0, BigInt(v), true);
      case V.INT64: return this.take(8).setBigInt64(0, BigInt(v), true);
      case V.FLOAT64: return this.take(8).setFloat64(0, Number(v), true);
      default: throw new TlcError(`GGUF writer: cannot write a value of type ${type} here`);
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
