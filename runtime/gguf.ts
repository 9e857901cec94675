// GGUF models: metadata and tensor infos, read through @huggingface/gguf from any ByteSource.
// The parser asks for byte ranges with HTTP Range requests; a small fetch() answers them from the
// source, so the same code reads a file in Node, a Blob or a URL in the browser.
// Then every tensor is checked against the file: known type, whole blocks, aligned, inside the file.
import { gguf, GGMLQuantizationType as T } from '@huggingface/gguf';
import type { ByteSource } from './bytes.ts';
import { TlcError } from './errors.ts';
import type { GgmlType } from './weights.ts';

export class GgufError extends TlcError {
  override name = 'GgufError';
}

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  shape: number[];     // GGUF order, ne0 (the contiguous row length) first
  offset: number;      // absolute byte offset in the file
  byteLength: number;
}

export interface GgufFile {
  source: ByteSource;
  version: number;
  alignment: number;
  /** Every key-value pair of the file (tokenizer arrays included) as plain JS values; integers beyond 2^53 stay bigint. */
  metadata: Record<string, unknown>;
  tensors: GgufTensorInfo[];
  /** Where tensor data begins (tensor offsets are relative to it in the file, absolute here). */
  dataOffset: number;
  tensor(name: string): GgufTensorInfo | undefined;
}

/** The types tlc can upload and compute with. */
export const SUPPORTED_TYPES: readonly GgmlType[] = [T.F32, T.F16, T.Q8_0, T.Q4_0, T.Q4_K, T.Q6_K];

// Block layout of every ggml type, [values per block, bytes per block], so that files holding
// types we cannot compute with still read and inspect (from ggml-common.h's block structs).
const LAYOUT: Partial<Record<number, [number, number]>> = {
  [T.F32]: [1, 4], [T.F16]: [1, 2], [T.BF16]: [1, 2], [T.F64]: [1, 8],
  [T.I8]: [1, 1], [T.I16]: [1, 2], [T.I32]: [1, 4], [T.I64]: [1, 8],
  [T.Q4_0]: [32, 18], [T.Q4_1]: [32, 20], [T.Q5_0]: [32, 22], [T.Q5_1]: [32, 24],
  [T.Q8_0]: [32, 34], [T.Q8_1]: [32, 36], [T.IQ4_NL]: [32, 18], [T.MXFP4]: [32, 17],
  [T.Q2_K]: [256, 84], [T.Q3_K]: [256, 110], [T.Q4_K]: [256, 144], [T.Q5_K]: [256, 176],
  [T.Q6_K]: [256, 210], [T.Q8_K]: [256, 292],
  [T.IQ2_XXS]: [256, 66], [T.IQ2_XS]: [256, 74], [T.IQ2_S]: [256, 82], [T.IQ3_XXS]: [256, 98],
  [T.IQ3_S]: [256, 110], [T.IQ1_S]: [256, 50], [T.IQ1_M]: [256, 56], [T.IQ4_XS]: [256, 136],
  [T.TQ1_0]: [256, 54], [T.TQ2_0]: [256, 66],
};

export function ggmlTypeName(t: GgmlType): string {
  return T[t] ?? `type ${t}`;
}

