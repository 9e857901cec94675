// A plain TypeScript llama forward pass, written straight from the architecture (not from the
// compiler): what end-to-end tests compare the compiled program with. It reads the GGUF file and
// dequantizes the weights with the test's own code (./gguf.ts, ./quant.ts), no production runtime.
import * as R from './ops.ts';
import { linearRef } from './matmul.ts';
import { readRefGguf, type RefGguf } from './gguf.ts';
import { refDequantize, refTensorBytes } from './quant.ts';

/** The hyperparameters the forward pass needs, under llama.cpp's GGUF keys. */
export interface RefHParams {
  n_layer: number; n_embd: number; n_ff: number; n_head: number; n_head_kv: number; head_dim: number;
  n_rot: number; rope_freq_base: number; rms_eps: number; n_vocab: number; eos_id?: number;
}

function hparams(f: RefGguf): RefHParams {
  const md = f.metadata, arch = String(md.get('general.architecture'));
  const num = (key: string, fallback?: number): number => {
    const v = md.get(`${arch}.${key}`) ?? fallback;
    if (v === undefined) throw new Error(`reference: no ${arch}.${key}`);
    return Number(v);
  };
  const n_embd = num('embedding_length'), n_head = num('attention.head_count');
  const head_dim = num('attention.key_length', n_embd / n_head);
  const tokens = md.get('tokenizer.ggml.tokens');
  const eos = md.get('tokenizer.ggml.eos_token_id');
  return {
    n_layer: num('block_count'), n_embd, n_ff: num('feed_forward_length'), n_head,
    n_head_kv: num('attention.head_count_kv', n_head), head_dim, n_rot: num('rope.dimension_count', head_dim),
    rope_freq_base: num('rope.freq_base', 10000), rms_eps: num('attention.layer_norm_rms_epsilon'),
    n_vocab: num('vocab_size', Array.isArray(tokens) ? tokens.length : undefined),
    eos_id: eos === undefined ? undefined : Number(eos),
  };
}

export class RefLlama {
  readonly hp: RefHParams;
  private w = new Map<string, Float32Array>();

  private constructor(file: RefGguf) {
    this.hp = hparams(file);
    for (const t of file.tensors.values()) this.w.set(t.name, refDequantize(t.type, t.bytes, t.shape.reduce((a, b) => a * b, 1)));
  }

  /** The model in a GGUF file's bytes. */
  static load(bytes: Uint8Array): RefLlama {
    return new RefLlama(readRefGguf(bytes, refTensorBytes));
  }

  private get(name: string): Float32Array {
    const w = this.w.get(name);
    if (!w) throw new Error(`no tensor ${name}`);
    return w;
  }

  /** Logits (n_vocab) after the last of `ids`, recomputing the whole sequence. */
  logits(ids: number[]): Float32Array {
    const { n_embd: E, n_head: H, n_head_kv: KV, head_dim: D, n_ff: F, n_layer, rms_eps: eps, n_vocab: V } = this.hp;
    const S = ids.length;
    const x = new Float32Array(S * E); // (seq, n_embd)
    const emb = this.get('token_embd.weight');
    ids.forEach((id, s) => x.set(emb.subarray(id * E, (id + 1) * E), s * E));
    const rope = (t: Float32Array, heads: number) => R.rope(t, S, heads, D, { pos0: 0, base: this.hp.rope_freq_base, nRot: this.hp.n_rot });
    for (let l = 0; l < n_layer; l++) {
      const p = `blk.${l}.`;
      const h = R.rmsNorm(x, this.get(p + 'attn_norm.weight'), S, E, eps);
      const q = rope(linearRef(h, this.get(p + 'attn_q.weight'), S, E, H * D), H);
      const k = rope(linearRef(h, this.get(p + 'attn_k.weight'), S, E, KV * D), KV);
      const v = linearRef(h, this.get(p + 'attn_v.weight'), S, E, KV * D);
      // As llama.cpp's CPU path: f16 K/V cache, q and the attention weights rounded to f16 too.
      const att = R.attention(q, k, v, { seq: S, pos0: 0, nHead: H, nKvHead: KV, headDim: D, llamaCppF16: true });
      const o = linearRef(att, this.get(p + 'attn_output.weight'), S, H * D, E);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const h2 = R.rmsNorm(x, this.get(p + 'ffn_norm.weight'), S, E, eps);
      const g = linearRef(h2, this.get(p + 'ffn_gate.weight'), S, E, F);
      const u = linearRef(h2, this.get(p + 'ffn_up.weight'), S, E, F);
      const a = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]);
      const d = linearRef(a, this.get(p + 'ffn_down.weight'), S, F, E);
      for (let i = 0; i < x.length; i++) x[i] += d[i];
    }
    const last = R.rmsNorm(x.subarray((S - 1) * E), this.get('output_norm.weight'), 1, E, eps);
    const head = this.w.get('output.weight') ?? this.get('token_embd.weight');
    return linearRef(last, head, 1, E, V);
  }

  /** Greedy generation: the ids of `n` tokens after `ids` (stopping after EOS). */
  greedy(ids: number[], n: number): number[] {
    const out: number[] = [];
    const seq = [...ids];
    for (let i = 0; i < n; i++) {
      const next = R.argmax(this.logits(seq));
      out.push(next);
      if (next === this.hp.eos_id) break;
      seq.push(next);
    }
    return out;
  }
}
