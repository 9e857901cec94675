// `tlc pull REF`: a model on the hub into the cache, ahead of the run that needs it.
import type { CommandModule } from 'yargs';
import { statSync } from 'node:fs';
import { cachedFor } from '../cache.ts';
import { modelFromHub, QUANT_OPTION, withQuant } from '../hub.ts';
import { formatBytes } from '../progress.ts';
import { hasQuant, isHubRef, parseHubRef } from '../../runtime/hub-ref.ts';
import { UsageError } from '../report.ts';

export const pullCommand: CommandModule<{}, { ref: string; quant?: string }> = {
  command: 'pull <ref>',
  describe: 'Download a model from the Hugging Face hub into the model cache (hf:OWNER/REPO/FILE.gguf)',
  builder: (y) =>
    y.positional('ref', { type: 'string', demandOption: true, describe: 'hf:OWNER/REPO/FILE.gguf, or hf:OWNER/REPO with --quant' })
      .option('quant', QUANT_OPTION)
      .example('$0 pull hf:ggml-org/models-moved/tinyllamas/stories260K.gguf', 'then `tlc run examples/chat.tl --model` the same reference')
      .epilog('The cache is $TLC_CACHE, else $XDG_CACHE_HOME/tlc, else ~/.cache/tlc. The hub is $HF_ENDPOINT (default https://huggingface.co); $HF_TOKEN opens gated repositories.'),
  handler: async (argv) => {
    if (!isHubRef(argv.ref)) throw new UsageError(`pull: ${argv.ref || '""'} is not a model reference; give hf:OWNER/REPO/FILE.gguf.`);
    const ref = withQuant(argv.ref, argv.quant)!;
    const had = cachedFor(parseHubRef(ref), hasQuant).length === 1;
    const file = await modelFromHub(ref);
    console.log(`${file} (${formatBytes(statSync(file).size)})${had ? ', already in the cache' : ''}`);
  },
};
