import type { CommandModule } from 'yargs';
import { writeFile } from 'node:fs/promises';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { ggmlTypeByName, ggmlTypeName, SUPPORTED_TYPES } from '../../runtime/gguf.ts';
import { UsageError } from '../report.ts';

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
    const type = ggmlTypeByName(argv.type);
    if (type === undefined || !SUPPORTED_TYPES.includes(type)) {
      throw new UsageError(`--type ${argv.type}: expected one of ${SUPPORTED_TYPES.map(ggmlTypeName).join(', ')}`);
    }
    const bytes = synthLlama({
      layers: argv.layers, embd: argv.embd, heads: argv.heads, kvHeads: argv.kvHeads, ff: argv.ff,
      vocab: argv.vocab, ctx: argv.ctx, type, tied: argv.tied, seed: argv.seed,
    });
    await writeFile(argv.out, bytes);
    console.log(`wrote ${argv.out}: ${bytes.length.toLocaleString('en-US')} bytes; layers ${argv.layers}, embd ${argv.embd}, ${ggmlTypeName(type)}${argv.tied ? ', tied head' : ''}, seed ${argv.seed}`);
  },
};
