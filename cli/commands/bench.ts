import type { CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import { BENCH_KERNELS, BENCH_TYPES, DEFAULT_SHAPES, benchCases, runBench } from '../../runtime/bench.ts';
import { measureRoofline } from '../../runtime/roofline.ts';
import { benchModel, type ModelBenchResult } from '../../runtime/bench-model.ts';
import { tuneWeightKernels, tuningFor } from '../../runtime/ops/matmul.ts';
import { UsageError } from '../report.ts';
import { runBenchBlocks } from '../test-blocks.ts';
import { openModel } from '../model.ts';
import { QUANT_OPTION, withQuant } from '../hub.ts';
import { llamaHParams } from '../../runtime/hparams.ts';
import { llamaCppBench, LLAMA_CPP_MISSING, type LlamaCppResult } from '../llama-cpp.ts';

interface Args {
  kernel: string;
  type?: string;
  shape?: string[];
  m: number;
  iters: number;
  json?: boolean;
  model?: string;
  quant?: string;
  'prompt-tokens': number;
  tokens: number;
  ctx?: number;
  'vs-llama-cpp'?: boolean;
  files?: string[];
}

/** The program `tlc bench --model` runs: the same chat.tl as `tlc run` and the page. */
const CHAT_TL = fileURLToPath(new URL('../../examples/chat.tl', import.meta.url));

export const benchCommand: CommandModule<{}, Args> = {
  command: 'bench [files..]',
  describe: 'Time the weight kernels (or, with --model, a whole model) on the WebGPU adapter, against its streaming-read roofline',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: '.tl files: time their bench blocks (cli/test-blocks.ts) instead of the kernels' })
      .option('kernel', { type: 'string', default: 'all', describe: `Which kernels: ${Object.keys(BENCH_KERNELS).join(', ')} or all` })
      .option('type', { type: 'string', describe: `Weight types, comma-separated (default: ${BENCH_TYPES.map((t) => T[t]).join(',')})` })
      .option('shape', { type: 'string', array: true, describe: 'K,N: row length and rows of the weight (default: TinyLlama\'s 2048,2048 2048,5632 5632,2048)' })
      .option('m', { type: 'number', default: 1, describe: 'Rows of x (tokens); 1 = the decode mat-vec' })
      .option('iters', { type: 'number', default: 10, describe: 'Calls per timed submit' })
      .option('model', { type: 'string', describe: 'Bench a GGUF model (a file or hf:OWNER/REPO/FILE.gguf) end to end (chat.tl): prefill and decode tok/s, GB/s, % of the roofline' })
      .option('quant', QUANT_OPTION)
      .option('prompt-tokens', { type: 'number', default: 128, describe: 'With --model: prompt length in tokens (about; the exact count is reported)' })
      .option('tokens', { type: 'number', default: 32, describe: 'With --model: tokens to decode' })
      .option('ctx', { type: 'number', describe: 'With --model: context size (default: the model\'s, at most 4096)' })
      .option('vs-llama-cpp', { type: 'boolean', describe: 'With --model: also run llama.cpp (node-llama-cpp) on the same file and print the ratios' })
      .option('json', { type: 'boolean', describe: 'Print the results as JSON' })
      .example('$0 bench --kernel matmul --type Q8_0,Q4_K --shape 2048,2048', 'M=1 mat-vec for two types')
      .example('$0 bench --model tinyllama-q4_0.gguf --prompt-tokens 128 --tokens 32 --vs-llama-cpp', 'end to end, side by side with llama.cpp'),
  handler: async (argv) => {
    argv.model = withQuant(argv.model, argv.quant);
    if (argv.files?.length) return void (process.exitCode = await runBenchBlocks(argv.files, { model: argv.model, json: argv.json }));
    return argv.model !== undefined ? benchModelCommand(argv) : benchKernels(argv);
  },
};

async function benchKernels(argv: Args): Promise<void> {
  const types = argv.type ? argv.type.split(',').map(parseType) : BENCH_TYPES;
  const shapes = argv.shape ? argv.shape.map(parseShape) : DEFAULT_SHAPES;
  wholeAtLeast('--m', argv.m, 1);
  wholeAtLeast('--iters', argv.iters, 1);
  const kernels = argv.kernel === 'all' ? Object.keys(BENCH_KERNELS) : argv.kernel.split(',');
  const cases = benchCases({ kernels, types, shapes, M: argv.m, iters: argv.iters });

  const gpu = await openNodeDevice();
  tuneWeightKernels(gpu);
  const roofline = await measureRoofline(gpu, Math.max(...cases.map((c) => c.bytes)));
  if (!argv.json) {
    const t = tuningFor(gpu);
    console.log(`${gpu.info.adapter}; matmul: ${t.threadsPerRow} thread(s) per row${t.subgroups ? ', x shared through subgroups' : ''}`);
    console.log(`roofline: ${roofline.gbPerS.toFixed(2)} GB/s (${roofline.kernel} over ${mib(roofline.bytes)})`);
    console.log(row('kernel', 'case', 'ms/call', 'GB/s', 'roof%', 'GFLOP/s'));
  }
  const results = await runBench(gpu, cases, argv.iters, (r) => {
    if (!argv.json) console.log(row(r.kernel, r.label, r.msPerCall.toFixed(3), r.gbPerS.toFixed(2), ((100 * r.gbPerS) / roofline.gbPerS).toFixed(0), r.gflopPerS ? r.gflopPerS.toFixed(1) : '-'));
  });
  if (argv.json) console.log(JSON.stringify({ roofline, results: results.map((r) => ({ ...r, rooflinePct: (100 * r.gbPerS) / roofline.gbPerS })) }, null, 2));
  else console.log(`(${results[0]?.timer ?? 'no'} timing; fastest of 5 submits of ${argv.iters} calls; roof% = GB/s over the roofline measured above)`);
  gpu.device.destroy();
}

