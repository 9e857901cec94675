// Byte-level BPE models first cut text into words with a list of regexes applied one after another:
// each regex splits every piece so far into its matches and the stretches between them. These are
// the lists llama.cpp uses for each tokenizer.ggml.pre, written as JavaScript RegExps.
//
// llama.cpp matches with std::regex, which knows \s only as ASCII whitespace, after turning every
// other Unicode White_Space character into \v. splitWords does the same, and S below is that \s.
import { TokenizerError } from './vocab.ts';

const S = '\\t-\\r ';
const L = '\\p{L}', N = '\\p{N}', P = '\\p{P}';

// GPT-2's split: contractions, letters, digits, other symbols (each with one optional leading space), whitespace.
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?${L}+| ?${N}+| ?[^${S}${L}${N}]+|[${S}]+(?![^${S}])|[${S}]+`;
// Llama 3's: as GPT-2, but contractions in either case, numbers by threes and newlines kept apart.
const LLAMA3 = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n${L}${N}]?${L}+|${N}{1,3}` +
  `| ?[^${S}${L}${N}]+[\\r\\n]*|[${S}]*[\\r\\n]+|[${S}]+(?![^${S}])|[${S}]+`;
// DeepSeek's cased letters and punctuation, and the CJK / Hangul run, as their tokenizer.json gives them.
const DEEPSEEK_LETTERS = '[A-Za-z\\u{B5}\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{1BA}\\u{1BC}-\\u{1BF}\\u{1C4}-\\u{293}' +
  '\\u{295}-\\u{2AF}\\u{370}-\\u{373}\\u{376}\\u{377}\\u{37B}-\\u{37D}\\u{37F}\\u{386}\\u{388}-\\u{38A}\\u{38C}\\u{38E}-\\u{3A1}' +
  '\\u{3A3}-\\u{3F5}\\u{3F7}-\\u{481}\\u{48A}-\\u{52F}\\u{531}-\\u{556}\\u{10A0}-\\u{10C5}\\u{13A0}-\\u{13F5}\\u{13F8}-\\u{13FD}' +
  '\\u{1C90}-\\u{1CBA}\\u{1CBD}-\\u{1CBF}\\u{1D00}-\\u{1D2B}\\u{1D6B}-\\u{1D77}\\u{1D79}-\\u{1D9A}\\u{1E00}-\\u{1F15}' +
  '\\u{1F18}-\\u{1F1D}\\u{1F20}-\\u{1F45}\\u{1F48}-\\u{1F4D}\\u{1F50}-\\u{1F57}\\u{1F59}\\u{1F5B}\\u{1F5D}\\u{1F5F}-\\u{1F7D}' +
  '\\u{1F80}-\\u{1FB4}\\u{1FB6}-\\u{1FBC}\\u{1FBE}\\u{1FC2}-\\u{1FC4}\\u{1FC6}-\\u{1FCC}\\u{1FD0}-\\u{1FD3}\\u{1FD6}-\\u{1FDB}' +
  '\\u{1FE0}-\\u{1FEC}\\u{1FF2}-\\u{1FF4}\\u{1FF6}-\\u{1FFC}\\u{2102}\\u{2107}\\u{210A}-\\u{2113}\\u{2115}\\u{2119}-\\u{211D}' +
  '\\u{2124}\\u{2126}\\u{2128}\\u{212A}-\\u{212D}\\u{212F}-\\u{2134}\\u{2139}\\u{213C}-\\u{213F}\\u{2145}-\\u{2149}\\u{214E}' +
  '\\u{2183}\\u{2184}\\u{2C00}-\\u{2C7B}\\u{2C7E}-\\u{2CE4}\\u{2CEB}-\\u{2CEE}\\u{2CF2}\\u{2CF3}\\u{A640}-\\u{A66D}' +
  '\\u{A680}-\\u{A69B}\\u{A722}-\\u{A76F}\\u{A771}-\\u{A787}\\u{A78B}-\\u{A78E}\\u{AB70}-\\u{ABBF}\\u{FB00}-\\u{FB06}' +
  '\\u{FB13}-\\u{FB17}\\u{FF21}-\\u{FF3A}\\u{FF41}-\\u{FF5A}\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}' +
  '\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}]';
