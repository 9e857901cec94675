// A model header without weights: enough for the compiler, which reads only shapes and hparams.
import type { ModelInfo } from '../../compiler/model-info.ts';
import type { LlamaHParams } from '../../runtime/hparams.ts';

export interface FakeModel {
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  ff: number;
  vocab: number;
  tied?: boolean;
  type?: string;
}

export const TINYLLAMA: FakeModel = { layers: 22, embd: 2048, heads: 32, kvHeads: 4, ff: 5632, vocab: 32000, type: 'Q4_0' };

export function fakeModel(m: FakeModel): ModelInfo {
  const hd = m.embd / m.heads;
  const type = m.type ?? 'F32';
  const tensors: ModelInfo['tensors'] = {
    'token_embd.weight': { type, shape: [m.embd, m.vocab] },
    'output_norm.weight': { type: 'F32', shape: [m.embd] },
  };
  if (!m.tied) tensors['output.weight'] = { type, shape: [m.embd, m.vocab] };
  for (let i = 0; i < m.layers; i++) {
    const t = (name: string, shape: number[], ty = type) => (tensors[`blk.${i}.${name}.weight`] = { type: ty, shape });
    t('attn_norm', [m.embd], 'F32');
    t('ffn_norm', [m.embd], 'F32');
    t('attn_q', [m.embd, m.embd]);
    t('attn_k', [m.embd, m.kvHeads * hd]);
    t('attn_v', [m.embd, m.kvHeads * hd]);
    t('attn_output', [m.embd, m.embd]);
    t('ffn_gate', [m.embd, m.ff]);
    t('ffn_up', [m.embd, m.ff]);
    t('ffn_down', [m.ff, m.embd]);
  }
  const hparams: LlamaHParams = {
    arch: 'llama', n_layer: m.layers, n_embd: m.embd, n_ff: m.ff, n_head: m.heads, n_head_kv: m.kvHeads, head_dim: hd, n_rot: hd,
    rope_freq_base: 10000, rms_eps: 1e-5, n_ctx_train: 2048, n_vocab: m.vocab, tied_output: !!m.tied, tokenizer_model: 'llama',
    bos_id: 1, eos_id: 2, add_bos: true, add_eos: false,
  };
  return { path: 'fake.gguf', hparams, tensors, fingerprint: 'fake' };
}