async function benchModelCommand(argv: Args): Promise<void> {
  wholeAtLeast('--prompt-tokens', argv['prompt-tokens'], 1);
  wholeAtLeast('--tokens', argv.tokens, 2);
  if (argv.ctx !== undefined) wholeAtLeast('--ctx', argv.ctx, 1);
  const say = (m: string) => { if (!argv.json) process.stderr.write(`tlc bench: ${m}\n`); };
  const model = await openModel(argv.model!);
  const gpu = await openNodeDevice();
  const trained = llamaHParams(model.file).n_ctx_train;
  const need = argv['prompt-tokens'] + argv.tokens + 8; // the chat template and BOS add a few tokens
  if (need > (argv.ctx ?? trained)) throw new UsageError(`--prompt-tokens ${argv['prompt-tokens']} and --tokens ${argv.tokens} do not fit in the context (${argv.ctx ?? trained} tokens)`);
  const ctx = argv.ctx ?? Math.min(trained, Math.max(256, need));
  const tlc = await benchModel(gpu, readFileSync(CHAT_TL, 'utf8'), model.source, model.file, {
    promptTokens: argv['prompt-tokens'], tokens: argv.tokens, ctx, short: true, say,
  });
  gpu.device.destroy();
  await model.source.close?.();

  let llama: LlamaCppResult | undefined;
  if (argv['vs-llama-cpp']) {
    say('llama.cpp (node-llama-cpp) on the same file');
    // model.path: the local file, for an hf: reference too
    llama = await llamaCppBench(model.path, { promptTokens: tlc.prompt_tokens, tokens: tlc.tokens, ctx, say });
  }
  if (argv.json) {
    console.log(JSON.stringify({ tlc, ...(llama ? { llama_cpp: llama, ratio: ratios(tlc, llama) } : {}) }, null, 2));
    return;
  }
  printModelBench(tlc, llama);
}

function printModelBench(r: ModelBenchResult, llama: LlamaCppResult | undefined): void {
  console.log(`${r.model} on ${r.adapter}`);
  console.log(`roofline (streaming reads, this run): ${r.roofline_gb_s} GB/s (${r.roofline_kernel})`);
  const lines: [string, string, string?][] = [
    ['prefill', `${r.prefill_tok_s} tok/s (${r.prompt_tokens} tokens; ${r.prefill_x_decode}x decode)`, llama && `${llama.prefill_tok_s} tok/s`],
    ['decode', `${r.decode_tok_s} tok/s (${r.decode_ms_per_token} ms/token, ${r.tokens} tokens)`, llama && `${llama.decode_tok_s} tok/s`],
    ['weights/token', `${mib(r.weight_bytes_per_token)}`],
    ['decode GB/s', `${r.decode_gb_s} GB/s = ${r.roofline_pct}% of the roofline`],
  ];
  if (r.short) lines.push(['flatness', `${r.decode_ms_per_token} ms/token after ${r.prompt_tokens} tokens vs ${r.short.decode_ms_per_token} after ${r.short.prompt_tokens}: x${r.short.long_over_short}`]);
  for (const [k, v, l] of lines) console.log(`  ${k.padEnd(14)} ${v.padEnd(58)}${l ? ` llama.cpp: ${l}` : ''}`);
  if (llama) {
    const q = ratios(r, llama);
    console.log(`  tlc / llama.cpp: prefill ${q.prefill}x, decode ${q.decode}x (llama.cpp ${llama.version}, ${llama.threads} threads, CPU)`);
  } else console.log(`  (--vs-llama-cpp runs llama.cpp on the same file; ${LLAMA_CPP_MISSING})`);
}

function ratios(t: ModelBenchResult, l: LlamaCppResult) {
  const r = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return { prefill: r(t.prefill_tok_s, l.prefill_tok_s), decode: r(t.decode_tok_s, l.decode_tok_s) };
}

function row(...cells: string[]): string {
  const widths = [10, 34, 10, 8, 6, 8];
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function wholeAtLeast(flag: string, v: number, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) throw new UsageError(`${flag} must be a whole number >= ${min}, got ${v}`);
}

function parseType(name: string): T {
  const t = T[name.trim().toUpperCase() as keyof typeof T];
  if (t === undefined || !BENCH_TYPES.includes(t)) throw new UsageError(`--type: unknown or unsupported type "${name}" (use ${BENCH_TYPES.map((x) => T[x]).join(', ')})`);
  return t;
}

function parseShape(s: string): [number, number] {
  const parts = s.split(',').map(Number);
  if (parts.length !== 2 || !parts.every((n) => Number.isInteger(n) && n > 0)) throw new UsageError(`--shape wants K,N (two positive integers), got "${s}"`);
  return [parts[0], parts[1]];
}