const DEEPSEEK_PUNCT = '[!-/:-~\\u{FF01}-\\u{FF0F}\\u{FF1A}-\\u{FF5E}\\u{2018}-\\u{201F}\\u{3000}-\\u{3002}]';
const CJK = '[\\u{4E00}-\\u{9FA5}\\u{800}-\\u{4E00}\\u{AC00}-\\u{D7FF}]+';

export interface PreTokenizer {
  name: string;
  regexes: RegExp[];
  /** A word that is itself a token skips the merges (Llama 3). */
  ignoreMerges: boolean;
  /** decode() tidies " ," into "," and the like (llama.cpp's clean_spaces). */
  cleanSpaces: boolean;
  /** llama.cpp's add_bos default for this pre-tokenizer. */
  addBos: boolean;
}

const PRE: Record<string, { patterns: string[]; ignoreMerges?: true; cleanSpaces?: false; addBos?: true }> = {
  default: { patterns: [`[${P}$+<=>^~|]+`, GPT2, `${N}+`, '[0-9][0-9][0-9]'] },
  'gpt-2': { patterns: [GPT2] },
  llama3: { patterns: [LLAMA3], ignoreMerges: true, addBos: true },
  'deepseek-llm': {
    patterns: ['[\\r\\n]', `[${S}]?${DEEPSEEK_LETTERS}+`, `[${S}]?${DEEPSEEK_PUNCT}+`, `[${S}]+$`, CJK, `${N}+`],
    cleanSpaces: false,
  },
  'deepseek-coder': { patterns: ['[\\r\\n]', `[${S}]?${L}+`, `[${S}]?${P}+`, CJK, N], cleanSpaces: false },
};
const ALIASES: Record<string, string> = { 'llama-v3': 'llama3', 'llama-bpe': 'llama3', gpt2: 'gpt-2', 'phi-2': 'gpt-2' };

/** The pre-tokenizer llama.cpp uses for a tokenizer.ggml.pre value (a missing one means "default"). */
export function preTokenizer(pre: string | undefined, where: string): PreTokenizer {
  const name = ALIASES[pre ?? 'default'] ?? pre ?? 'default';
  const p = PRE[name];
  if (!p) {
    const known = [...Object.keys(PRE), ...Object.keys(ALIASES)].sort().join(', ');
    throw new TokenizerError(`${where}: tokenizer.ggml.pre = '${pre}' is a pre-tokenizer tlc does not know (it knows ${known}).`);
  }
  return {
    name,
    regexes: p.patterns.map((s) => new RegExp(s, 'gu')),
    ignoreMerges: p.ignoreMerges ?? false,
    cleanSpaces: p.cleanSpaces ?? true,
    addBos: p.addBos ?? false,
  };
}

// Unicode White_Space outside ASCII; std::regex sees each of them as \v.
const WIDE_SPACE = /[\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/g;

/** The words of `text`: every regex splits each piece so far into matches and the text between them. */
export function splitWords(text: string, regexes: readonly RegExp[]): string[] {
  // Every White_Space character is one UTF-16 unit, so offsets in `seen` are offsets in `text`.
  const seen = text.replace(WIDE_SPACE, '\v');
  let spans: [number, number][] = [[0, text.length]];
  for (const re of regexes) {
    const next: [number, number][] = [];
    for (const [from, to] of spans) {
      let at = from;
      for (const m of seen.slice(from, to).matchAll(re)) {
        if (m[0].length === 0) continue;
        const s = from + m.index!, e = s + m[0].length;
        if (s > at) next.push([at, s]);
        next.push([s, e]);
        at = e;
      }
      if (at < to) next.push([at, to]);
    }
    spans = next;
  }
  return spans.map(([s, e]) => text.slice(s, e));
}
