// A Hugging Face tokenizer.json, run by the maintained @huggingface/tokenizers package.
// Its added tokens (special ones included) are always matched in the text, so parseSpecial has no
// effect here, and addEos is whatever the tokenizer's post-processor does.
import { TokenizerError } from './vocab.ts';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './types.ts';

type Json = Record<string, unknown>;

/**
 * The tokenizer of a tokenizer.json (text or parsed), with the model's tokenizer_config.json if
 * there is one: it names the BOS/EOS/UNK tokens and decode's clean-up of spaces.
 */
export async function tokenizerFromHfJson(json: string | object, config: string | object = {}): Promise<Tokenizer> {
  const { Tokenizer: HfTokenizer } = await import('@huggingface/tokenizers');
  const spec = parse(json, 'tokenizer.json');
  const conf = parse(config, 'tokenizer_config.json');
  let hf: InstanceType<typeof HfTokenizer>;
  try {
    hf = new HfTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...spec }, conf);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json: ${(e as Error).message}`);
  }

  const idOf = (token: unknown): number => {
    const text = typeof token === 'string' ? token : (token as Json | null)?.content;
    return typeof text === 'string' ? (hf.token_to_id(text) ?? -1) : -1;
  };
  // Without a tokenizer_config.json, the usual names of the special tokens (Llama's <s> and </s>, ...).
  const special = (names: string[]) => names.map(idOf).find((id) => id >= 0) ?? -1;
  const bos = conf.bos_token !== undefined ? idOf(conf.bos_token) : special(BOS_NAMES);
  const eos = conf.eos_token !== undefined ? idOf(conf.eos_token) : special(EOS_NAMES);
  const unk = idOf(conf.unk_token ?? '<unk>');
  // Whether the post-processor adds BOS (or the config says to).
  const addBos = typeof conf.add_bos_token === 'boolean'
    ? conf.add_bos_token
    : bos >= 0 && hf.encode('a', { add_special_tokens: true }).ids[0] === bos;

  let nVocab = 0;
  for (const id of hf.get_vocab(true).values()) nVocab = Math.max(nVocab, id + 1);

  return {
    kind: 'hf',
    nVocab,
    bos,
    eos,
    unk: unk >= 0 ? unk : undefined,
    addBos,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      return hf.encode(text, { add_special_tokens: opts.addBos ?? addBos }).ids;
    },
    decode(ids: readonly number[], opts: DecodeOptions = {}): string {
      return ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? false });
    },
    decodePiece(id: number): string {
      return hf.decode([id]);
    },
    isEog(id: number): boolean {
      return id === eos;
    },
  };
}

const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<|startoftext|>', '<bos>'];
const EOS_NAMES = ['</s>', '<|end_of_text|>', '<|endoftext|>', '<eos>'];

function parse(v: string | object, name: string): Json {
  if (typeof v !== 'string') return v as Json;
  try {
    return JSON.parse(v) as Json;
  } catch (e) {
    throw new TokenizerError(`${name}: not valid JSON (${(e as Error).message}).`);
  }
}
