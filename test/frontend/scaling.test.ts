// The front end scales: parse time linear in the source, no JS stack overflow for long chains, deep
// nesting either works or is a located 'nesting deeper than N' error, and the fast parser agrees with
// the grammar (grammar/tensorlogic.ohm through Ohm, parseWithGrammar) on every program it accepts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { check } from '../../compiler/check.ts';
import { compile } from '../../compiler/compile.ts';
import { DiagnosticError } from '../../compiler/diagnostics.ts';
import type { IR } from '../../compiler/ir.ts';
import { MAX_NESTING, parse, parseWithGrammar } from '../../compiler/parse.ts';
import { fakeModel } from '../support/fake-model.ts';

const small = fakeModel({ layers: 3, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 100 });
const main = (body: string, pre = '') => `let model = load_model("m.gguf")\n${pre}\nmain {\n${body}\n}`;
const x = 'let x = embedding(model.token_embd.weight, [1, 2])';

/** About `bytes` of TensorLogic as programs are written: functions, lets, loops, ifs, comments. */
function program(bytes: number): string {
  const parts: string[] = ['let model = load_model("m.gguf")\n'];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part =
      `// Layer ${i}: a norm, a projection and a loop. ${'Comments are spaces, however long. '.repeat(3)}\n` +
      `fn layer_${i}(x: float32[?, ?], layer: int) -> float32[?, ?] {\n` +
      `    let blk = model.blk[layer]\n    let h = rms_norm(x, blk.attn_norm.weight)\n` +
      `    let scores = einsum("ihd,jhd->ihj", h, h) * (1.0 / (model.head_dim ** 0.5))\n` +
      `    /* a block comment\n       over two lines */\n` +
      `    for k in range(3) { if k % 2 == 0 && k > 1 { h = h + x } else { h = h - x * 2.0 } }\n` +
      `    linear(silu(h) * h + x, blk.ffn_down.weight)\n}\n` +
      `let value_${i} = [${i}, ${i} * 2 + (3 - 1) / 4, -1.5e-3][0]\n\n`;
    parts.push(part);
    size += part.length;
  }
  return parts.join('');
}

interface Outcome {
  ir?: IR;
  error?: DiagnosticError;
  seconds: number;
}

