import type { CommandModule } from 'yargs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import { BENCH_KERNELS, BENCH_TYPES, DEFAULT_SHAPES, benchCases, runBench } from '../../runtime/bench.ts';
import { tuneWeightKernels, tuningFor } from '../../runtime/ops/matmul.ts';
import { UsageError } from '../report.ts';

interface Args {
  kernel: string;
  type?: string;
  shape?: string[];
  m: number;
  iters: number;
  json?: boolean;
}

export const benchCommand: CommandModule<{}, Args> = {
  command: 'bench',
  describe: 'Time the weight kernels on the WebGPU adapter: ms per call, GB/s of weights read, GFLOP/s',
  builder: (y) =>
    y
      .option('kernel', { type: 'string', default: 'all', describe: `Which kernels: ${Object.keys(BENCH_KERNELS).join(', ')} or all` })
      .option('type', { type: 'string', describe: `Weight types, comma-separated (default: ${BENCH_TYPES.map((t) => T[t]).join(',')})` })
      .option('shape', { type: 'string', array: true, describe: 'K,N: row length and rows of the weight (default: TinyLlama\'s 2048,2048 2048,5632 5632,2048)' })
      .option('m', { type: 'number', default: 1, describe: 'Rows of x (tokens); 1 = the decode mat-vec' })
      .option('iters', { type: 'number', default: 10, describe: 'Calls per timed submit' })
      .option('json', { type: 'boolean', describe: 'Print the results as JSON' })
      .example('$0 bench --kernel matmul --type Q8_0,Q4_K --shape 2048,2048', 'M=1 mat-vec for two types'),
  handler: async (argv) => {
    const types = argv.type ? argv.type.split(',').map(parseType) : BENCH_TYPES;
    const shapes = argv.shape ? argv.shape.map(parseShape) : DEFAULT_SHAPES;
    if (!(argv.m >= 1 && Number.isInteger(argv.m))) throw new UsageError(`--m must be a positive integer, got ${argv.m}`);
    if (!(argv.iters >= 1 && Number.isInteger(argv.iters))) throw new UsageError(`--iters must be a positive integer, got ${argv.iters}`);
    const kernels = argv.kernel === 'all' ? Object.keys(BENCH_KERNELS) : argv.kernel.split(',');
    const cases = benchCases({ kernels, types, shapes, M: argv.m, iters: argv.iters });

    const gpu = await openNodeDevice();
    tuneWeightKernels(gpu);
    if (!argv.json) {
      const t = tuningFor(gpu);
      console.log(`${gpu.info.adapter}; matmul: ${t.threadsPerRow} thread(s) per row${t.subgroups ? ', x shared through subgroups' : ''}`);
      console.log(row('kernel', 'case', 'ms/call', 'GB/s', 'GFLOP/s'));
    }
    const results = await runBench(gpu, cases, argv.iters, (r) => {
      if (!argv.json) console.log(row(r.kernel, r.label, r.msPerCall.toFixed(3), r.gbPerS.toFixed(2), r.gflopPerS ? r.gflopPerS.toFixed(1) : '-'));
    });
    if (argv.json) console.log(JSON.stringify(results, null, 2));
    else console.log(`(${results[0]?.timer ?? 'no'} timing; fastest of 5 submits of ${argv.iters} calls)`);
    gpu.device.destroy();
  },
};

function row(...cells: string[]): string {
  const widths = [10, 34, 10, 8, 8];
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
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
