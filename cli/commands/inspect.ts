import type { CommandModule } from 'yargs';
import { openGguf } from '../../runtime/node/gguf.ts';
import { ggmlTypeName, SUPPORTED_TYPES, type GgufFile } from '../../runtime/gguf.ts';
import { llamaHParams, type LlamaHParams } from '../../runtime/hparams.ts';
import { TlcError } from '../../runtime/errors.ts';
import { requireFile } from '../files.ts';
import { isHubRef, modelFromHub, QUANT_OPTION, withQuant } from '../hub.ts';

export const inspectCommand: CommandModule<{}, { model: string; quant?: string; json?: boolean }> = {
  command: 'inspect <model>',
  describe: 'Describe a GGUF model: hyperparameters, tokenizer, tensors',
  builder: (y) =>
    y.positional('model', { type: 'string', demandOption: true, describe: 'A .gguf file, or hf:OWNER/REPO/FILE.gguf' })
      .option('quant', QUANT_OPTION)
      .option('json', { type: 'boolean', describe: 'Print as JSON' }),
  handler: async (argv) => {
    const model = withQuant(argv.model, argv.quant)!;
    const local = isHubRef(model) ? await modelFromHub(model) : model; // in the cache, downloaded when missing
    requireFile(local, 'the model'); // a directory or a FIFO: an error, not a hang at open
    const file = await openGguf(local);
    try {
      const summary = describe(file);
      if (argv.json) console.log(JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
      else console.log(render(summary));
    } finally {
      await file.source.close?.();
    }
  },
};

interface Summary {
  file: string;
  bytes: number;
  version: number;
  architecture?: string;
  name?: string;
  hparams?: LlamaHParams;
  hparamsError?: string;
  tokenizer?: { model?: string; pre?: string; tokens: number; merges?: number };
  metadata: Record<string, unknown>; // long arrays summarized
  tensors: { name: string; type: string; shape: number[]; bytes: number; offset: number; supported: boolean }[];
  totals: { tensors: number; params: number; bytes: number; byType: Record<string, number> };
}

function describe(file: GgufFile): Summary {
  const md = file.metadata;
  let hparams: LlamaHParams | undefined, hparamsError: string | undefined;
  try {
    hparams = llamaHParams(file);
  } catch (e) {
    if (!(e instanceof TlcError)) throw e;
    hparamsError = e.message;
  }
  const tokens = md['tokenizer.ggml.tokens'];
  const merges = md['tokenizer.ggml.merges'];
  const tensors = file.tensors.map((t) => ({
    name: t.name, type: ggmlTypeName(t.type), shape: t.shape, bytes: t.byteLength, offset: t.offset,
    supported: SUPPORTED_TYPES.includes(t.type),
  }));
  const byType: Record<string, number> = {};
  for (const t of tensors) byType[t.type] = (byType[t.type] ?? 0) + 1;
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) {
    metadata[k] = Array.isArray(v) && v.length > 8 ? { length: v.length, first: v.slice(0, 8) } : v;
  }
  return {
    file: file.source.name,
    bytes: file.source.size,
    version: file.version,
    architecture: md['general.architecture'] as string | undefined,
    name: md['general.name'] as string | undefined,
    hparams,
    hparamsError,
    tokenizer: Array.isArray(tokens)
      ? { model: md['tokenizer.ggml.model'] as string, pre: md['tokenizer.ggml.pre'] as string | undefined, tokens: tokens.length, merges: Array.isArray(merges) ? merges.length : undefined }
      : undefined,
    metadata,
    tensors,
    totals: {
      tensors: tensors.length,
      params: file.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
      bytes: tensors.reduce((a, t) => a + t.bytes, 0),
      byType,
    },
  };
}

const TOKENIZER_KIND: Record<string, string> = { llama: 'SentencePiece', gpt2: 'byte-level BPE', bert: 'WordPiece', no_vocab: 'none' };

function render(s: Summary): string {
  const lines = [`${s.file}: GGUF v${s.version}, ${bytes(s.bytes)}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(14)}${v}`);
  row('architecture', `${s.architecture ?? '(none)'}${s.name ? `  "${s.name}"` : ''}`);
  const h = s.hparams;
  if (h) {
    row('layers', `${h.n_layer}    embd ${h.n_embd}    ff ${h.n_ff}`);
    row('attention', `${h.n_head} heads, ${h.n_head_kv} KV heads${h.n_head_kv < h.n_head ? ' (GQA)' : ''}, head_dim ${h.head_dim}`);
    row('rope', `${h.n_rot} dims, base ${h.rope_freq_base}`);
    row('rms eps', h.rms_eps.toExponential(2));
    row('context', `${h.n_ctx_train} (trained)`);
    const head = s.tensors.length === 0 ? 'no tensors: vocabulary only' : `output head ${h.tied_output ? 'tied to token_embd' : 'separate'}`;
    row('vocab', `${h.n_vocab}    ${head}`);
  } else {
    row('hparams', `not a llama model we can run: ${s.hparamsError}`);
  }
  const t = s.tokenizer;
  if (t) {
    const ids = h ? Object.entries({ bos: h.bos_id, eos: h.eos_id, unk: h.unk_id, pad: h.pad_id }).filter(([, id]) => id !== undefined) : [];
    const parts = [
      `${t.model} (${TOKENIZER_KIND[t.model ?? ''] ?? 'unknown kind'})${t.pre ? `, pre ${t.pre}` : ''}`,
      `${t.tokens} tokens${t.merges !== undefined ? `, ${t.merges} merges` : ''}`,
      ...(ids.length ? [ids.map(([k, id]) => `${k} ${id}`).join(' ')] : []),
      ...(h ? [`add_bos ${h.add_bos}`] : []),
    ];
    row('tokenizer', parts.join('; '));
  } else {
    row('tokenizer', '(none)');
  }

  if (s.tensors.length > 0) {
    const table = [['tensor', 'type', 'shape', 'bytes'], ...s.tensors.map((x) => [x.name, x.type + (x.supported ? '' : ' (unsupported)'), `[${x.shape.join(', ')}]`, x.bytes.toLocaleString('en-US')])];
    const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
    lines.push('');
    for (const r of table) lines.push('  ' + r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  }
  const types = Object.entries(s.totals.byType).map(([k, n]) => `${n} ${k}`).join(', ');
  lines.push('', `  ${s.totals.tensors} tensors${types ? ` (${types})` : ''}, ${s.totals.params.toLocaleString('en-US')} parameters, ${bytes(s.totals.bytes)} of weights`);
  return lines.join('\n');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]} (${n.toLocaleString('en-US')} B)`;
}
