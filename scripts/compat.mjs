#!/usr/bin/env node
// Runs every TensorLogic program of the original TensorLogic repository through tlc, and its test
// blocks, and writes docs/compatibility.md: which programs tlc runs, which fail and why.
//
//   node scripts/compat.mjs PATH_TO_ORIGINAL_CHECKOUT [--quick] [--only SUBSTRING] [--timeout SECONDS]
//                           [--jobs N] [--no-tests] [--tlc DIR] [--out FILE] [--dry-run] [--from-logs] [--absolute-paths]
//
// PATH_TO_ORIGINAL_CHECKOUT is a work tree of https://github.com/JunSuzukiJapan/tensorlogic (for example
// `git archive HEAD | tar -x -C DIR` of a clone). The script:
//  1. finds every .tl program in the checkout (examples/, debug/, tests/, ...);
//  2. classifies each by kind: an LLM-inference program (it loads a model or a tokenizer: load_model*,
//     get_tensor, load_tokenizer, tokenize, model.blk...), a training program (learn blocks, learnable
//     tensors, optimizers, backward, grad) or a language program (everything else);
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
//  6. runs each program with `node bin/tlc.js run PROGRAM.tl`, and each program that has `test NAME {}`
//     blocks with `node bin/tlc.js test PROGRAM.tl --json` (working directory: the checkout, stdin
//     empty, --jobs at a time, default 2), each with --timeout (default 60 s; a test run gets twice
//     that), and records exit code, first `error:` line, wall time, test results;
//  7. sorts every failure into one of three classes: the program needs something outside tlc's reach
//     by design (Python, a file the program does not ship, interactive input()): excluded from the
//     percentage; the program's own error (the original fails too: a function the original does not
//     have, a line the program marks as an error, ...); everything else is a tlc gap;
//  8. writes docs/compatibility.md (or --out), sorted by path. With --only it prints the summary and
//     writes no file unless --out is given. Logs of every run go to $TMPDIR/tlc-compat/logs-MODE/.
//
// --tlc DIR runs the tlc of another checkout of this repository (for example a `git clone --shared`
// of this one, so that edits in progress here cannot break runs half-way).
// --from-logs runs nothing: it judges the logs of the last run again (after a change to the rules that
// sort failures) and writes the report.
// --dry-run classifies and writes the table without preparing a model or running anything.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let TLC_ROOT = ROOT; // --tlc DIR: run the tlc of another checkout (a clean clone of HEAD while this tree is being edited)
let TLC = path.join(ROOT, 'bin', 'tlc.js');
const CACHE = path.join(process.env.TMPDIR || os.tmpdir(), 'tlc-compat');
const SHARED_MODELS = process.env.TLC_SHARED_MODELS ?? path.resolve(ROOT, '../shared/models');
const VOCAB_GGUF = path.join(SHARED_MODELS, 'vocab', 'ggml-vocab-llama-spm.gguf');

// ---- options ---------------------------------------------------------------------------------

function usage(msg) {
  if (msg) console.error(`compat: ${msg}`);
  console.error('usage: node scripts/compat.mjs PATH_TO_ORIGINAL_CHECKOUT [--quick] [--only SUBSTRING] [--timeout SECONDS] [--jobs N] [--no-tests] [--tlc DIR] [--out FILE] [--dry-run] [--from-logs] [--absolute-paths]');
  process.exit(2);
}

