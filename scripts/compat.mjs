#!/usr/bin/env node
// Runs the LLM-inference programs of the original TensorLogic repository through tlc and writes
// docs/compatibility.md: which programs tlc runs, which fail and why.
//
//   node scripts/compat.mjs PATH_TO_ORIGINAL_CHECKOUT [--quick] [--only SUBSTRING] [--timeout SECONDS]
//                                                     [--out FILE] [--dry-run] [--absolute-paths]
//
// PATH_TO_ORIGINAL_CHECKOUT is a work tree of https://github.com/JunSuzukiJapan/tensorlogic (for example
// `git archive HEAD | tar -x -C DIR` of a clone). The script:
//  1. finds every .tl program under its examples/ and debug/ folders;
//  2. classifies each: an LLM-inference program (it loads a model or a tokenizer: load_model*,
//     get_tensor, load_tokenizer, tokenize, model.blk...) or not; inference programs that also train
//     (learn, learnable, optimizers, backward, grad), call Python or write files are excluded, and
//     programs that are not inference programs are listed but not run (the whole-language work);
//  3. writes, once, a TinyLlama-shaped synthetic model with random weights (`tlc synth`: 22 layers,
//     embd 2048, 32 heads, 4 KV heads, ff 5632, vocab 32000, Q4_0, untied output.weight; --quick uses
//     ff 256), cached in $TMPDIR/tlc-compat/ under a name made of its parameters;
//  4. writes a Llama-2 tokenizer.json, built from llama.cpp's ggml-vocab-llama-spm.gguf in
//     ../shared/models/vocab (TLC_SHARED_MODELS overrides ../shared/models) the way Hugging Face
//     converts a SentencePiece model (the npm packages that ship a "llama2" tokenizer.json ship
//     Mistral-7B's vocabulary);
//  5. makes a temporary HOME where the programs look for their files (env("HOME") + "/.llm/..."):
//     every HOME-relative .gguf path the programs name links to the synthetic model, every .json to
//     the tokenizer; with --absolute-paths, absolute paths the programs name (/Users/NAME/.llm/...)
//     are linked too while the programs run, and removed afterwards (it writes outside the checkout:
//     run it on a machine of your own, as a user who may create those folders);
//  6. runs each remaining program with `node bin/tlc.js run PROGRAM.tl` (working directory: the
//     checkout, stdin empty, one at a time) and records exit code, first `error:` line, wall time;
//  7. writes docs/compatibility.md (or --out), sorted by path. With --only it prints the results and
//     writes no file unless --out is given. Logs of every run go to $TMPDIR/tlc-compat/logs-MODE/.
//
// --dry-run classifies and writes the table without preparing a model or running anything.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TLC = path.join(ROOT, 'bin', 'tlc.js');
const CACHE = path.join(process.env.TMPDIR || os.tmpdir(), 'tlc-compat');
const SHARED_MODELS = process.env.TLC_SHARED_MODELS ?? path.resolve(ROOT, '../shared/models');
const VOCAB_GGUF = path.join(SHARED_MODELS, 'vocab', 'ggml-vocab-llama-spm.gguf');
const NOT_INFERENCE = 'not an LLM inference program (left for the whole-language issue)';

// ---- options ---------------------------------------------------------------------------------

function usage(msg) {
  if (msg) console.error(`compat: ${msg}`);
  console.error('usage: node scripts/compat.mjs PATH_TO_ORIGINAL_CHECKOUT [--quick] [--only SUBSTRING] [--timeout SECONDS] [--out FILE] [--dry-run] [--absolute-paths]');
  process.exit(2);
}

