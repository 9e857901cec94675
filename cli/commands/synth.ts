import type { CommandModule } from 'yargs';
import { synthLlama, type SynthOptions } from '../../runtime/gguf-writer.ts';
import { ggmlTypeByName, ggmlTypeName, SUPPORTED_TYPES } from '../../runtime/gguf.ts';
import { UsageError } from '../report.ts';
import { atomicWrite } from '../files.ts';

interface Args { out: string; layers: number; embd: number; heads: number; kvHeads?: number; ff?: number; vocab: number; ctx: number; type: string; tied?: boolean; seed: number }

export const synthCommand: CommandModule<{}, Args> = {
  command: 'synth <out>',
  describe: 'Write a synthetic llama GGUF model with random weights (for tests and experiments)',
  builder: (y) =>
    y.positional('out', { type: 'string', demandOption: true, describe: 'The .gguf file to write' })
      .option('layers', { type: 'number', default: 2, describe: 'Transformer blocks' })
      .option('embd', { type: 'number', default: 64, describe: 'Embedding width' })
      .option('heads', { type: 'number', default: 4, describe: 'Attention heads' })
      .option('kv-heads', { type: 'number', describe: 'KV heads (default: heads)' })
      .option('ff', { type: 'number', describe: 'Feed-forward width (default: 2 * embd)' })
      .option('vocab', { type: 'number', default: 320, describe: 'Vocabulary size (at least 259)' })
      .option('ctx', { type: 'number', default: 256, describe: 'Context length' })
      .option('type', { type: 'string', default: 'F32', describe: `Type of the 2-D weights: ${SUPPORTED_TYPES.map(ggmlTypeName).join(', ')}` })
      .option('tied', { type: 'boolean', describe: 'No output.weight: the head reuses token_embd' })
      .option('seed', { type: 'number', default: 1, describe: 'Random seed (same seed, same file)' }),
  handler: async (argv) => {
    const opts = synthOptions(argv);
    const bytes = synthLlama(opts);
    atomicWrite(argv.out, bytes); // a failed write (a full disk) leaves the old file whole
    console.log(`wrote ${argv.out}: ${bytes.length.toLocaleString('en-US')} bytes; layers ${argv.layers}, embd ${argv.embd}, ${ggmlTypeName(opts.type!)}${argv.tied ? ', tied head' : ''}, seed ${argv.seed}`);
  },
};

/** The synthLlama options of `tlc synth`, each checked: a UsageError naming the flag for a bad one. */
export function synthOptions(argv: Args): SynthOptions {
  if (argv.out === '') throw new UsageError('synth: expected a file name, got ""');
  // Sizes are whole numbers >= 1; the seed a whole number >= 0 (yargs reads "abc" as NaN).
  const sizes: [string, unknown][] = [['layers', argv.layers], ['embd', argv.embd], ['heads', argv.heads], ['kv-heads', argv.kvHeads], ['ff', argv.ff], ['vocab', argv.vocab], ['ctx', argv.ctx]];
  for (const [flag, v] of sizes) {
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 1)) throw new UsageError(`--${flag}: expected a whole number >= 1, got ${shown(v)}`);
  }
  const seed: unknown = argv.seed;
  if (!(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new UsageError(`--seed: expected a whole number from 0 to 4294967295, got ${shown(seed)}`);
  const types = SUPPORTED_TYPES.map(ggmlTypeName).join(', ');
  if (typeof argv.type !== 'string') throw new UsageError(`--type: expected one of ${types}, got ${shown(argv.type)}`);
  const type = ggmlTypeByName(argv.type);
  if (type === undefined || !SUPPORTED_TYPES.includes(type)) throw new UsageError(`--type ${argv.type}: expected one of ${types}`);
  return {
    layers: argv.layers, embd: argv.embd, heads: argv.heads, kvHeads: argv.kvHeads, ff: argv.ff,
    vocab: argv.vocab, ctx: argv.ctx, type, tied: Boolean(argv.tied), seed,
  };
}

function shown(v: unknown): string {
  return Array.isArray(v) ? `${v.length} values (give it once)` : typeof v === 'number' && Number.isNaN(v) ? 'not a number' : JSON.stringify(v);
}