/** parse, check and compile (lower + passes); a DiagnosticError is an outcome, anything else (a RangeError) fails the test. */
function run(src: string, opts: { lower?: boolean } = {}): Outcome {
  const t0 = performance.now();
  try {
    const p = parse(src, 't.tl');
    const problems = check(p);
    if (problems.length > 0) throw new DiagnosticError(problems, src);
    const ir = opts.lower === false ? undefined : compile(src, 't.tl', { model: small });
    return { ir, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (e instanceof DiagnosticError) return { error: e, seconds: (performance.now() - t0) / 1000 };
    throw e; // a RangeError (stack overflow) or any internal error
  }
}

interface Case {
  name: string;
  src: () => string;
  lower?: boolean;
  /** What the outcome must be: no error, or an error whose first line matches. */
  expect: 'ok' | RegExp;
  seconds?: number;
  then?: (o: Outcome) => void;
  /** Known to fail elsewhere: why (the case is listed, and skipped). */
}

const nestingError = new RegExp(`^t\\.tl:\\d+:\\d+: error: nesting deeper than ${MAX_NESTING}`);
const hostPrint = (o: Outcome) => o.ir!.host.find((s) => s.k === 'print');
const sum = (n: number, term = '1') => `${term}${` + ${term}`.repeat(n - 1)}`;

const CASES: Case[] = [
  {
    name: 'a 1 MB program parses and checks in a few seconds',
    src: () => program(1 << 20),
    lower: false,
    expect: 'ok',
    seconds: 5,
  },
  { name: 'a 1 MB comment', src: () => `/*${'x'.repeat(1 << 20)}*/\nlet y = 1`, lower: false, expect: 'ok', seconds: 1 },
  { name: 'a 1 MB line comment', src: () => `// ${'x'.repeat(1 << 20)}\nlet y = 1`, lower: false, expect: 'ok', seconds: 1 },
  { name: 'a 1 MB string', src: () => `let s = "${'x'.repeat(1 << 20)}"\nprint(len(s))`, lower: false, expect: 'ok', seconds: 1 },
  {
    name: 'a 200-term sum lowers to its value',
    src: () => main(`let s = ${sum(200)}\nprint(s)`),
    expect: 'ok',
    then: (o) => assert.deepEqual(hostPrint(o), { k: 'print', args: [{ k: 'const', value: 200 }], end: '\n' }),
  },
  {
    name: 'a 20,000-term sum checks and lowers to its value',
    src: () => main(`let s = ${sum(20_000)}\nprint(s)`),
    expect: 'ok',
    seconds: 5,
    then: (o) => assert.deepEqual(hostPrint(o), { k: 'print', args: [{ k: 'const', value: 20_000 }], end: '\n' }),
  },
  {
    name: 'a 400 KB sum (200,000 terms) parses and checks',
    src: () => `let s = 1${'+1'.repeat(200_000)}\nprint(s)`,
    lower: false,
    expect: 'ok',
    seconds: 5,
  },
  {
    name: 'a 20,000-term tensor sum: 19,999 adds in one graph',
    src: () => main(`${x}\nlet s = ${sum(20_000, 'x')}\nprint(s[0, 0])`),
    expect: 'ok',
    seconds: 10,
    then: (o) => assert.equal(o.ir!.graphs[0].nodes.filter((n) => n.op === 'binary').length, 19_999),
  },
  {
    name: 'a chain of 20,000 casts',
    src: () => main(`let s = 1${' as int'.repeat(20_000)}\nprint(s)`),
    expect: 'ok',
  },
  {
    name: 'an unrolled loop of 4,000 tensor steps lowers (4,000 scale nodes in one graph)',
    src: () => main(`${x}\nfor i in range(4000) { x = x * 1.5 }\nprint(x[0, 0])`),
    expect: 'ok',
    seconds: 10,
    then: (o) => assert.equal(o.ir!.graphs[0].nodes.filter((n) => n.op === 'scale').length, 4000),
  },
  { name: '200 nested parentheses', src: () => main(`let s = ${'('.repeat(200)}1${')'.repeat(200)}\nprint(s)`), expect: 'ok' },
  {
    name: `${MAX_NESTING - 10} nested builtin calls on a tensor`,
    src: () => main(`${x}\nlet s = ${'relu('.repeat(MAX_NESTING - 10)}x${')'.repeat(MAX_NESTING - 10)}\nprint(s[0, 0])`),
    expect: 'ok',
  },
  {
    name: `${MAX_NESTING - 10} nested user function calls (inlined)`,
    src: () => main(`${x}\nlet s = ${'f('.repeat(MAX_NESTING - 10)}x${')'.repeat(MAX_NESTING - 10)}\nprint(s[0, 0])`, 'fn f(t: float32[?, ?]) -> float32[?, ?] { t * 2.0 }'),
    expect: 'ok',
  },
  {
    name: `${MAX_NESTING - 10} nested run-time ifs`,
    src: () => main(`let c = arg("c", 1)\n${'if c > 0 { '.repeat(MAX_NESTING - 10)} print(c) ${'}'.repeat(MAX_NESTING - 10)}`),
    expect: 'ok',
  },
  {
    name: `an else-if chain of ${MAX_NESTING - 10} run-time conditions`,
    src: () => main(`let c = arg("c", 1)\nif c == 0 { print(0) } ${Array.from({ length: MAX_NESTING - 10 }, (_, i) => `else if c == ${i + 1} { print(${i}) }`).join(' ')}`),
    expect: 'ok',
  },
  { name: '5,000 nested ifs: a located nesting error', src: () => main(`let c = 1\n${'if c > 0 { '.repeat(5000)} print(c) ${'}'.repeat(5000)}`), expect: nestingError },
  { name: '5,000 nested parentheses', src: () => main(`let s = ${'('.repeat(5000)}1${')'.repeat(5000)}`), expect: nestingError },
  { name: '5,000 nested lists', src: () => main(`let s = ${'['.repeat(5000)}1${']'.repeat(5000)}`), expect: nestingError },
  { name: '5,000 nested blocks', src: () => main(`${'{'.repeat(5000)}${'}'.repeat(5000)}`), expect: nestingError },
  { name: 'an else-if chain of 5,000', src: () => main(`let c = 1\nif c == 0 { } ${'else if c == 1 { } '.repeat(5000)}`), expect: nestingError },
  { name: '5,000 unary minuses', src: () => main(`let s = ${'- '.repeat(5000)}1`), expect: nestingError },
  { name: 'a member chain of 5,000', src: () => main(`let s = model${'.a'.repeat(5000)}`), expect: nestingError },
  { name: '5,000 nested if-expressions', src: () => main(`let s = ${'if true then 1 else '.repeat(5000)}2`), expect: nestingError },
  { name: 'a generic type 5,000 deep', src: () => `fn f(a: ${'A<'.repeat(5000)}int${'>'.repeat(5000)}) {}`, lower: false, expect: /^t\.tl:\d+:\d+: error: / },
  { name: '5,000 nested parentheses with a syntax error after them', src: () => main(`let s = ${'('.repeat(5000)}1${')'.repeat(5000)}\nlet = 2`), expect: nestingError },
  {
    name: `${MAX_NESTING - 10} nested parentheses and a syntax error: located`,
    src: () => main(`let s = ${'('.repeat(MAX_NESTING - 10)}1${')'.repeat(MAX_NESTING - 10)}\nlet = 2`),
    expect: /^t\.tl:5:5: error: expected /,
  },
  { name: 'a comparison chain of 5,000 names', src: () => main(`let a = 1\nlet s = a${' < a'.repeat(5000)}`), lower: false, expect: 'ok' },
  {
    name: 'a syntax error at the end of a 1 MB program: the grammar re-reads only the last items',
    src: () => `${program(1 << 20)}\nfn broken( {}`,
    lower: false,
    expect: /^t\.tl:\d+:\d+: error: expected .*after '\('/,
    seconds: 5,
  },
  {
    name: 'a syntax error deep in a 1 MB main block: located',
    src: () => main(`${'    let y = 1 + 2 * f(3, [4, 5])\n'.repeat(30_000)}    let z = (1 +\n${'    let y = 1\n'.repeat(1000)}`, 'fn f(a: int, b: int) -> int { a }'),
    lower: false,
    expect: /^t\.tl:30004:17: error: expected an expression after '\+'/,
    seconds: 5,
  },
  {
    name: 'a 20,000-term sum inside a run-time loop',
    src: () => main(`let t = 0\nlet n = arg("n", 3)\nfor i in range(n) { t = t + ${sum(20_000)} }\nprint(t)`),
    expect: 'ok',
  },
  {
    name: 'a 20,000-term sum of run-time values (the host program stays shallow)',
    src: () => main(`let n = arg("n", 3)\nprint(${Array(20_000).fill('n').join(' + ')})`),
    expect: 'ok',
  },
];

describe('scaling: long and deep programs', function () {
  this.timeout(60_000);
  for (const c of CASES) {
    it(c.name, () => {
      const o = run(c.src(), { lower: c.lower });
      if (c.expect === 'ok') assert.equal(o.error, undefined, o.error?.message.split('\n').slice(0, 3).join('\n'));
      else {
        assert.ok(o.error, 'expected an error');
        assert.match(o.error.message.split('\n')[0], c.expect);
        assert.match(o.error.message, /\n\s*\d+ \| .*\n\s+\| \s*\^/, 'the error shows its line and a caret');
      }
      if (c.seconds !== undefined) assert.ok(o.seconds < c.seconds, `${o.seconds.toFixed(2)} s, over ${c.seconds} s`);
      c.then?.(o);
    });
  }

  it('parse time grows linearly: 8x the source takes well under 16x the time', () => {
    const time = (src: string) => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        parse(src, 't.tl');
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const [smallSrc, bigSrc] = [program(128 << 10), program(1 << 20)];
    time(smallSrc); // warm up
    const ratio = time(bigSrc) / time(smallSrc);
    assert.ok(ratio < 16, `1 MB took ${ratio.toFixed(1)}x as long as 128 KB`);
  });
});

// ---------------------------------------------------------------------------------------------
// parse() and the grammar agree

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = path.join(repoRoot, 'examples');
const sources = readdirSync(examples).filter((f) => f.endsWith('.tl')).sort().map((f) => readFileSync(path.join(examples, f), 'utf8'));

/** The AST, or the error's text; never anything else. */
function outcome(f: (src: string, file: string) => unknown, src: string): unknown {
  try {
    return { ast: f(src, 'm.tl') };
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return { error: e.message };
  }
}

const TOKEN = /\s+|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|[\p{L}_][\p{L}\p{N}_]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|<-|->|=>|::|:=|==|!=|<=|>=|&&|\|\||\*\*|\.\.|[^\s]/gu;
const EXTRA = ['(', ')', '{', '}', '[', ']', ',', ';', ':', '"', '=', '.', '?', '|', '-', '!', 'inv', 'as', '_', '<', '>', 'let', 'fn', 'if', 'else', 'then', 'for', 'in', 'match', 'where', '<-', '->', '=>', '::', '..', '+=', ':=', '0.5', 'Foo', '\n', ' ', '/*', '*/', '//', 'main', 'test', 'learn', 'infer', 'forward', 'float32[2]'];

describe('parse() builds what the grammar builds', function () {
  this.timeout(60_000);

  it('every example: the same AST', () => {
    for (const src of sources) assert.deepEqual(outcome(parse, src), outcome(parseWithGrammar, src));
  });

  it('400 mutated snippets of the examples: the same AST, or the same error message', () => {
    fc.assert(
      fc.property(
        fc.record({ file: fc.nat(), line: fc.nat(), lines: fc.integer({ min: 1, max: 30 }) }),
        fc.array(fc.record({ op: fc.constantFrom('delete', 'duplicate', 'swap', 'insert'), at: fc.nat(), other: fc.nat(), extra: fc.constantFrom(...EXTRA) }), { maxLength: 3 }),
        ({ file, line, lines }, mutations) => {
          const all = sources[file % sources.length].split('\n');
          const start = line % all.length;
          let tokens: string[] = all.slice(start, start + lines).join('\n').match(TOKEN) ?? [];
          for (const m of mutations) {
            tokens = [...tokens];
            if (tokens.length === 0) {
              tokens = [m.extra];
              continue;
            }
            const [i, j] = [m.at % tokens.length, m.other % tokens.length];
            if (m.op === 'delete') tokens.splice(i, 1);
            else if (m.op === 'duplicate') tokens.splice(i, 0, tokens[i]);
            else if (m.op === 'swap') [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
            else tokens.splice(i, 0, m.extra);
          }
          const src = tokens.join('');
          assert.deepEqual(outcome(parse, src), outcome(parseWithGrammar, src), src);
        },
      ),
      { numRuns: 400 },
    );
  });
});
