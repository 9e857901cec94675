// The hyperparameters of a llama-family model, from its GGUF metadata (`<arch>.*` and `tokenizer.ggml.*`).
import { GgufError, type GgufFile } from './gguf.ts';

export interface LlamaHParams {
  arch: string;            // general.architecture: "llama", ...
  name?: string;           // general.name
  n_layer: number;
  n_embd: number;
  n_ff: number;
  n_head: number;
  n_head_kv: number;       // < n_head for grouped-query attention
  head_dim: number;        // n_embd / n_head unless attention.key_length says otherwise
  n_rot: number;           // rotated dims per head (rope.dimension_count), default head_dim
  rope_freq_base: number;  // default 10000
  rms_eps: number;
  n_ctx_train: number;
  n_vocab: number;
  tied_output: boolean;    // no output.weight: the head reuses token_embd
  tokenizer_model?: string; // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
  bos_id?: number;         // special token ids; undefined when absent or -1 (0xFFFFFFFF)
  eos_id?: number;
  unk_id?: number;
  pad_id?: number;
  add_bos: boolean;        // default true for SentencePiece vocabularies, as llama.cpp does
  add_eos: boolean;
}

export function llamaHParams(file: GgufFile): LlamaHParams {
  const md = file.metadata;
  const where = file.source.name;
  const arch = md['general.architecture'];
  if (typeof arch !== 'string') throw new GgufError(`${where}: metadata key general.architecture is missing.`);
  if (!SUPPORTED_ARCHS.includes(arch)) {
    throw new GgufError(`${where}: the architecture "${arch}" is not supported; tlc runs ${SUPPORTED_ARCHS.map((x) => `"${x}"`).join(', ')} models.`);
  }

  const get = (key: string, fallback?: number): number => {
    const v = md[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (v === undefined) throw new GgufError(`${where}: metadata key ${key} is missing.`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new GgufError(`${where}: metadata key ${key} is ${show(v)}, expected a number.`);
    return v;
  };
  const count = (key: string, fallback?: number): number => {
    const v = get(key, fallback);
    if (!Number.isInteger(v) || v <= 0) throw new GgufError(`${where}: metadata key ${key} is ${v}, expected a positive integer.`);
    return v;
  };
  const tokenId = (key: string): number | undefined => {
    const v = md[key];
    return typeof v === 'number' && v >= 0 && v !== 0xffffffff ? v : undefined;
  };
  // BOS and EOS the model reads and writes: an id past the vocabulary is an error, not a zero row.
  const special = (key: string): number | undefined => {
    const id = tokenId(key);
    if (id !== undefined && id >= n_vocab) throw new GgufError(`${where}: ${key} is ${id}, past the vocabulary of ${n_vocab} tokens.`);
    return id;
  };
  const flag = (key: string, fallback: boolean): boolean => (typeof md[key] === 'boolean' ? (md[key] as boolean) : fallback);

  const a = arch;
  const n_embd = count(`${a}.embedding_length`);
  const n_head = count(`${a}.attention.head_count`);
  const n_head_kv = count(`${a}.attention.head_count_kv`, n_head);
  if (n_head % n_head_kv !== 0) {
    throw new GgufError(`${where}: ${n_head} attention heads cannot be shared by ${n_head_kv} KV heads (not a divisor).`);
  }
  if (md[`${a}.attention.key_length`] === undefined && n_embd % n_head !== 0) {
    throw new GgufError(`${where}: embedding_length ${n_embd} is not a multiple of head_count ${n_head}.`);
  }
  const head_dim = count(`${a}.attention.key_length`, n_embd / n_head);
  const n_rot = count(`${a}.rope.dimension_count`, head_dim);

  const tokens = md['tokenizer.ggml.tokens'];
  if (md[`${a}.vocab_size`] === undefined && !Array.isArray(tokens)) {
    throw new GgufError(`${where}: metadata key ${a}.vocab_size is missing, and there is no tokenizer.ggml.tokens list to count.`);
  }
  const n_vocab = count(`${a}.vocab_size`, Array.isArray(tokens) ? tokens.length : undefined);
  // Every token id must have a row in the embedding table (a model without one has only a vocabulary).
  const embd = file.tensor('token_embd.weight');
  const rows = embd ? embd.shape.slice(1).reduce((x, y) => x * y, 1) : undefined;
  if (rows !== undefined && n_vocab > rows) {
    throw new GgufError(`${where}: the vocabulary has ${n_vocab} tokens but token_embd.weight has ${rows} rows; the file is inconsistent.`);
  }
  const tokenizer_model = typeof md['tokenizer.ggml.model'] === 'string' ? (md['tokenizer.ggml.model'] as string) : undefined;

  return {
    arch,
    name: typeof md['general.name'] === 'string' ? (md['general.name'] as string) : undefined,
    n_layer: count(`${a}.block_count`),
    n_embd,
    n_ff: count(`${a}.feed_forward_length`),
    n_head,
    n_head_kv,
    head_dim,
    n_rot,
    rope_freq_base: get(`${a}.rope.freq_base`, 10000),
    rms_eps: get(`${a}.attention.layer_norm_rms_epsilon`),
    n_ctx_train: count(`${a}.context_length`),
    n_vocab,
    tied_output: !file.tensor('output.weight'),
    tokenizer_model,
    bos_id: special('tokenizer.ggml.bos_token_id'),
    eos_id: special('tokenizer.ggml.eos_token_id'),
    unk_id: tokenId('tokenizer.ggml.unknown_token_id'),
    pad_id: tokenId('tokenizer.ggml.padding_token_id'),
    add_bos: flag('tokenizer.ggml.add_bos_token', tokenizer_model === 'llama'),
    add_eos: flag('tokenizer.ggml.add_eos_token', false),
  };
}

/** What tlc runs: llama-family models (llama, Mistral, TinyLlama, ... all say "llama"). */
export const SUPPORTED_ARCHS = ['llama'];

function show(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