function parseOptions(argv) {
  const o = { checkout: undefined, quick: false, only: undefined, timeout: 600, out: undefined, dryRun: false, absolute: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--quick') o.quick = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--absolute-paths') o.absolute = true;
    else if (a === '--only') o.only = value();
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--timeout') {
      o.timeout = Number(value());
      if (!(o.timeout > 0)) usage('--timeout expects a number of seconds');
    } else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (o.checkout === undefined) o.checkout = path.resolve(a);
    else usage(`unexpected argument ${a}`);
  }
  if (!o.checkout) usage('give the path of a checkout of the original TensorLogic repository');
  if (!fs.existsSync(path.join(o.checkout, 'examples'))) usage(`${o.checkout} has no examples/ folder`);
  if (o.only === undefined && o.out === undefined) o.out = path.join(ROOT, 'docs', 'compatibility.md');
  return o;
}

// ---- finding and classifying programs -----------------------------------------------------------

/** Paths (relative, with `/`) of every .tl file under examples/ and debug/, sorted. */
function findPrograms(checkout) {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(checkout, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile() && e.name.endsWith('.tl')) found.push(rel);
    }
  };
  for (const top of ['examples', 'debug']) if (fs.existsSync(path.join(checkout, top))) walk(top);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The source with comments and the insides of strings blanked (same length, same lines), so that
 * keywords in comments or in printed text do not count; and the string literals, with their offsets.
 */
function lex(src) {
  let code = '';
  const strings = [];
  let i = 0;
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  while (i < src.length) {
    if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      const j = end < 0 ? src.length : end;
      code += blank(src.slice(i, j));
      i = j;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      const j = end < 0 ? src.length : end + 2;
      code += blank(src.slice(i, j));
      i = j;
    } else if (src[i] === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      strings.push({ value: src.slice(i + 1, j), at: i });
      code += `"${blank(src.slice(i + 1, j))}"`;
      i = j + 1;
    } else {
      code += src[i++];
    }
  }
  return { code: code.slice(0, src.length), strings };
}

