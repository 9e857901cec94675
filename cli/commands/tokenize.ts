// `tlc tokenize`: a model's tokenizer on the command line, to compare with llama.cpp's llama-tokenize.
import { readFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { openGguf } from '../../runtime/node/gguf.ts';
import { TlcError } from '../../runtime/errors.ts';
import { tokenizerFromGguf, tokenizerFromHfJson, type Tokenizer } from '../../runtime/tokenizer/index.ts';
import { UsageError } from '../report.ts';
import { errnoWords, requireFile } from '../files.ts';
import { isHubRef, modelFromHub } from '../hub.ts';

interface Args {
  model: string;
  text?: string;
  decode?: string;
  special: boolean;
  bos?: boolean;
}

export const tokenizeCommand: CommandModule<{}, Args> = {
  command: 'tokenize',
  describe: "Turn text into a model's token ids (as llama.cpp does), or ids back into text",
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'A .gguf model, or a Hugging Face tokenizer.json' })
      .option('text', { type: 'string', describe: 'Text to tokenize; prints the ids as JSON' })
      .option('decode', { type: 'string', describe: 'Comma-separated token ids to turn back into text' })
      .option('special', { type: 'boolean', default: false, describe: 'Read special tokens such as </s> in the text as tokens' })
      .option('bos', { type: 'boolean', describe: "Prepend BOS (default: the model's setting); --no-bos leaves it out" })
      .conflicts('text', 'decode')
      .check((argv) => {
        if (argv.text === undefined && argv.decode === undefined) throw new UsageError('Give --text "..." to tokenize or --decode 1,2,3 to detokenize.');
        if (argv.decode !== undefined && String(argv.decode).trim() === '') throw new UsageError('--decode: expected comma-separated token ids, like --decode 1,2,3; got nothing.');
        return true;
      })
      .example('$0 tokenize --model stories260K.gguf --text "Once upon a time"', '[1,403,407,261,378]')
      .example('$0 tokenize --model stories260K.gguf --decode 403,407,261,378', 'Once upon a time'),
  handler: async (argv) => {
    const tokenizer = await loadTokenizer(isHubRef(argv.model) ? await modelFromHub(argv.model) : argv.model);
    if (argv.text !== undefined) {
      console.log(JSON.stringify(tokenizer.encode(argv.text, { addBos: argv.bos, parseSpecial: argv.special })));
    } else {
      console.log(tokenizer.decode(parseIds(String(argv.decode), tokenizer.nVocab)));
    }
  },
};

async function loadTokenizer(path: string): Promise<Tokenizer> {
  if (typeof path !== 'string' || path === '') throw new UsageError('--model: expected a .gguf model or a tokenizer.json, got ""');
  requireFile(path, path.endsWith('.json') ? 'the tokenizer file' : 'the model'); // a directory or a FIFO: an error, not a hang
  if (path.endsWith('.json')) {
    const text = await readFile(path, 'utf8').catch((e) => {
      throw new TlcError(`${path}: cannot read the tokenizer file: ${errnoWords(e)}.`);
    });
    return tokenizerFromHfJson(text);
  }
  const file = await openGguf(path);
  try {
    return tokenizerFromGguf(file.metadata, path);
  } finally {
    await file.source.close?.();
  }
}

function parseIds(list: string, nVocab: number): number[] {
  if (list.trim() === '') throw new UsageError('--decode: expected comma-separated token ids, like --decode 1,2,3; got nothing.');
  return list.split(',').map((s) => {
    const id = /^\s*\d+\s*$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(id) || id < 0 || id >= nVocab) {
      throw new UsageError(`--decode: '${s.trim()}' is not a token id of this model (0..${nVocab - 1}).`);
    }
    return id;
  });
}