/** The ggml type named `name` ("Q8_0", case-insensitive), or undefined. */
export function ggmlTypeByName(name: string): GgmlType | undefined {
  const t = (T as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof t === 'number' ? (t as GgmlType) : undefined;
}

/** Values per block and bytes per block of a ggml type; undefined for a type id ggml does not define. */
export function ggmlLayout(t: GgmlType): { blockSize: number; bytesPerBlock: number } | undefined {
  const l = LAYOUT[t];
  return l && { blockSize: l[0], bytesPerBlock: l[1] };
}

/** Bytes of one row (shape[0] values) of a tensor. */
export function rowBytes(info: { type: GgmlType; shape: number[] }): number {
  const { blockSize, bytesPerBlock } = ggmlLayout(info.type)!;
  return (info.shape[0] / blockSize) * bytesPerBlock;
}

/** Throws unless tlc can compute with the tensor's type. */
export function assertSupported(file: GgufFile, info: GgufTensorInfo): void {
  if (!SUPPORTED_TYPES.includes(info.type)) {
    throw new GgufError(
      `${file.source.name}: tensor ${info.name} has type ${ggmlTypeName(info.type)}, which tlc does not support ` +
        `(supported: ${SUPPORTED_TYPES.map(ggmlTypeName).join(', ')}). Requantize the model, e.g. to Q8_0 or Q4_K.`,
    );
  }
}

export async function readGguf(source: ByteSource): Promise<GgufFile> {
  const where = source.name;
  const head = await source.read(0, 4);
  if (String.fromCharCode(...head) !== 'GGUF') { // a shorter head is not "GGUF" either
    const what = source.size === 0 ? 'it is empty' : `it starts with ${JSON.stringify(String.fromCharCode(...head))}`;
    throw new GgufError(`${where}: not a GGUF file (${what}, not "GGUF").`);
  }

  const truncated = `${where}: the GGUF header runs past the end of the file (${source.size} bytes): the file is truncated or its header is corrupt.`;
  if (source.size < 24) throw new GgufError(truncated); // magic, version, tensor count, key count
  // Bound the counts by the file size before parsing (a tensor info takes at least 24 bytes, a
  // key-value pair 13), so that a lying header fails at once instead of after reading megabytes.
  const fixed = new DataView((await source.read(4, 20)).slice().buffer); // version, tensor count, key count
  const version = fixed.getUint32(0, true);
  if ((version & 0xffff) === 0) throw new GgufError(`${where}: big-endian GGUF files are not supported.`);
  if (version !== 2 && version !== 3) throw new GgufError(`${where}: GGUF version ${version} is not supported (2 and 3 are).`);
  const [nTensors, nKeys] = [fixed.getBigUint64(4, true), fixed.getBigUint64(12, true)];
  if (nTensors * 24n + nKeys * 13n > BigInt(source.size)) {
    throw new GgufError(`${where}: the GGUF header claims ${nTensors} tensors and ${nKeys} metadata keys, more than fit in the file (${source.size} bytes): the file is truncated or its header is corrupt.`);
  }
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(`https://tlc.invalid/${encodeURIComponent(where)}`, { fetch: rangeFetch(source, truncated) });
  } catch (e) {
    if (e instanceof GgufError) throw e;
    throw new GgufError(`${where}: malformed GGUF header: ${(e as Error).message}`);
  }
  const { metadata: raw, tensorInfos, tensorDataOffset, tensorInfoByteRange } = parsed;
  // Reads past the end come back as zeros, so a truncated header may "parse": its end tells.
  if (tensorInfoByteRange[1] > source.size) throw new GgufError(truncated);

  const { version: _v, tensor_count: _t, kv_count, ...kvs } = raw;
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kvs)) metadata[k] = plain(v);
  if (Object.keys(metadata).length !== Number(kv_count)) {
    throw new GgufError(`${where}: the GGUF header lists ${kv_count} metadata keys, but only ${Object.keys(metadata).length} distinct ones: the header is corrupt.`);
  }
  const alignment = Number(metadata['general.alignment'] ?? 32);
  if ((alignment & (alignment - 1)) !== 0) throw new GgufError(`${where}: general.alignment ${alignment} is not a power of two.`);
  const dataOffset = Number(tensorDataOffset);

  const tensors = tensorInfos.map((t): GgufTensorInfo => {
    const shape = t.shape.map(Number);
    const rel = Number(t.offset);
    const info = { name: t.name, type: t.dtype as GgmlType, shape, offset: dataOffset + rel, byteLength: 0 };
    const desc = `${where}: tensor ${t.name} (${ggmlTypeName(info.type)} [${shape.join(', ')}])`;
    const layout = ggmlLayout(info.type);
    if (!layout) throw new GgufError(`${desc} has an unknown ggml type id ${t.dtype}.`);
    if (shape.length === 0) throw new GgufError(`${desc} has no dimensions.`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count * layout.bytesPerBlock)) throw new GgufError(`${desc} is impossibly large.`);
    if (shape[0] % layout.blockSize !== 0) {
      throw new GgufError(`${desc}: rows of ${shape[0]} values are not whole blocks of ${layout.blockSize}.`);
    }
    if (!Number.isSafeInteger(rel) || rel % alignment !== 0) {
      throw new GgufError(`${desc}: data offset ${t.offset} is not a multiple of the alignment ${alignment}.`);
    }
    info.byteLength = (count / layout.blockSize) * layout.bytesPerBlock;
    if (info.offset + info.byteLength > source.size) {
      throw new GgufError(
        `${desc}: its data (${info.byteLength} bytes at offset ${info.offset}) runs past the end of the file ` +
          `(${source.size} bytes): the file is truncated.`,
      );
    }
    return info;
  });

  const byName = new Map<string, GgufTensorInfo>();
  for (const t of tensors) {
    if (byName.has(t.name)) throw new GgufError(`${where}: two tensors are named ${t.name}.`);
    byName.set(t.name, t);
  }
  return { source, version, alignment, metadata, tensors, dataOffset, tensor: (name) => byName.get(name) };
}

/** A fetch() that serves @huggingface/gguf's Range requests from a ByteSource. */
function rangeFetch(source: ByteSource, truncatedMessage: string): typeof fetch {
  return (async (_url: unknown, init?: RequestInit) => {
    const range = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '');
    if (!range) throw new Error('expected a Range request');
    const start = Number(range[1]), length = Number(range[2]) + 1 - start;
    // The parser reads ahead by one chunk; a request starting a whole chunk past the end means it is
    // reading header fields that are not there. Stop it rather than let it parse zeros.
    if (start >= source.size + length) throw new GgufError(truncatedMessage);
    const bytes = start < source.size ? await source.read(start, Math.min(length, source.size - start)) : new Uint8Array(0);
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${start + Math.max(bytes.length, 1) - 1}/${source.size}` },
    });
  }) as typeof fetch;
}

/** bigint -> number where exact; arrays element by element. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