// What makes a program an LLM-inference program.
const LLM = [
  [/\bload_model(?:_f16|_f32)?\s*\(/, 'load_model'],
  [/\bload_weight_cache_\w+\s*\(/, 'a GGUF weight cache'],
  [/\bget_tensor\s*\(/, 'get_tensor'],
  [/\bload_tokenizer\s*\(/, 'load_tokenizer'],
  [/\b(?:de)?tokenize\s*\(/, 'tokenize'],
  [/\.\s*blk\s*[[.]/, 'model.blk'],
];
// Out of scope for an inference program: [pattern, group, feature].
const OUT_OF_SCOPE = [
  [/\blearn\s*\{/, 'training', 'a learn block'],
  [/\blearnable\b/, 'training', 'learnable tensors'],
  [/\boptimizer\s*:|\b(?:sgd|adam|adamw|rmsprop)\s*\(/, 'training', 'an optimizer'],
  [/\bbackward\s*\(/, 'training', 'backward()'],
  [/\bgrad\s*\(/, 'training', 'grad()'],
  [/\bpython\s+import\b|\bpython\s*\./, 'Python', 'a python import'],
  [/\b(?:save|save_\w+|\w+_save_\w+|write_file|write_to_file)\s*\(/, 'file output', 'writing a file'],
];
// Other things only a whole-language compiler handles (the reason shown for non-inference programs).
const OTHER_FEATURES = [
  [/^\s*import\s+"/m, 'an import'],
  [/\brelation\s+\w+\s*\(/, 'a relation declaration'],
  [/^\s*\w+\s*\([^()\n]*\)\s*<-/m, 'a rule'],
  [/^\s*\w+\s*\([^()\n]*\)\s*\?/m, 'a query'],
  [/\binfer\b\s*(?:\{|forward|backward|gradient|symbolic)/, 'an infer block'],
  [/\bentity\s+\w+/, 'an entity declaration'],
  [/\b(?:relation_)?embedding\s+\w+\s*\{/, 'an embedding declaration'],
];

const lineOf = (src, at) => src.slice(0, at).split('\n').length;

/** The first match (by position) of any pattern in `table`, or undefined. */
function firstMatch(code, table) {
  let best;
  for (const [re, ...info] of table) {
    const m = re.exec(code);
    if (m && (!best || m.index < best.at)) best = { at: m.index, info };
  }
  return best;
}

/** Kind, exclusion and the model/tokenizer paths of one program. */
function classify(src) {
  const { code, strings } = lex(src);
  const llm = firstMatch(code, LLM);
  const scope = firstMatch(code, OUT_OF_SCOPE);
  if (!llm) {
    const other = firstMatch(code, [...OUT_OF_SCOPE.map(([re, , f]) => [re, f]), ...OTHER_FEATURES]);
    const why = other ? `${other.info[0]} (line ${lineOf(src, other.at)})` : 'tensor and host code without a model';
    return { kind: 'other', reason: `${NOT_INFERENCE}; first non-LLM feature: ${why}` };
  }
  // File paths: `home + "/.llm/x.gguf"` is HOME-relative; "/Users/..." absolute; "~/..." not expanded.
  const paths = [];
  for (const s of strings) {
    if (!/\.(gguf|json)$/.test(s.value)) continue;
    const concatenated = /\+\s*$/.test(code.slice(0, s.at));
    const where = s.value.startsWith('~') ? 'tilde' : !s.value.startsWith('/') ? 'relative' : concatenated ? 'home' : 'absolute';
    paths.push({ where, path: s.value });
  }
  // The original runs `test NAME { ... }` and `bench NAME { ... }` blocks only with `run --test` or
  // `run --bench`; `tlc run` runs main (or top-level code).
  const testOnly = !/^\s*main\s*\{/m.test(code) && /^\s*(?:test|bench)\s+\w+\s*\{/m.test(code);
  const result = { kind: 'inference', paths, testOnly };
  if (scope) result.excluded = `uses ${scope.info[0]}: ${scope.info[1]} (line ${lineOf(src, scope.at)})`;
  return result;
}

// ---- the model, the tokenizer and the HOME --------------------------------------------------------

function tlc(args, opts = {}) {
  const r = spawnSync(process.execPath, [TLC, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`tlc ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The synthetic TinyLlama-shaped model: written once per parameter set, then reused. */
function prepareModel(quick) {
  const p = { layers: 22, embd: 2048, heads: 32, 'kv-heads': 4, ff: quick ? 256 : 5632, vocab: 32000, ctx: 2048, type: 'Q4_0', seed: 1 };
  const name = `tinyllama-synth-L${p.layers}-E${p.embd}-H${p.heads}-KV${p['kv-heads']}-FF${p.ff}-V${p.vocab}-C${p.ctx}-${p.type}-S${p.seed}.gguf`;
  const file = path.join(CACHE, name);
  if (!fs.existsSync(file)) {
    console.log(`compat: writing ${file} (once; this takes a while)`);
    const tmp = `${file}.partial`;
    tlc(['synth', tmp, ...Object.entries(p).flatMap(([k, v]) => [`--${k}`, String(v)])], { stdio: ['ignore', 'pipe', 'inherit'] });
    fs.renameSync(tmp, file);
  }
  const info = JSON.parse(tlc(['inspect', file, '--json']));
  const h = info.hparams;
  const problems = [];
  if (h.n_layer !== p.layers || h.n_embd !== p.embd || h.n_ff !== p.ff || h.n_head !== p.heads || h.n_head_kv !== p['kv-heads']) problems.push('wrong shape');
  if (h.n_vocab !== p.vocab || info.tokenizer?.tokens !== p.vocab) problems.push(`vocab ${h.n_vocab}, ${info.tokenizer?.tokens} tokenizer tokens`);
  if (h.tied_output) problems.push('tied output (no output.weight)');
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}; delete it and run again`);
  return { file, params: p };
}

/**
 * A Llama-2 tokenizer.json from llama.cpp's SentencePiece vocabulary (tokens and scores), the way
 * Hugging Face's LlamaConverter writes one: a BPE model with byte fallback whose merges are every
 * split of a vocabulary piece into two pieces, by descending score of the piece.
 */
async function llamaTokenizerJson(vocabGguf) {
  const { gguf } = await import('@huggingface/gguf');
  const { metadata } = await gguf(vocabGguf, { allowLocalFile: true });
  const tokens = metadata['tokenizer.ggml.tokens'], scores = metadata['tokenizer.ggml.scores'];
  const vocab = Object.fromEntries(tokens.map((t, id) => [t, id]));
  const merges = [];
  tokens.forEach((piece, id) => {
    const chars = Array.from(piece), local = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join(''), r = chars.slice(k).join('');
      if (l in vocab && r in vocab) local.push([l, r, scores[id]]);
    }
    local.sort((a, b) => vocab[a[0]] - vocab[b[0]] || vocab[a[1]] - vocab[b[1]]);
    merges.push(...local);
  });
  merges.sort((a, b) => b[2] - a[2]); // stable: ties keep the vocabulary order
  const special = (id) => ({ id, content: tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0), special(1), special(2)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
}

/** The tokenizer.json the programs load, and a line saying where it came from. */
async function prepareTokenizer() {
  if (fs.existsSync(VOCAB_GGUF)) {
    const file = path.join(CACHE, `llama2-tokenizer-${hashOf(VOCAB_GGUF)}.json`);
    if (!fs.existsSync(file)) {
      const tmp = file.replace(/\.json$/, '.partial.json');
      fs.writeFileSync(tmp, JSON.stringify(await llamaTokenizerJson(VOCAB_GGUF)));
      // Check it as tlc reads it: "Hello world" is ▁Hello ▁world in Llama-2's vocabulary.
      const ids = tlc(['tokenize', '--model', tmp, '--text', 'Hello world', '--no-bos']).trim();
      if (ids !== '[15043,3186]') throw new Error(`the tokenizer.json built from ${VOCAB_GGUF} gives ${ids} for "Hello world", not [15043,3186]`);
      fs.renameSync(tmp, file);
    }
    return { file, from: "Llama-2's vocabulary (llama.cpp's ggml-vocab-llama-spm.gguf), converted to a tokenizer.json" };
  }
  throw new Error(`${VOCAB_GGUF} is absent: the Llama-2 tokenizer.json is built from it (see ../shared/models/SOURCES.md)`);
}

function hashOf(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12);
}

/** $CACHE/home-MODE with .llm/... links for every HOME-relative path; the rest of HOME (caches) stays. */
function prepareHome(mode, model, tokenizer, wanted) {
  const home = path.join(CACHE, `home-${mode}`);
  fs.rmSync(path.join(home, '.llm'), { recursive: true, force: true });
  for (const rel of wanted) {
    const dest = path.join(home, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.symlinkSync(rel.endsWith('.gguf') ? model : tokenizer, dest);
  }
  return home;
}

/**
 * Links absolute paths the programs name to the model or the tokenizer; returns a function that
 * removes what it made (links, then the folders it created, deepest first).
 */
function linkAbsolute(paths, model, tokenizer) {
  const links = [], dirs = [];
  for (const p of paths) {
    if (fs.existsSync(p)) continue;
    for (let d = path.dirname(p); !fs.existsSync(d); d = path.dirname(d)) dirs.push(d);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync(p.endsWith('.gguf') ? model : tokenizer, p);
    links.push(p);
  }
  return () => {
    for (const p of links) fs.rmSync(p, { force: true });
    for (const d of dirs.sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(d);
      } catch { /* no longer empty: something else was put there */ }
    }
    links.length = dirs.length = 0;
  };
}

// ---- running -------------------------------------------------------------------------------------

const MAX_LOG = 4 << 20; // keep at most this much output per program

/** Runs one program; resolves with its exit code (null on timeout), output and wall time. */
function runProgram(checkout, rel, home, timeoutS) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [TLC, 'run', path.join(checkout, rel)], {
      cwd: checkout,
      env: { ...process.env, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout ends tlc and anything it started
    });
    let out = '', err = '', timedOut = false;
    const keep = (s, d) => (s.length < MAX_LOG ? s + d : s);
    child.stdout.on('data', (d) => (out = keep(out, d.toString())));
    child.stderr.on('data', (d) => (err = keep(err, d.toString())));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code ?? signal, timedOut, out, err, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/**
 * The first `error:` line of tlc's output, else its first located diagnostic (`FILE.tl:L:C: ...`),
 * else the last meaningful line of stderr (of stdout when stderr has none); a location becomes "line L".
 */
function errorLine(err, out) {
  const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
  const noise = /^Warning: |^\(set TLC_DEBUG|^tlc: (no model given|running the demo model)/;
  const all = [...lines(err), ...lines(out)];
  const line = all.find((l) => /\berror:/.test(l)) ?? all.find((l) => /^\S+\.tl:\d+:\d+: /.test(l)) ??
    lines(err).filter((l) => !noise.test(l)).at(-1) ?? lines(out).at(-1) ?? 'no message';
  const m = /^\S+\.tl:(\d+):\d+: (.*)$/.exec(line);
  return m ? `line ${m[1]}: ${m[2]}` : line;
}

/**
 * Failures the original interpreter has too, from reading its source: its matmul needs
 * [m, k] @ [k, n] and it stores GGUF weights reversed, as [out, in], like tlc, so
 * `matmul(x, W_k)` of a non-square weight is refused there as well.
 */
function ownFault(error) {
  if (/einsum "ij,jk->ik": index j is \d+ in one operand and \d+/.test(error)) {
    return "the program's own error: the original's matmul refuses [m, k] @ [n, k] too (GGUF weights are [out, in]; use linear)";
  }
  return undefined;
}

/** Notes on a finished run: the demo model, generated tokens, how much it printed. */
function runNotes(r) {
  const notes = [];
  const demo = /tlc: no model given \(--model\) and (.*?); using a small synthetic demo model/.exec(r.err);
  if (demo) notes.push(`ran on tlc's random demo model (${demo[1]})`);
  const gen = /\[(\d+) prompt tokens, (\d+) generated, stopped by (\w+)/.exec(r.err);
  if (gen) notes.push(`generated ${gen[2]} tokens after a ${gen[1]}-token prompt`);
  const lines = r.out.split('\n').filter((l) => l.trim()).length;
  const tagged = r.out.split('\n').filter((l) => l.startsWith('[OUTPUT]')).length;
  if (r.code === 0) notes.push(`printed ${lines} line${lines === 1 ? '' : 's'}${tagged ? `, ${tagged} [OUTPUT]` : ''}`);
  return notes;
}

/** A failure reason with the program-specific parts (shapes, paths, numbers, strings) collapsed, for grouping. */
function reasonGroup(reason) {
  return reason
    .replace(/^line \d+: /, '')
    .replace(/^error: /, '')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/\/[^\s']+/g, 'PATH')
    .replace(/\b\d+(\.\d+)?\b/g, 'N')
    .replace(/"[^"]*"/g, '"…"');
}

// ---- the report ------------------------------------------------------------------------------------

const cell = (s) => String(s).replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 300);

function gitDescribe(dir) {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const dirty = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim();
  return `${r.stdout.trim()}${dirty ? ' with uncommitted changes' : ''}`;
}

function report(o, rows, setup) {
  const count = (f) => rows.filter(f).length;
  const inference = count((r) => r.kind === 'inference');
  const excluded = count((r) => r.kind === 'inference' && r.verdict === 'excluded');
  const runs = count((r) => r.verdict === 'runs'), fails = count((r) => r.verdict === 'fails'), timeouts = count((r) => r.verdict === 'timeout');
  const demo = count((r) => r.verdict === 'runs' && /demo model/.test(r.reason));
  const testOnly = count((r) => r.verdict === 'runs' && r.testOnly);
  const groups = new Map();
  for (const r of rows) if (r.verdict === 'fails' || r.verdict === 'timeout') {
    const g = r.verdict === 'timeout' ? `timeout (over ${o.timeout} s)` : reasonGroup(r.error);
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  const grouped = [...groups].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const tlcCommit = gitDescribe(ROOT), origCommit = gitDescribe(o.checkout);
  const cmd = `node scripts/compat.mjs PATH_TO_TENSORLOGIC_CHECKOUT${o.quick ? ' --quick' : ''}${o.absolute ? ' --absolute-paths' : ''}${o.timeout !== 600 ? ` --timeout ${o.timeout}` : ''}${o.only ? ` --only ${o.only}` : ''}`;
  const L = [];
  L.push('# Compatibility with the original TensorLogic programs', '');
  L.push(
    `Every \`.tl\` program under \`examples/\` and \`debug/\` of the original [TensorLogic](https://github.com/JunSuzukiJapan/tensorlogic) ` +
      `repository${origCommit ? ` (commit ${origCommit})` : ''}, classified, and each LLM-inference program run with ` +
      `\`tlc run PROGRAM.tl\`${tlcCommit ? ` (tlc at ${tlcCommit})` : ''}, one at a time, from the checkout's root, with a ` +
      `${o.timeout} s limit. Programs that are not LLM-inference programs, and inference programs that train, call Python or ` +
      'write files, are listed but not run.',
    '',
  );
  if (setup) {
    const p = setup.model.params;
    L.push(
      `The model is a synthetic TinyLlama-shaped GGUF with random weights (\`tlc synth --layers ${p.layers} --embd ${p.embd} ` +
        `--heads ${p.heads} --kv-heads ${p['kv-heads']} --ff ${p.ff} --vocab ${p.vocab} --ctx ${p.ctx} --type ${p.type}\`, untied ` +
        `\`output.weight\`${o.quick ? '; `--quick` makes the feed-forward width 256 instead of 5632' : ''}), so generated text is noise: ` +
        '"runs" means the program compiled and ran to the end, not that its output is right. ' +
        `The tokenizer is ${setup.tokenizer.from}. HOME is a temporary folder where every HOME-relative path the programs name ` +
        `exists: ${setup.homePaths.map((x) => `\`~/${x}\``).join(', ')} (the .gguf names, f16 ones included, all point to the one ` +
        'Q4_0 model).' +
        (setup.absolute.length ? ` With --absolute-paths, these absolute paths were linked too while the programs ran: ${setup.absolute.map((x) => `\`${x}\``).join(', ')}.` : '') +
        (setup.otherPaths.length
          ? ` Paths that are not HOME-relative are not provided: ${setup.otherPaths.map(([x, n]) => `\`${x}\` (${n} program${n === 1 ? '' : 's'})`).join(', ')}.`
          : ''),
      '',
    );
  } else {
    L.push('This is a dry run: programs were classified, not run.', '');
  }
  L.push(`Regenerate with \`${cmd}\` (see the header of [scripts/compat.mjs](../scripts/compat.mjs)). Generated on ${new Date().toISOString().slice(0, 10)}.`, '');
  L.push('## Summary', '');
  L.push(
    `${rows.length} programs: ${inference} LLM-inference programs, of which ${runs} run${demo ? ` (${demo} of them on tlc's demo model)` : ''}` +
      `${testOnly ? ` (${testOnly} of them have only test or bench blocks, so \`tlc run\` ran nothing)` : ''}, ` +
      `${fails} fail, ${timeouts} time out and ${excluded} are excluded (training, Python or file output); ` +
      `${rows.length - inference} are not LLM-inference programs.`,
    '',
  );
  if (grouped.length) {
    L.push('Failures by reason (numbers, shapes, strings and paths collapsed):', '', '| count | reason |', '| ---: | --- |');
    for (const [g, n] of grouped) L.push(`| ${n} | ${cell(g)} |`);
    L.push('');
  }
  L.push('## Programs', '', '| program | kind | verdict | reason |', '| --- | --- | --- | --- |');
  for (const r of rows) L.push(`| \`${r.path}\` | ${r.kind === 'inference' ? 'LLM inference' : 'other'} | ${r.verdict} | ${cell(r.reason)} |`);
  return `${L.join('\n')}\n`;
}

// ---- main ------------------------------------------------------------------------------------------

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const mode = o.quick ? 'quick' : 'full';
  let programs = findPrograms(o.checkout);
  if (o.only) programs = programs.filter((p) => p.includes(o.only));
  if (!programs.length) usage('no programs match');

  const rows = programs.map((p) => ({ path: p, ...classify(fs.readFileSync(path.join(o.checkout, p), 'utf8')) }));
  for (const r of rows) {
    if (r.kind === 'other') r.verdict = 'not run';
    else if (r.excluded) [r.verdict, r.reason] = ['excluded', r.excluded];
  }
  const toRun = rows.filter((r) => !r.verdict);
  console.log(`compat: ${rows.length} programs, ${toRun.length} to run (${mode})`);

  let setup;
  if (!o.dryRun && toRun.length) {
    fs.mkdirSync(CACHE, { recursive: true });
    const model = prepareModel(o.quick);
    const tokenizer = await prepareTokenizer();
    const homePaths = [...new Set(toRun.flatMap((r) => r.paths.filter((x) => x.where === 'home').map((x) => x.path.replace(/^\/+/, ''))))].sort();
    const home = prepareHome(mode, model.file, tokenizer.file, homePaths);
    const otherPaths = new Map();
    for (const r of toRun) for (const x of new Set(r.paths.filter((x) => x.where !== 'home').map((x) => x.path))) otherPaths.set(x, (otherPaths.get(x) ?? 0) + 1);
    const absolute = o.absolute ? [...new Set(toRun.flatMap((r) => r.paths.filter((x) => x.where === 'absolute').map((x) => x.path)))] : [];
    const unlink = linkAbsolute(absolute, model.file, tokenizer.file);
    process.on('exit', unlink);
    setup = { model, tokenizer, homePaths, absolute, otherPaths: [...otherPaths].filter(([p]) => !absolute.includes(p)).sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
    const logs = path.join(CACHE, `logs-${mode}`);
    if (!o.only) fs.rmSync(logs, { recursive: true, force: true });
    const t0 = performance.now();
    for (const [i, r] of toRun.entries()) {
      const res = await runProgram(o.checkout, r.path, home, o.timeout);
      const log = path.join(logs, `${r.path}.log`);
      fs.mkdirSync(path.dirname(log), { recursive: true });
      fs.writeFileSync(log, `$ HOME=${home} node ${TLC} run ${r.path}   (cwd ${o.checkout})\n# exit ${res.code}, ${res.seconds.toFixed(1)} s\n--- stdout\n${res.out}\n--- stderr\n${res.err}`);
      const notes = runNotes(res);
      if (r.testOnly) notes.unshift('no main block, only test or bench blocks (the original runs them with `run --test` or `--bench`; `tlc run` does not)');
      if (res.timedOut) [r.verdict, r.reason] = ['timeout', [`no exit after ${o.timeout} s`, ...notes].join('; ')];
      else if (res.code === 0) [r.verdict, r.reason] = ['runs', notes.join('; ')];
      else {
        r.error = errorLine(res.err, res.out);
        const own = ownFault(r.error);
        [r.verdict, r.reason] = ['fails', [r.error, ...(own ? [own] : []), ...notes].join('; ')];
      }
      r.seconds = res.seconds;
      console.log(`[${i + 1}/${toRun.length}] ${r.verdict.padEnd(7)} ${res.seconds.toFixed(1).padStart(6)} s  ${r.path}  ${r.verdict === 'runs' ? '' : r.reason}`);
    }
    console.log(`compat: ran ${toRun.length} programs in ${((performance.now() - t0) / 1000).toFixed(0)} s; logs in ${logs}`);
  } else if (o.dryRun) {
    for (const r of toRun) [r.verdict, r.reason] = ['not run', 'dry run'];
  }

  const md = report(o, rows, setup);
  if (o.out) {
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, md);
    console.log(`compat: wrote ${path.relative(process.cwd(), o.out) || o.out}`);
  } else {
    process.stdout.write(md.slice(md.indexOf('## Summary')));
  }
}

main().catch((e) => {
  console.error(`compat: ${e.stack ?? e}`);
  process.exit(1);
});