function parseOptions(argv) {
  const o = { checkout: undefined, quick: false, only: undefined, timeout: 60, jobs: 2, tests: true, out: undefined, dryRun: false, absolute: false, fromLogs: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--quick') o.quick = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--absolute-paths') o.absolute = true;
    else if (a === '--no-tests') o.tests = false;
    else if (a === '--from-logs') o.fromLogs = true;
    else if (a === '--only') o.only = value();
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--tlc') {
      TLC_ROOT = path.resolve(value());
      TLC = path.join(TLC_ROOT, 'bin', 'tlc.js');
      if (!fs.existsSync(TLC)) usage(`${TLC_ROOT} has no bin/tlc.js`);
    }
    else if (a === '--timeout') {
      o.timeout = Number(value());
      if (!(o.timeout > 0)) usage('--timeout expects a number of seconds');
    } else if (a === '--jobs') {
      o.jobs = Number(value());
      if (!(Number.isInteger(o.jobs) && o.jobs > 0)) usage('--jobs expects a positive integer');
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

const SKIP_DIRS = new Set(['.git', 'target', 'node_modules']);

/** Paths (relative, with `/`) of every .tl file in the checkout, sorted. */
function findPrograms(checkout) {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(checkout, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(rel);
      } else if (e.isFile() && e.name.endsWith('.tl')) found.push(rel);
    }
  };
  walk('');
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The folder a program is counted under in the summary: its first two folders (`examples/tests`). */
function folderOf(rel) {
  const parts = rel.split('/').slice(0, -1);
  return parts.length ? parts.slice(0, 2).join('/') : '.';
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
// What makes a program a training program.
const TRAINING = [
  [/\blearn\s*\{/, 'a learn block'],
  [/\blearnable\b/, 'learnable tensors'],
  [/\boptimizer\s*:|\b(?:sgd|adam|adamw|rmsprop)\s*\(/, 'an optimizer'],
  [/\bbackward\s*\(/, 'backward()'],
  [/\bgrad\s*\(/, 'grad()'],
];
// Needs outside tlc's reach by design: [pattern, reason]. Used only when the program fails.
const EXTERNAL = [
  [/\bpython\s+import\b|\bpython\s*\./, 'Python interop'],
  [/\bcoreml\w*\s*\(/i, 'CoreML'],
];
const INPUT_CALL = /\binput\s*\(/;

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

/** Kind, test blocks and the model/tokenizer paths of one program. */
function classify(src) {
  const { code, strings } = lex(src);
  const llm = firstMatch(code, LLM);
  const training = firstMatch(code, TRAINING);
  const kind = llm ? 'LLM inference' : training ? 'training' : 'language';
  // File paths: `home + "/.llm/x.gguf"` is HOME-relative; "/Users/..." absolute; "~/..." not expanded.
  const paths = [];
  for (const s of strings) {
    if (!/\.(gguf|json)$/.test(s.value)) continue;
    const concatenated = /\+\s*$/.test(code.slice(0, s.at));
    const where = s.value.startsWith('~') ? 'tilde' : !s.value.startsWith('/') ? 'relative' : concatenated ? 'home' : 'absolute';
    paths.push({ where, path: s.value });
  }
  const testBlocks = (code.match(/^\s*test\s+\w+\s*\{/gm) ?? []).length;
  const benchBlocks = (code.match(/^\s*bench\s+\w+\s*\{/gm) ?? []).length;
  const hasMain = /^\s*main\s*\{/m.test(code);
  const external = firstMatch(code, EXTERNAL);
  return {
    kind,
    paths,
    testBlocks,
    benchBlocks,
    // The original runs `test` and `bench` blocks only with `run --test` or `--bench`; `tlc run` runs
    // main (or top-level code).
    blocksOnly: !hasMain && testBlocks + benchBlocks > 0,
    external: external && `${external.info[0]} (line ${lineOf(src, external.at)})`,
    usesInput: INPUT_CALL.test(code),
  };
}

/**
 * Every identifier the original's Rust sources spell as a string literal ("min", "detokenize_single"):
 * its builtins are dispatched by name. Its editor support (src/lsp) and lexer (keywords) do not count.
 */
function originalNames(checkout) {
  const names = new Set();
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'lsp' && e.name !== 'lexer') walk(p); // the lexer spells keywords ("tensor")
      } else if (e.name.endsWith('.rs')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/"([A-Za-z_]\w*)"/g)) names.add(m[1]);
      }
    }
  };
  walk(path.join(checkout, 'src'));
  return names;
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

const MAX_LOG = 4 << 20; // keep at most this much output per run

/** Runs `tlc ARGS`; resolves with its exit code (null on timeout), output and wall time. */
function runTlc(checkout, args, home, timeoutS) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [TLC, ...args], {
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

/** Runs `jobs` (functions returning promises) at most `n` at a time. */
async function pool(jobs, n) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
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
  return shortenLocation(line);
}

/** `FILE.tl:L:C: message` becomes `line L: message`. */
function shortenLocation(line) {
  const m = /^\S+\.tl:(\d+):\d+: (.*)$/.exec(line);
  return m ? `line ${m[1]}: ${m[2]}` : line;
}

/** The line number an error names (`line L: ...`), or undefined. */
const errorLineNumber = (error) => Number(/^line (\d+): /.exec(error)?.[1]) || undefined;

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

/** The result of `tlc test FILE --json`: { passed, failed, tests } or { error }. */
function testResult(res, timeoutS) {
  if (res.timedOut) return { error: `no exit after ${timeoutS} s`, timedOut: true };
  const json = res.out.split('\n').reverse().find((l) => l.startsWith('{'));
  try {
    const r = JSON.parse(json);
    return { passed: r.passed, failed: r.failed, tests: r.tests.map((t) => ({ name: t.name, ok: t.ok, error: t.error && shortenLocation(t.error.split('\n')[0]) })) };
  } catch {
    return { error: errorLine(res.err, res.out) };
  }
}

// ---- sorting failures ----------------------------------------------------------------------------

/**
 * Programs that fail in the original too, by reading them and its interpreter: [path, reason]. Only
 * for what the rules in ownFault cannot see.
 */
const KNOWN_OWN = new Map([
  ['examples/basics/variable_redefinition.tl', 'redefines a variable on purpose to show the error ("let x = 10  // This should error")'],
  ['debug/test_mixed_array_error.tl', 'makes a mixed Integer/Float array on purpose to show the error'],
]);

/** Why a failure is outside tlc's reach by design, or undefined. */
function externalFault(r) {
  const e = r.error;
  const missing = /the model file (\S+) does not exist|cannot read the file \(no such file[^)]*\)|(\S+) does not exist|no such file or directory/.exec(e);
  if (missing) {
    const named = /["'(]([^"'()]+\.(?:gguf|json|safetensors|bin|txt|csv|tl))["')]/.exec(e)?.[1] ?? missing[1] ?? missing[2];
    return `a file the program does not ship${named ? `: ${named}` : ''}`;
  }
  if (r.usesInput && /\binput\b/.test(e)) return 'interactive input()';
  if (r.external) return r.external;
  return undefined;
}

/** Why a failure is the program's own (the original fails too), or undefined. */
function ownFault(r, src, known) {
  if (KNOWN_OWN.has(r.path)) return KNOWN_OWN.get(r.path);
  const e = r.error;
  // The original's matmul needs [m, k] @ [k, n] and it stores GGUF weights reversed, as [out, in],
  // like tlc, so `matmul(x, W_k)` of a non-square weight is refused there as well.
  if (/einsum "ij,jk->ik": index j is \d+ in one operand and \d+/.test(e)) {
    return "the original's matmul refuses [m, k] @ [n, k] too (GGUF weights are [out, in]; use linear)";
  }
  const call = /unknown function '((?:\w+::)?(\w+))'/.exec(e);
  if (call && !known.has(call[2])) return `the original has no function ${call[1]} either (no "${call[2]}" among its names)`;
  if (/import cycle/.test(e)) return 'the original refuses circular imports too ("Circular import detected")';
  const v = /unknown (?:variable|name) '(\w+)'|'(\w+)' is not defined|undefined (?:variable|name) '?(\w+)/.exec(e);
  if (v) {
    const name = v[1] ?? v[2] ?? v[3];
    if (!known.has(name)) return `${name} is defined nowhere, in the program or the original's builtins`;
  }
  // The failing line carries a comment saying it should fail.
  const line = errorLineNumber(e);
  if (line) {
    const text = src.split('\n')[line - 1] ?? '';
    if (/\/\/.*\b(should (?:error|fail)|error expected|expect(?:ed|s)? (?:an )?error)/i.test(text)) return `the program marks line ${line} as an error`;
  }
  return undefined;
}

/** A failure reason with the program-specific parts (shapes, paths, numbers, strings) collapsed, for grouping. */
function reasonGroup(reason) {
  return reason
    .replace(/^line \d+: /, '')
    .replace(/^error: /, '')
    .replace(/^assignment to '\w+'/, "assignment to '…'")
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/\/[^\s']+/g, 'PATH')
    .replace(/\b\d+(\.\d+)?\b/g, 'N')
    .replace(/"[^"]*"/g, '"…"');
}

// ---- the report ------------------------------------------------------------------------------------

const cell = (s) => String(s).replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 200);
const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '–');

function gitDescribe(dir) {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const dirty = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim();
  return `${r.stdout.trim()}${dirty ? ' with uncommitted changes' : ''}`;
}

const VERDICT_WORDS = { runs: 'runs', gap: 'fails (tlc)', own: 'fails (own error)', external: 'excluded', 'not run': 'not run' };

/** The counts of one group of rows. */
function tally(rows) {
  const n = (v) => rows.filter((r) => r.verdict === v).length;
  const runs = n('runs'), gap = n('gap'), own = n('own'), external = n('external');
  return { programs: rows.length, runs, gap, own, external, runnable: rows.length - own - external };
}

function testsCell(r) {
  if (!r.testBlocks) return '';
  const t = r.tests;
  if (!t) return `${r.testBlocks} test block${r.testBlocks === 1 ? '' : 's'}, not run`;
  if (t.error) return `test run failed: ${t.error}`;
  const first = t.tests.find((x) => !x.ok);
  return `${t.passed}/${t.passed + t.failed} pass${first ? `; \`${first.name}\`: ${first.error ?? 'failed'}` : ''}`;
}

function report(o, rows, setup) {
  const total = tally(rows);
  const groups = new Map();
  for (const r of rows) if (r.verdict === 'gap') {
    const g = reasonGroup(r.error);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(r.path);
  }
  const grouped = [...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const tlcCommit = gitDescribe(TLC_ROOT), origCommit = gitDescribe(o.checkout);
  const cmd = `node scripts/compat.mjs PATH_TO_TENSORLOGIC_CHECKOUT${o.quick ? ' --quick' : ''}${o.absolute ? ' --absolute-paths' : ''}` +
    `${o.timeout !== 60 ? ` --timeout ${o.timeout}` : ''}${o.jobs !== 2 ? ` --jobs ${o.jobs}` : ''}${o.tests ? '' : ' --no-tests'}${TLC_ROOT !== ROOT ? ' --tlc TLC_CHECKOUT' : ''}${o.only ? ` --only ${o.only}` : ''}`;
  const L = [];
  L.push('# Compatibility with the original TensorLogic programs', '');
  L.push(
    `Every \`.tl\` program of the original [TensorLogic](https://github.com/JunSuzukiJapan/tensorlogic) ` +
      `repository${origCommit ? ` (commit ${origCommit})` : ''}, run with \`tlc run PROGRAM.tl\`${tlcCommit ? ` (tlc at ${tlcCommit})` : ''}, ` +
      `and, when it has \`test NAME { ... }\` blocks, with \`tlc test PROGRAM.tl\`; from the checkout's root, stdin empty, ` +
      `${o.jobs} at a time, each with a ${o.timeout} s limit (${2 * o.timeout} s for a test run). ` +
      'A program whose only blocks are test or bench blocks (no main, no top-level code) counts by its test blocks: ' +
      'it runs when every test block passes.',
    '',
    'Each failure is sorted into one of three classes:',
    '',
    '- **excluded**: the program needs something outside tlc\'s reach by design: Python interop, CoreML, a file the program ' +
      'does not ship (a model, tokenizer or data path that does not exist here), interactive `input()`. These do not count in the percentage.',
    "- **own error**: the original fails too: a function whose name the original's Rust sources never spell as a string literal (its " +
      'builtins are dispatched by name; its editor support and lexer do not count), a circular import, `matmul(x, W)` of a non-square GGUF weight (the original refuses [m, k] @ [n, k] as tlc does), a line the ' +
      'program comments as an error, or a program that is an error demonstration (listed in the script). These do not count either.',
    '- **tlc gap**: everything else, timeouts included; counted against tlc.',
    '',
  );
  if (setup) {
    const p = setup.model.params;
    L.push(
      `Programs that load a model get a synthetic TinyLlama-shaped GGUF with random weights (\`tlc synth --layers ${p.layers} --embd ${p.embd} ` +
        `--heads ${p.heads} --kv-heads ${p['kv-heads']} --ff ${p.ff} --vocab ${p.vocab} --ctx ${p.ctx} --type ${p.type}\`, untied ` +
        `\`output.weight\`${o.quick ? '; `--quick` makes the feed-forward width 256 instead of 5632' : ''}), so generated text is noise: ` +
        '"runs" means the program compiled and ran to the end, not that its output is right. ' +
        `The tokenizer is ${setup.tokenizer.from}. HOME is a temporary folder where every HOME-relative path the programs name ` +
        `exists: ${setup.homePaths.map((x) => `\`~/${x}\``).join(', ')} (the .gguf names, f16 ones included, all point to the one ` +
        `${p.type} model).` +
        (setup.absolute.length ? ` With --absolute-paths, these absolute paths were linked too while the programs ran: ${setup.absolute.map((x) => `\`${x}\``).join(', ')}.` : '') +
        (setup.otherPaths.length
          ? ` Other paths are not provided: ${setup.otherPaths.map(([x, n]) => `\`${x}\` (${n} program${n === 1 ? '' : 's'})`).join(', ')}.`
          : ''),
      '',
    );
  } else {
    L.push('This is a dry run: programs were classified, not run.', '');
  }
  L.push(
    `Regenerate with \`${cmd}\` (see the header of [scripts/compat.mjs](../scripts/compat.mjs))` +
      `${TLC_ROOT !== ROOT ? '; `--tlc` named a clean clone of this repository at the commit above, so that edits in progress in the working tree could not break runs' : ''}. ` +
      `Generated on ${new Date().toISOString().slice(0, 10)}.`,
    '',
  );

  L.push('## Summary', '');
  L.push(
    `**${total.runs} of ${total.runnable} runnable programs run (${pct(total.runs, total.runnable)})**: ${rows.length} programs, ` +
      `${total.runs} run, ${total.gap} fail on a tlc gap, ${total.own} fail on their own error, ${total.external} excluded ` +
      '(they need something outside tlc\'s reach). The issue\'s target is 90%.',
    '',
  );
  const tableOf = (title, key) => {
    const by = new Map();
    for (const r of rows) {
      const k = key(r);
      if (!by.has(k)) by.set(k, []);
      by.get(k).push(r);
    }
    L.push(`| ${title} | programs | runs | tlc gap | own error | excluded | runs / runnable |`, '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [k, rs] of [...by].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))) {
      const t = tally(rs);
      L.push(`| ${k} | ${t.programs} | ${t.runs} | ${t.gap} | ${t.own} | ${t.external} | ${pct(t.runs, t.runnable)} |`);
    }
    L.push(`| **all** | ${total.programs} | ${total.runs} | ${total.gap} | ${total.own} | ${total.external} | **${pct(total.runs, total.runnable)}** |`, '');
  };
  L.push('By kind (LLM inference: loads a model or a tokenizer; training: learn blocks, learnable tensors, optimizers, backward, grad; language: the rest):', '');
  tableOf('kind', (r) => r.kind);
  L.push('By folder:', '');
  tableOf('folder', (r) => `\`${folderOf(r.path)}\``);

  const withTests = rows.filter((r) => r.testBlocks);
  if (withTests.length) {
    const ran = withTests.filter((r) => r.tests && !r.tests.error);
    const passed = ran.reduce((s, r) => s + r.tests.passed, 0), failed = ran.reduce((s, r) => s + r.tests.failed, 0);
    const allPass = ran.filter((r) => r.tests.failed === 0).length;
    const broke = withTests.filter((r) => r.tests?.error).length;
    L.push(
      `Test blocks: ${withTests.length} programs have ${withTests.reduce((s, r) => s + r.testBlocks, 0)} \`test\` blocks; ` +
        (o.tests && setup
          ? `\`tlc test\` ran ${passed + failed} of them: ${passed} pass, ${failed} fail; every block passes in ${allPass} programs` +
            `${broke ? `; in ${broke} programs \`tlc test\` itself failed or timed out` : ''}.`
          : 'not run.'),
      '',
    );
  }
  if (grouped.length) {
    L.push('### tlc gaps by first error', '', 'Numbers, shapes, strings and paths collapsed; the programs each blocks:', '', '| programs | first error |', '| ---: | --- |');
    for (const [g, ps] of grouped) L.push(`| ${ps.length} | ${cell(g)} |`);
    L.push('');
  }
  const listOf = (title, verdict) => {
    const rs = rows.filter((r) => r.verdict === verdict);
    if (!rs.length) return;
    L.push(`### ${title} (${rs.length})`, '', '| program | why | first error |', '| --- | --- | --- |');
    for (const r of rs) L.push(`| \`${r.path}\` | ${cell(r.why)} | ${cell(r.error)} |`);
    L.push('');
  };
  listOf('Excluded: outside tlc\'s reach', 'external');
  listOf("The programs' own errors", 'own');

  L.push('## Programs', '', '`tlc run`: runs, fails (tlc gap), fails (own error), excluded; tests: test blocks passed / run, and the first failing one.', '');
  L.push('| program | kind | `tlc run` | reason | tests |', '| --- | --- | --- | --- | --- |');
  for (const r of rows) L.push(`| \`${r.path}\` | ${r.kind} | ${VERDICT_WORDS[r.verdict]} | ${cell(r.reason)} | ${cell(testsCell(r))} |`);
  return `${L.join('\n')}\n`;
}

// ---- main ------------------------------------------------------------------------------------------

/** Sets verdict, reason, error and why of a row from its runs. */
function judge(r, src, known, o) {
  const notes = [];
  let failure; // { error } or { timeout }
  if (r.blocksOnly) {
    notes.push(r.testBlocks ? 'no main, only test blocks: counted by them' : 'no main, only bench blocks: `tlc run` runs nothing');
    if (r.testBlocks && r.tests) {
      const t = r.tests;
      if (t.timedOut) failure = { error: `tlc test: no exit after ${2 * o.timeout} s`, timeout: true };
      else if (t.error) failure = { error: t.error };
      else if (t.failed) {
        const first = t.tests.find((x) => !x.ok);
        failure = { error: first.error ?? `test ${first.name} failed` };
      }
    }
  } else if (r.run.timedOut) failure = { error: `no exit after ${o.timeout} s`, timeout: true };
  else if (r.run.code !== 0) failure = { error: errorLine(r.run.err, r.run.out) };
  if (!r.blocksOnly) notes.push(...runNotes(r.run));
  if (!failure) {
    if (KNOWN_OWN.has(r.path)) notes.unshift(`the original fails here: it ${KNOWN_OWN.get(r.path)}; tlc does not`);
    [r.verdict, r.reason] = ['runs', notes.join('; ')];
    return;
  }
  r.error = failure.error;
  const external = failure.timeout ? undefined : externalFault(r);
  const own = failure.timeout || external ? undefined : ownFault(r, src, known);
  r.verdict = external ? 'external' : own ? 'own' : 'gap';
  r.why = external ?? own;
  r.reason = [r.error, ...(r.why ? [r.why] : []), ...notes].join('; ');
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const mode = o.quick ? 'quick' : 'full';
  let programs = findPrograms(o.checkout);
  if (o.only) programs = programs.filter((p) => p.includes(o.only));
  if (!programs.length) usage('no programs match');
  const sources = new Map(programs.map((p) => [p, fs.readFileSync(path.join(o.checkout, p), 'utf8')]));
  const known = originalNames(o.checkout);

  const rows = programs.map((p) => ({ path: p, ...classify(sources.get(p)) }));
  console.log(`compat: ${rows.length} programs, ${rows.filter((r) => r.testBlocks).length} with test blocks (${mode})`);

  let setup;
  if (!o.dryRun) {
    fs.mkdirSync(CACHE, { recursive: true });
    const model = prepareModel(o.quick);
    const tokenizer = await prepareTokenizer();
    const homePaths = [...new Set(rows.flatMap((r) => r.paths.filter((x) => x.where === 'home').map((x) => x.path.replace(/^\/+/, ''))))].sort();
    const home = prepareHome(mode, model.file, tokenizer.file, homePaths);
    const otherPaths = new Map();
    for (const r of rows) for (const x of new Set(r.paths.filter((x) => x.where !== 'home').map((x) => x.path))) otherPaths.set(x, (otherPaths.get(x) ?? 0) + 1);
    const absolute = o.absolute ? [...new Set(rows.flatMap((r) => r.paths.filter((x) => x.where === 'absolute').map((x) => x.path)))] : [];
    const unlink = linkAbsolute(absolute, model.file, tokenizer.file);
    process.on('exit', unlink);
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
    setup = { model, tokenizer, homePaths, absolute, otherPaths: [...otherPaths].filter(([p]) => !absolute.includes(p)).sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
    const logs = path.join(CACHE, `logs-${mode}`);
    if (!o.only && !o.fromLogs) fs.rmSync(logs, { recursive: true, force: true });
    const log = (r, what, args, res) => {
      const file = path.join(logs, `${r.path}${what}.log`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `$ HOME=${home} node ${TLC} ${args.join(' ')}   (cwd ${o.checkout})\n# exit ${res.code}, ${res.seconds.toFixed(1)} s\n--- stdout\n${res.out}\n--- stderr\n${res.err}`);
    };
    /** A run as log() wrote it (--from-logs). */
    const readLog = (r, what) => {
      const text = fs.readFileSync(path.join(logs, `${r.path}${what}.log`), 'utf8');
      const m = /^# exit (\S+), ([\d.]+) s\n--- stdout\n([^]*?)\n--- stderr\n([^]*)$/m.exec(text);
      if (!m) throw new Error(`${r.path}${what}.log: not a log this script wrote`);
      const code = m[1] === 'null' ? null : /^\d+$/.test(m[1]) ? Number(m[1]) : m[1];
      return { code, timedOut: code === null, out: m[3], err: m[4], seconds: Number(m[2]) };
    };
    const t0 = performance.now();
    let done = 0;
    const jobs = rows.map((r) => async () => {
      const args = ['run', r.path];
      r.run = o.fromLogs ? readLog(r, '') : await runTlc(o.checkout, args, home, o.timeout);
      if (!o.fromLogs) log(r, '', args, r.run);
      if (o.tests && r.testBlocks) {
        const targs = ['test', r.path, '--json'];
        const res = o.fromLogs ? readLog(r, '.test') : await runTlc(o.checkout, targs, home, 2 * o.timeout);
        if (!o.fromLogs) log(r, '.test', targs, res);
        r.tests = testResult(res, 2 * o.timeout);
      }
      judge(r, sources.get(r.path), known, o);
      const seconds = r.run.seconds;
      console.log(`[${++done}/${rows.length}] ${r.verdict.padEnd(8)} ${seconds.toFixed(1).padStart(6)} s  ${r.path}  ${r.verdict === 'runs' ? '' : r.reason}${r.testBlocks ? `  [tests: ${testsCell(r)}]` : ''}`);
      delete r.run; // the output is in the log
    });
    await pool(jobs, o.jobs);
    console.log(`compat: ran ${rows.length} programs in ${((performance.now() - t0) / 1000).toFixed(0)} s; logs in ${logs}`);
  } else {
    for (const r of rows) [r.verdict, r.reason] = ['not run', 'dry run'];
  }

  const md = report(o, rows, setup);
  if (o.out) {
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, md);
    fs.writeFileSync(path.join(CACHE, `results-${mode}.json`), JSON.stringify(rows, null, 1));
    console.log(`compat: wrote ${path.relative(process.cwd(), o.out) || o.out}`);
  } else {
    process.stdout.write(md.slice(md.indexOf('## Summary'), md.indexOf('## Programs')));
  }
}

main().catch((e) => {
  console.error(`compat: ${e.stack ?? e}`);
  process.exit(1);
});
