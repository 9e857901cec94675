// The host-program interpreter, on hand-written host programs with a fake device executor.
import assert from 'node:assert/strict';
import type { HostExpr, HostStmt, HostValue } from '../compiler/ir.ts';
import { runHost, StoppedError, topKText, type GraphInputValue, type HostEnv } from '../runtime/host.ts';
import { TlcError } from '../runtime/errors.ts';
import { DeviceValue } from '../runtime/device-value.ts';
import { TokenType as TT } from '../runtime/tokenizer/vocab.ts';
import { openGguf } from '../runtime/node/gguf.ts';
import { tokenizerFromGguf, type Tokenizer } from '../runtime/tokenizer/index.ts';
import { Rng } from '../runtime/rng.ts';
import { requireShared } from './support/shared.ts';

// Builders that keep the programs below short.
const c = (value: HostValue): HostExpr => ({ k: 'const', value });
const v = (name: string): HostExpr => ({ k: 'var', name });
const op = (o: string, ...args: HostExpr[]): HostExpr => ({ k: 'op', op: o, args });
const call = (fn: string, ...args: HostExpr[]): HostExpr => ({ k: 'call', fn, args });
const idx = (target: HostExpr, index: HostExpr): HostExpr => ({ k: 'index', target, index });
const arg = (name: string, dflt: HostValue): HostExpr => ({ k: 'arg', name, default: dflt });
const out = (graph: number, output: number): HostExpr => ({ k: 'out', graph, output });
const list = (...items: HostExpr[]): HostExpr => ({ k: 'list', items });
const let_ = (name: string, value: HostExpr): HostStmt => ({ k: 'let', name, value });
const set = (name: string, value: HostExpr): HostStmt => ({ k: 'set', name, value });
const print = (...args: HostExpr[]): HostStmt => ({ k: 'print', args, end: '\n' });
const write = (...args: HostExpr[]): HostStmt => ({ k: 'print', args, end: '' });
const if_ = (cond: HostExpr, then: HostStmt[], els: HostStmt[] = []): HostStmt => ({ k: 'if', cond, then, else: els });
const for_ = (name: string, start: HostExpr, end: HostExpr, body: HostStmt[]): HostStmt => ({ k: 'for', var: name, start, end, body });
const loop = (body: HostStmt[]): HostStmt => ({ k: 'while', cond: c(true), body });
const run = (graph: number, dims: Record<string, HostExpr>, inputs: HostExpr[]): HostStmt => ({ k: 'run', graph, dims, inputs });
const BREAK: HostStmt = { k: 'break' };
const CONTINUE: HostStmt = { k: 'continue' };

interface Fake {
  env: HostEnv;
  text: () => string;
  runs: { graph: number; dims: Record<string, number>; inputs: GraphInputValue[] }[];
}

/** A HostEnv whose executor records each run; `sample` says what output 0 reads after the nth run. */
function fake(opts: Partial<HostEnv> & { sample?: (n: number, inputs: GraphInputValue[]) => number | number[] | DeviceValue } = {}): Fake {
  const chunks: string[] = [];
  const runs: Fake['runs'] = [];
  const last = new Map<number, number | number[] | DeviceValue>();
  const env: HostEnv = {
    async runGraph(graph, dims, inputs) {
      runs.push({ graph, dims, inputs: inputs.map((x) => (Array.isArray(x) ? [...x] : x)) });
      last.set(graph, opts.sample ? opts.sample(runs.length - 1, inputs) : runs.length - 1);
    },
    readOutput(graph) {
      const x = last.get(graph);
      if (x === undefined) throw new Error(`graph ${graph} read before it ran`);
      return x;
    },
    args: {},
    tokenizer: () => { throw new Error('no tokenizer in this test'); },
    loadTokenizer: () => Promise.reject(new Error('no tokenizer files in this test')),
    write: (t) => chunks.push(t),
    env: (name) => ({ HOME: '/home/tlc' })[name],
    random: () => 0.25,
    ...opts,
  };
  return { env, runs, text: () => chunks.join('') };
}

async function output(host: HostStmt[], opts?: Parameters<typeof fake>[0]): Promise<string> {
  const f = fake(opts);
  await runHost(host, f.env);
  return f.text();
}

async function rejects(host: HostStmt[], message: RegExp, opts?: Parameters<typeof fake>[0]): Promise<void> {
  await assert.rejects(runHost(host, fake(opts).env), (e: Error) => {
    assert.ok(e instanceof TlcError, `expected a TlcError, got ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

describe('host interpreter', () => {
  describe('values and operators: program -> output', () => {
    const cases: [string, HostStmt[], string][] = [
      ['print joins with spaces and ends the line', [print(c(1), c('a'), c([1, 2, 3]), c(true), c(null))], '1 a [1, 2, 3] true null\n'],
      ['write ends with nothing', [write(c('a')), write(c('b'), c(2))], 'ab 2'],
      ['numbers print as JS prints them', [print(op('/', c(1), c(3)), op('**', c(2), c(10)), op('%', c(7), c(3)), op('neg', c(2.5)))], '0.3333333333333333 1024 1 -2.5\n'],
      ['+ concatenates strings, strings and numbers, and lists', [print(op('+', op('+', c('x'), c(1.5)), c('y')), op('+', c(1), c('!')), op('+', c([1]), c([2, 3])))], 'x1.5y 1! [1, 2, 3]\n'],
      ['strings inside lists are quoted', [print(list(c('a'), c(1)))], '["a", 1]\n'],
      ['comparisons', [print(op('<', c(1), c(2)), op('>=', c(1), c(2)), op('==', c('a'), c('a')), op('!=', c(1), c(1)), op('<', c('ab'), c('b')))], 'true false true false true\n'],
      ['== compares lists deeply', [print(op('==', c([1, [2, 3]]), list(c(1), c([2, 3]))), op('==', c([1, 2]), c([1, 2, 3])), op('==', c(1), c(true)))], 'true false false\n'],
      ['&& || ! on truthiness', [print(op('&&', c(1), c('')), op('||', c(0), c([1])), op('!', c([])), op('&&', c(true), c(true)))], 'false true true true\n'],
      ['&& and || skip their right side', [print(op('&&', c(false), idx(c([]), c(5))), op('||', c(true), idx(c([]), c(5))))], 'false true\n'],
      ['int float str', [print(call('int', c(-2.7)), call('int', c('12')), call('float', c('2.5')), op('+', call('str', c(3)), c('x')), op('int', c(true)), op('str', c([1])))], '-2 12 2.5 3x 1 [1]\n'],
      ['index lists and strings, negative from the end', [print(idx(c([10, 20, 30]), c(0)), idx(c([10, 20, 30]), c(-1)), idx(c('héllo'), c(1)), idx(c([[1, 2]]), c(0)))], '10 30 é [1, 2]\n'],
      ['append returns a new list, len, concat', [
        let_('a', c([1, 2])), let_('b', call('append', v('a'), c(3))),
        print(v('a'), v('b'), call('len', v('b')), call('len', c('four')), call('concat', v('a'), v('b')), call('concat', c('x'), c(1))),
      ], '[1, 2] [1, 2, 3] 3 4 [1, 2, 1, 2, 3] x1\n'],
      ['env with and without a default', [print(call('env', c('HOME')), call('env', c('NOPE'), c('dflt')), op('==', call('env', c('NOPE')), c('')))], '/home/tlc dflt true\n'],
      ['random() comes from the env', [print(call('random'))], '0.25\n'],
      ['let then set', [let_('x', c(1)), set('x', op('+', v('x'), c(41))), print(v('x'))], '42\n'],
    ];
    for (const [name, host, expected] of cases) it(name, async () => assert.equal(await output(host), expected));
  });

  describe('control flow: program -> output', () => {
    const cases: [string, HostStmt[], string][] = [
      ['for runs start..end, end exclusive', [for_('i', c(2), c(5), [write(v('i'))])], '234'],
      ['for with an empty range', [for_('i', c(3), c(3), [write(v('i'))]), write(c('done'))], 'done'],
      ['break leaves the loop', [for_('i', c(0), c(10), [if_(op('==', v('i'), c(3)), [BREAK]), write(v('i'))])], '012'],
      ['continue skips the rest of the body', [for_('i', c(0), c(6), [if_(op('==', op('%', v('i'), c(2)), c(1)), [CONTINUE]), write(v('i'))])], '024'],
      ['break and continue belong to the innermost loop', [
        for_('i', c(0), c(3), [for_('j', c(0), c(3), [if_(op('==', v('j'), c(1)), [CONTINUE]), if_(op('==', v('j'), c(2)), [BREAK]), write(v('i'), v('j'), c(';'))])]),
      ], '0 0 ;1 0 ;2 0 ;'],
      ['the end of a for is evaluated once', [let_('n', c(3)), for_('i', c(0), v('n'), [set('n', c(100)), write(v('i'))])], '012'],
      ['assigning the loop variable does not change the count', [for_('i', c(0), c(3), [write(v('i')), set('i', c(10))])], '012'],
      ['while true with a counter and a break', [let_('n', c(0)), loop([set('n', op('+', v('n'), c(1))), if_(op('>=', v('n'), c(4)), [BREAK])]), print(v('n'))], '4\n'],
      ['nested ifs with else', [
        for_('i', c(0), c(4), [if_(op('<', v('i'), c(2)), [if_(op('==', v('i'), c(0)), [write(c('a'))], [write(c('b'))])], [if_(op('==', v('i'), c(2)), [write(c('c'))], [write(c('d'))])])]),
      ], 'abcd'],
      ['a list grows in a loop', [let_('xs', c([])), for_('i', c(0), c(4), [set('xs', call('append', v('xs'), op('*', v('i'), v('i'))))]), print(v('xs'), call('len', v('xs')))], '[0, 1, 4, 9] 4\n'],
    ];
    for (const [name, host, expected] of cases) it(name, async () => assert.equal(await output(host), expected));
  });

  describe('run-time arguments', () => {
    const cases: [string, HostExpr, Record<string, HostValue>, string][] = [
      ['a missing arg takes its default', arg('n', 64), {}, '64'],
      ['a string becomes a number', arg('n', 64), { n: '12' }, '12'],
      ['a fraction for a number default', arg('t', 1), { t: '0.5' }, '0.5'],
      ['true and false for a bool default', list(arg('a', false), arg('b', true)), { a: 'true', b: '0' }, '[true, false]'],
      ['a string stays a string', arg('prompt', 'Hi'), { prompt: '42' }, '42'],
      ['a list from JSON', arg('ids', [1]), { ids: '[3, 4]' }, '[3, 4]'],
      ['a typed value (from the page) is used as is', arg('n', 64), { n: 7 }, '7'],
    ];
    for (const [name, e, args, expected] of cases) {
      it(name, async () => {
        const f = fake();
        f.env.args = args;
        await runHost([write(e)], f.env);
        assert.equal(f.text(), expected);
      });
    }
    it('a coerced number does arithmetic, not concatenation', async () => {
      const f = fake();
      f.env.args = { n: '2' };
      await runHost([write(op('+', arg('n', 1), c(1)))], f.env);
      assert.equal(f.text(), '3');
    });
    const bad: [HostValue, string, RegExp][] = [
      [64, 'lots', /^arg max_tokens: expected a number \(its default is 64\), got "lots"$/],
      [64, '', /^arg max_tokens: expected a number/],
      [true, 'maybe', /^arg max_tokens: expected true or false \(its default is true\), got "maybe"$/],
      [[1], '1,2', /^arg max_tokens: expected a list like \[1, 2, 3\]/],
    ];
    for (const [dflt, given, message] of bad) {
      it(`${JSON.stringify(given)} for a default of ${JSON.stringify(dflt)} is an error naming the arg`, async () => {
        await rejects([print(arg('max_tokens', dflt))], message, { args: { max_tokens: given } });
      });
    }
  });

  describe('errors: program -> message', () => {
    const cases: [string, HostStmt[], RegExp][] = [
      ['panic says where and what', [{ k: 'panic', message: op('+', c('bad token '), c(7)), at: 'chat.tl:3:5' }], /^chat\.tl:3:5: panic: bad token 7$/],
      ['index past the end', [print(idx(c([1, 2]), c(2)))], /index 2 is out of range for a list of 2/],
      ['index before the start', [print(idx(c('ab'), c(-3)))], /index -3 is out of range for the string "ab"/],
      ['a fractional index', [print(idx(c([1, 2]), c(0.5)))], /an index must be a whole number/],
      ['an unknown host function', [print(call('teleport', c(1)))], /host function 'teleport'/],
      ['arithmetic on a string', [print(op('-', c('a'), c(1)))], /operator - does not apply to the string "a" and the number 1/],
      ['append to a number', [print(call('append', c(1), c(2)))], /append: expected a list, got the number 1/],
      ['int of a word', [print(call('int', c('ten')))], /int: cannot make a number of the string "ten"/],
      ['a loop bound that is a string', [for_('i', c(0), c('3'), [])], /loop bound must be a number/],
      ['a graph input that is a string', [run(0, {}, [c('x')])], /graph 0: input 0 must be a number or a list of token ids/],
      ['a negative size', [run(0, { seq: c(-1) }, [])], /graph 0: its size seq must be a whole number, got the number -1/],
      ['tokenize without a tokenizer', [print(call('tokenize', c('abc'), c('x'), c(null)))], /tokenize: expected a tokenizer/],
    ];
    for (const [name, host, message] of cases) it(name, () => rejects(host, message));
  });

  describe('graph runs', () => {
    // The shape of examples/chat.tl's loop: run the graph on the tokens, stop at EOS (2), append and print.
    const generate = (maxTokens: HostExpr): HostStmt[] => [
      let_('tokens', c([1, 5])),
      for_('step', c(0), maxTokens, [
        run(0, { seq: call('len', v('tokens')) }, [v('tokens'), call('random'), arg('temperature', 0.8)]),
        if_(op('==', out(0, 0), c(2)), [BREAK]),
        set('tokens', call('append', v('tokens'), out(0, 0))),
        write(out(0, 0), c('')),
      ]),
      print(v('tokens')),
    ];

    it('runs with dims and inputs evaluated, reads outputs back, stops at EOS', async () => {
      const f = fake({ sample: (n) => [7, 8, 2, 9][n] });
      await runHost(generate(arg('max_tokens', 10)), f.env);
      assert.equal(f.text(), '7 8 [1, 5, 7, 8]\n');
      assert.deepEqual(f.runs, [
        { graph: 0, dims: { seq: 2 }, inputs: [[1, 5], 0.25, 0.8] },
        { graph: 0, dims: { seq: 3 }, inputs: [[1, 5, 7], 0.25, 0.8] },
        { graph: 0, dims: { seq: 4 }, inputs: [[1, 5, 7, 8], 0.25, 0.8] },
      ]);
    });

    it('stops at max_tokens when EOS never comes', async () => {
      const f = fake({ sample: (n) => 10 + n, args: { max_tokens: '3' } });
      await runHost(generate(arg('max_tokens', 10)), f.env);
      assert.equal(f.runs.length, 3);
      assert.equal(f.text(), '10 11 12 [1, 5, 10, 11, 12]\n');
    });

    it('random() draws from the seeded Rng the env was given, once per run', async () => {
      const rng = new Rng(42), expected = new Rng(42);
      const f = fake({ sample: () => 4, random: () => rng.next() });
      await runHost(generate(c(3)), f.env);
      assert.deepEqual(f.runs.map((r) => r.inputs[1]), [expected.next(), expected.next(), expected.next()]);
    });

    it('a whole-tensor output reads back as a list', async () => {
      const f = fake({ sample: () => [0.5, 1.5] });
      await runHost([run(3, {}, []), print(out(3, 0), idx(out(3, 0), c(1)))], f.env);
      assert.equal(f.text(), '[0.5, 1.5] 1.5\n');
    });

    it('an AbortSignal stops the program with a StoppedError', async () => {
      const stop = new AbortController();
      const f = fake({ sample: (n) => (n === 2 && stop.abort(), 5), signal: stop.signal });
      await assert.rejects(runHost(generate(c(100)), f.env), StoppedError);
      assert.equal(f.runs.length, 3);
      assert.equal(f.text(), '5 5 ');
    });

    it('a long loop of host statements can be stopped while it runs', async () => {
      // The loop yields to the event loop now and then, so the timer that aborts gets to run.
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 0);
      const spin = [let_('n', c(0)), loop([set('n', op('+', v('n'), c(1))), if_(op('>=', v('n'), c(2_000_000)), [BREAK])])];
      await assert.rejects(runHost(spin, fake({ signal: stop.signal }).env), StoppedError);
    });
  });

  describe('tokenizers', () => {
    let stories: Tokenizer;
    let spm: Tokenizer;
    before(async function () {
      stories = await loadTokenizer(requireShared(this, 'stories260K.gguf'));
      spm = await loadTokenizer(requireShared(this, 'vocab/ggml-vocab-llama-spm.gguf'));
    });
    const tokenizers = () => ({ stories, spm });

    it('tokenize adds BOS by default, or as told; detokenize skips specials when told', async () => {
      const tok = v('tok');
      const host = [
        let_('tok', call('model_tokenizer')),
        print(call('tokenize', tok, c('Once upon'), c(null)), call('tokenize', tok, c('Once upon'), c(false))),
        print(call('tokenize', tok, c('a</s>'), c(false))), // special tokens in the text are parsed
        // skipping BOS keeps the space SentencePiece put before the first word, as llama.cpp does
        write(call('detokenize', tok, c([1, 403, 407, 2]), c(false)), c('|'), call('detokenize', tok, c([1, 403, 407, 2]), c(true))),
      ];
      assert.equal(await output(host, { tokenizer: () => stories }), '[1, 403, 407] [403, 407]\n[261, 2]\n<s> Once upon</s> |  Once upon');
    });

    // Each token's text, with '|' after it: the stream keeps leading spaces and holds the bytes of a
    // byte-fallback character back until the character is complete.
    const streams: [string, 'stories' | 'spm', string, string][] = [
      ['words', 'stories', 'Once upon a time, there was a little girl.', ' Once| upon| a| time|,| there| was| a| little| g|ir|l|.|'],
      ['a 3-byte character as byte tokens', 'stories', 'Hi 你好', ' H|i| |||你|||好|'],
      ['a 4-byte emoji as byte tokens', 'spm', 'A llama 🦙 said €5!', ' A| ll|ama| ||||🦙| said| €|5|!|'],
    ];
    for (const [name, which, text, expected] of streams) {
      it(`token_text streams ${name} (${which})`, async () => {
        const tok = tokenizers()[which];
        const ids = tok.encode(text, { addBos: false });
        const host = [
          let_('tok', call('model_tokenizer')),
          for_('i', c(0), c(ids.length), [{ k: 'print', args: [call('token_text', v('tok'), idx(c(ids), v('i')))], end: '|' } as HostStmt]),
        ];
        assert.equal(await output(host, { tokenizer: () => tok }), expected);
        // A tokenizer that offers only decode() streams the same text (in other pieces).
        const plain = await output(host, { tokenizer: () => textOnly(tok) });
        assert.equal(plain.replaceAll('|', ''), ' ' + text);
      });
    }

    it('token_text of EOS is empty', async () => {
      assert.equal(await output([write(c('['), call('token_text', call('model_tokenizer'), c(2)), c(']'))], { tokenizer: () => stories }), '[  ]');
    });

    it('load_tokenizer loads each file once', async () => {
      const loads: string[] = [];
      const host = [for_('i', c(0), c(3), [write(call('token_text', call('load_tokenizer', op('+', c('tok'), c('.json'))), c(403))), write(c('/'))])];
      const f = fake({ loadTokenizer: async (p) => (loads.push(p), stories) });
      await runHost(host, f.env);
      assert.equal(f.text(), ' Once/ Once/ Once/');
      assert.deepEqual(loads, ['tok.json']);
    });

    const template = "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const chats: [string, HostExpr, string][] = [
      ['a user message', call('chat_prompt', v('tok'), c('Hi!'), c('')), '<s><|user|>Hi!</s><|assistant|>'],
      ['a system message first', call('chat_prompt', v('tok'), c('Hi!'), c('Be brief.')), '<s><|system|>Be brief.</s><|user|>Hi!</s><|assistant|>'],
    ];
    for (const [name, e, expected] of chats) {
      it(`chat_prompt applies the chat template: ${name}`, async () => {
        assert.equal(await output([let_('tok', call('model_tokenizer')), write(e)], { tokenizer: () => stories, chatTemplate: template }), expected);
      });
    }

    it('chat_prompt without a template, or with a broken one, is an error', async () => {
      const host = [write(call('chat_prompt', call('model_tokenizer'), c('Hi'), c('')))];
      await rejects(host, /chat_prompt: the model has no chat template/, { tokenizer: () => stories });
      await rejects(host, /chat_prompt: the model's chat template failed/, { tokenizer: () => stories, chatTemplate: '{% for %}' });
      await rejects(host, /chat_prompt: the model's chat template failed: no system role/, {
        tokenizer: () => stories,
        chatTemplate: "{{ raise_exception('no system role') }}",
      });
    });
  });
});

async function loadTokenizer(path: string): Promise<Tokenizer> {
  const file = await openGguf(path);
  await file.source.close?.();
  return tokenizerFromGguf(file.metadata, path);
}

/** The tokenizer without its byte-level pieces: what a tokenizer.json tokenizer offers. */
function textOnly(t: Tokenizer): Tokenizer {
  return { kind: t.kind, nVocab: t.nVocab, bos: t.bos, eos: t.eos, addBos: t.addBos, encode: (s, o) => t.encode(s, o), decode: (ids, o) => t.decode(ids, o) };
}

// A SentencePiece vocabulary small enough to work out by hand (ids are row numbers).
const ROWS: [string, number, number][] = [
  ['<unk>', 0, TT.UNKNOWN], ['<s>', 0, TT.CONTROL], ['</s>', 0, TT.CONTROL], ['<0xC3>', 0, TT.BYTE], ['<0xA9>', 0, TT.BYTE],
  ['▁', 0, TT.NORMAL], ['a', 0, TT.NORMAL], ['b', 0, TT.NORMAL], ['▁a', -1, TT.NORMAL], ['\uFEFF', 0, TT.NORMAL],
];
const handTok = (): Tokenizer => tokenizerFromGguf({
  'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': ROWS.map((r) => r[0]),
  'tokenizer.ggml.scores': ROWS.map((r) => r[1]), 'tokenizer.ggml.token_type': ROWS.map((r) => r[2]),
});
const tensor = (shape: number[]) => new DeviceValue(null as unknown as GPUBuffer, shape, 'f32');

describe('host interpreter: builtins and operators, one by one', () => {
  const evalCases: [string, HostExpr[], string][] = [
    // arithmetic
    ['- * ⊙', [op('-', c(5), c(7)), op('*', c(3), c(4)), op('⊙', c(3), c(5))], '-2 12 15'],
    ['idiv truncates toward zero', [op('idiv', c(7), c(2)), op('idiv', c(-7), c(2)), op('idiv', c(7), c(-2))], '3 -3 -3'],
    ['% keeps the sign of the dividend', [op('%', c(-7), c(3)), op('%', c(7), c(-3))], '-1 1'],
    ['div_auto: whole numbers divide as idiv, others as /', [op('div_auto', c(7), c(2)), op('div_auto', c(-7), c(2)), op('div_auto', c(7.5), c(2)), op('div_auto', c(7), c(0.5))], '3 -3 3.75 14'],
    ['dividing by zero with / or a fractional div_auto is infinite, not an error', [op('/', c(1), c(0)), op('div_auto', c(1.5), c(0))], 'Infinity Infinity'],
    ['comparisons at equality', [op('<', c(2), c(2)), op('<=', c(2), c(2)), op('>', c(2), c(2)), op('>=', c(2), c(2))], 'false true false true'],
    ['comparisons of numbers one apart', [op('<', c(1), c(2)), op('<=', c(3), c(2)), op('>', c(3), c(2)), op('>=', c(1), c(2))], 'true false true false'],
    ['strings compare as text: <', [op('<', c('a'), c('b')), op('<', c('b'), c('b')), op('<', c('b'), c('a'))], 'true false false'],
    ['strings compare as text: <=', [op('<=', c('a'), c('b')), op('<=', c('b'), c('b')), op('<=', c('b'), c('a'))], 'true true false'],
    ['strings compare as text: >', [op('>', c('a'), c('b')), op('>', c('b'), c('b')), op('>', c('b'), c('a'))], 'false false true'],
    ['strings compare as text: >=', [op('>=', c('a'), c('b')), op('>=', c('b'), c('b')), op('>=', c('b'), c('a'))], 'false true true'],
    ['idiv truncates fractions too', [op('idiv', c(7.5), c(2)), op('idiv', c(-7.5), c(2))], '3 -3'],
    ['|| of two false values is false', [op('||', c(0), c('')), op('||', c([]), c(null))], 'false false'],
    ['logic_answers prints the solutions of a 0/1 tensor', [call('logic_answers', c([0, 1, 1]), c(['x']), c([['a', 'b', 'c']]))], '  Found 2 solution(s)\n  Solution 1:\n    x = b\n  Solution 2:\n    x = c\n'],
    ['a string repeats', [op('*', c('ab'), c(3)), op('*', c(2), c('x')), op('+', c('['), op('+', op('*', c('x'), c(0)), c(']')))], 'ababab xx []'],
    ['len of a string repeated up to 2^24 characters', [call('len', op('*', c('ab'), c(2 ** 23)))], '16777216'],
    ['+ with a string and a list', [op('+', c('n='), c([1, 2])), op('+', c([1]), c('!'))], 'n=[1, 2] [1]!'],
    ['!= on lists', [op('!=', c([1, [2]]), list(c(1), c([2]))), op('!=', c([1, 2]), c([1, 3])), op('==', c([1, 2]), c([1, 3]))], 'false true false'],
    // unary
    ['! and neg', [op('!', c(0)), op('!', c('x')), op('neg', c(-3))], 'true false 3'],
    ['int float str', [op('int', c('3.9')), op('int', c(-0.5)), op('float', c(true)), op('float', c(false)), op('float', c(' 2 ')), op('str', c(null)), call('str', c([1, 'a']))], '3 0 1 0 2 null [1, "a"]'],
    // values as print shows them
    ['nested lists, strings quoted inside', [c([['a'], 1.5, null, true, 'b'])], '[["a"], 1.5, null, true, "b"]'],
    ['an empty list and an empty string', [c([]), c('')], '[] '],
    // number functions
    ['abs floor ceil', [call('abs', c(-2)), call('floor', c(-1.5)), call('ceil', c(-1.5)), call('floor', c(2.5)), call('ceil', c(2.5))], '2 -2 -1 2 3'],
    ['round: halves away from zero, as Rust', [call('round', c(2.5)), call('round', c(-2.5)), call('round', c(1.4)), call('round', c(-1.6))], '3 -3 1 -2'],
    ['min max', [call('min', c(3), c(1)), call('max', c(3), c(1)), call('min', c(-1), c(4)), call('max', c(-1), c(4))], '1 3 -1 4'],
    ['cos sin tan at 0', [call('cos', c(0)), call('sin', c(0)), call('tan', c(0))], '1 0 0'],
    // lists and strings
    ['index from the end of a string', [idx(c('abc'), c(-3)), idx(c('abc'), c(2))], 'a c'],
    ['concat of a list and a string shows the list', [call('concat', c([1]), c('a')), call('concat', c('a'), c([1]))], '[1]a a[1]'],
    ['ids of one id or a list', [call('ids', c(5)), call('ids', c([1, 2])), call('ids', c([]))], '[5] [1, 2] []'],
    ['string_length counts UTF-8 bytes', [call('string_length', c('héllo')), call('string_length', c('')), call('string_length', c('🦙'))], '6 0 4'],
    ['string_substring counts characters', [call('string_substring', c('héllo'), c(1), c(3)), call('string_substring', c('ab'), c(1), c(5)), call('string_substring', c('🦙x'), c(1), c(1))], 'éll b x'],
    ['string_substring from the end or of nothing', [op('+', c('<'), op('+', call('string_substring', c('ab'), c(2), c(1)), c('>'))), op('+', c('<'), op('+', call('string_substring', c('ab'), c(0), c(0)), c('>')))], '<> <>'],
    ['select picks by truthiness', [call('select', c(0), c('a'), c('b')), call('select', c([1]), c('a'), c('b')), call('select', c([]), c('a'), c('b'))], 'b a b'],
    ['env with a default, and without one', [call('env', c('NOPE'), c(3)), op('+', c('<'), op('+', call('env', c('NOPE')), c('>')))], '3 <>'],
    ['assert and assert_eq return nothing when they hold', [call('assert', c(true), c(null), c('a.tl:1:1')), call('assert_eq', c(2), c(2), c('a.tl:1:1'))], 'null null'],
  ];
  for (const [name, exprs, expected] of evalCases) it(name, async () => assert.equal(await output([write(...exprs)]), expected));

  it('tan(π/4) and sin(π/2) are 1, cos(π) is -1 (to 1e-12)', async () => {
    const got = (await output([write(call('tan', c(Math.PI / 4)), call('sin', c(Math.PI / 2)), call('cos', c(Math.PI)))])).split(' ').map(Number);
    for (const [x, want] of [[got[0], 1], [got[1], 1], [got[2], -1]]) assert.ok(Math.abs(x - want) < 1e-12, `${x} vs ${want}`);
  });

  it('print with no arguments prints only its end', async () => {
    assert.equal(await output([{ k: 'print', args: [], end: '.' }]), '.');
  });

  it('if with a false condition runs the else branch; [] and "" are false, [0] is true', async () => {
    const host = [c([]), c(''), c(0), c(null), c([0]), c('0')].map((cond) => if_(cond, [write(c('T'))], [write(c('F'))]));
    assert.equal(await output(host), 'FFFFTT');
  });

  it('a for loop over fractional bounds steps by 1 from the start', async () => {
    assert.equal(await output([for_('i', c(0.5), c(3), [write(v('i'), c(''))])]), '0.5 1.5 2.5 ');
  });

  it('a while loop around graph runs, with continue and break', async () => {
    const f = fake({ sample: (n) => n });
    const host = [let_('n', c(0)), { k: 'while', cond: op('<', v('n'), c(10)), body: [
      set('n', op('+', v('n'), c(1))),
      run(0, {}, [v('n')]),
      if_(op('==', out(0, 0), c(1)), [CONTINUE]),
      if_(op('==', out(0, 0), c(3)), [BREAK]),
      write(out(0, 0)),
    ] } as HostStmt, write(c('|'), v('n'))];
    await runHost(host, f.env);
    assert.equal(f.text(), '02| 4');
  });

  it('a for loop around a graph run stops at break', async () => {
    const f = fake({ sample: (n) => n });
    await runHost([for_('i', c(0), c(10), [run(0, {}, []), if_(op('==', out(0, 0), c(2)), [BREAK]), write(out(0, 0))])], f.env);
    assert.equal(f.text(), '01');
    assert.equal(f.runs.length, 3);
  });

  it('a long for loop can be stopped while it runs', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 0);
    const spin = [let_('n', c(0)), for_('i', c(0), c(1e9), [set('n', v('i'))])];
    await assert.rejects(runHost(spin, fake({ signal: stop.signal }).env), StoppedError);
  });

  it('a StoppedError says "stopped" and names itself', async () => {
    const stop = new AbortController();
    stop.abort();
    await assert.rejects(runHost([write(c('x'))], fake({ signal: stop.signal }).env), (e: Error) => {
      assert.deepEqual([e instanceof StoppedError, e.name, e.message], [true, 'StoppedError', 'stopped']);
      return true;
    });
  });

  it('a break after a graph run inside an if leaves the loop (the flow comes back through a promise)', async () => {
    const f = fake({ sample: () => 0 });
    await runHost([for_('i', c(0), c(3), [if_(op('==', v('i'), c(1)), [run(0, {}, []), BREAK]), write(v('i'))])], f.env);
    assert.equal(f.text(), '0');
  });

  it('a continue after a graph run inside an if skips the rest of the body', async () => {
    const f = fake({ sample: () => 0 });
    await runHost([for_('i', c(0), c(3), [if_(op('==', v('i'), c(1)), [run(0, {}, []), CONTINUE]), write(v('i'))])], f.env);
    assert.equal(f.text(), '02');
  });

  // A loop yields to the event loop after every 65536th iteration, not before: a timer set before the
  // program runs fires in that yield, so of 65537 iterations only the last sees it (random() says so).
  const yields: [string, (body: HostStmt[]) => HostStmt[]][] = [
    ['for', (body) => [for_('i', c(0), c(65537), body)]],
    ['while', (body) => [let_('i', c(0)), { k: 'while', cond: op('<', v('i'), c(65537)), body: [...body, set('i', op('+', v('i'), c(1)))] } as HostStmt]],
  ];
  for (const [kind, loop] of yields) {
    it(`a ${kind} loop yields to the event loop after its 65536th iteration`, async () => {
      let fired = false;
      setTimeout(() => (fired = true), 0);
      const host = [let_('seen', c(0)), ...loop([set('seen', op('+', v('seen'), call('random')))]), write(v('seen'))];
      assert.equal(await output(host, { random: () => (fired ? 1 : 0) }), '1');
    });
  }

  it('an aborted signal stops the program before its first statement', async () => {
    const stop = new AbortController();
    stop.abort();
    const f = fake({ signal: stop.signal });
    await assert.rejects(runHost([write(c('x'))], f.env), StoppedError);
    assert.equal(f.text(), '');
  });

  describe('graph runs: sizes and inputs', () => {
    it('sizes may be 0; inputs: numbers, true as 1, false as 0, lists of numbers, tensors', async () => {
      const t = tensor([2, 3]);
      const f = fake({ sample: () => t });
      await runHost([run(0, {}, []), run(1, { seq: c(0), n: c(3) }, [c(2.5), c(true), c(false), c([1, 2]), out(0, 0), c([])])], f.env);
      assert.deepEqual(f.runs[1], { graph: 1, dims: { seq: 0, n: 3 }, inputs: [2.5, 1, 0, [1, 2], t, []] });
    });

    const bad: [string, Record<string, HostExpr>, HostExpr[], RegExp][] = [
      ['a size given as a string', { seq: c('3') }, [], /^graph 0: its size seq must be a whole number, got the string "3"$/],
      ['a fractional size', { n: c(1.5) }, [], /^graph 0: its size n must be a whole number, got the number 1\.5$/],
      ['a list with a string in it as an input', {}, [c(1), c([1, 'x'])], /^graph 0: input 1 must be a number or a list of token ids, got a list of 2$/],
      ['nothing as an input', {}, [c(null)], /^graph 0: input 0 must be a number or a list of token ids, got nothing$/],
    ];
    for (const [name, dims, inputs, message] of bad) it(name, () => rejects([run(0, dims, inputs)], message));
  });

  describe('tensors on the host', () => {
    const t = tensor([4, 2]);
    const cases: [string, HostExpr[], string][] = [
      ['print shows a tensor by its shape', [out(0, 0)], '<tensor [4, 2]>'],
      ['len is its leading dim', [call('len', out(0, 0))], '4'],
      ['dim gives any dim', [call('dim', out(0, 0), c(1)), call('dim', out(0, 0), c(0))], '2 4'],
    ];
    for (const [name, exprs, expected] of cases) {
      it(name, async () => assert.equal(await output([run(0, {}, []), write(...exprs)], { sample: () => t }), expected));
    }
    it('len of a scalar tensor is 1', async () => {
      assert.equal(await output([run(0, {}, []), write(call('len', out(0, 0)))], { sample: () => tensor([]) }), '1');
    });
    it('errors describe a tensor by its shape', () =>
      rejects([run(0, {}, []), write(op('-', out(0, 0), c('a')))], /operator - does not apply to a tensor of shape \[4, 2\] and the string "a"/, { sample: () => t }));
  });

  describe('errors: program -> message', () => {
    const cases: [string, HostExpr, RegExp][] = [
      ['idiv by zero', op('idiv', c(1), c(0)), /^division by zero: 1 \/ 0$/],
      ['% by zero', op('%', c(5), c(0)), /^division by zero: 5 % 0$/],
      ['div_auto of a whole number by zero', op('div_auto', c(4), c(0)), /^division by zero: 4 \/ 0$/],
      ['arithmetic on lists', op('-', c([1]), c([1])), /^operator - does not apply to a list of 1 and a list of 1$/],
      ['a string compared to a number', op('<', c('a'), c(1)), /^operator < does not apply to the string "a" and the number 1$/],
      ['a string and a list with -', op('-', c('a'), c([])), /^operator - does not apply to the string "a" and a list of 0$/],
      ['a boolean and nothing', op('*', c(true), c(null)), /^operator \* does not apply to the boolean true and nothing$/],
      ['a string repeated a fractional number of times', op('*', c('ab'), c(1.5)), /^operator \* does not apply to the string "ab" and the number 1\.5 \(a string repeats a whole number of times, 0 or more\)$/],
      ['a string repeated -1 times', op('*', c(-1), c('ab')), /^operator \* does not apply to the number -1 and the string "ab" \(a string/],
      ['a string times a string', op('*', c('a'), c('b')), /^operator \* does not apply to the string "a" and the string "b" \(a string/],
      ['a string repeated past 2^24 characters', op('*', c('ab'), c(2 ** 23 + 1)), /^operator \* does not apply to the string "ab" and the number 8388609/],
      ['a long string is cut at 40 characters', op('-', c('x'.repeat(41)), c(1)), new RegExp(`^operator - does not apply to the string "${'x'.repeat(40)}…" and the number 1$`)],
      ['a 40-character string is shown whole', op('-', c('x'.repeat(40)), c(1)), new RegExp(`^operator - does not apply to the string "${'x'.repeat(40)}" and the number 1$`)],
      ['neg of a string', op('neg', c('a')), /^operator - does not apply to the string "a"$/],
      ['an unknown unary operator', op('~', c(1)), /^operator ~ does not apply to the number 1$/],
      ['float of an empty string', op('float', c('  ')), /^float: cannot make a number of the string " {2}"$/],
      ['float of Infinity', op('float', c('Infinity')), /^float: cannot make a number of the string "Infinity"$/],
      ['int of nothing', op('int', c(null)), /^int: cannot make a number of nothing$/],
      ['int of a list', op('int', c([1])), /^int: cannot make a number of a list of 1$/],
      ['indexing a number', idx(c(5), c(0)), /^cannot index the number 5$/],
      ['an index that is a string', idx(c([1]), c('0')), /^an index must be a whole number, got the string "0"$/],
      ['an index past the start from the end', idx(c([1, 2]), c(-3)), /^index -3 is out of range for a list of 2$/],
      ['len of a number', call('len', c(5)), /^len: expected a list or a string, got the number 5$/],
      ['ids of a string', call('ids', c('x')), /^embedding: expected a list, got the string "x"$/],
      ['ids with a negative id', call('ids', c([1, -1])), /^embedding: expected a token id, got the number -1$/],
      ['ids with a fractional id', call('ids', c([0.5])), /^embedding: expected a token id, got the number 0\.5$/],
      ['dim of a number', call('dim', c(5), c(0)), /^dim: expected a tensor, got the number 5$/],
      ['env of a number', call('env', c(5)), /^env: the name must be a string, got the number 5$/],
      ['abs of a string', call('abs', c('x')), /^abs: expected a number, got the string "x"$/],
      ['max of a number and nothing', call('max', c(1), c(null)), /^max: expected a number, got nothing$/],
      ['string_length of a number', call('string_length', c(5)), /^string_length: the argument must be a string, got the number 5$/],
      ['string_substring of a number', call('string_substring', c(5), c(0), c(1)), /^string_substring: the text must be a string, got the number 5$/],
      ['string_substring from -1', call('string_substring', c('ab'), c(-1), c(1)), /^string_substring: the start must be a whole number >= 0, got the number -1$/],
      ['string_substring of a fractional length', call('string_substring', c('ab'), c(0), c(1.5)), /^string_substring: the length must be a whole number >= 0, got the number 1\.5$/],
      ['string_substring of a negative length', call('string_substring', c('ab'), c(0), c(-1)), /^string_substring: the length must be a whole number >= 0, got the number -1$/],
      ['string_substring of a string length', call('string_substring', c('ab'), c('0'), c(1)), /^string_substring: the start must be a whole number >= 0, got the string "0"$/],
      ['detokenize with something else than a tokenizer', call('detokenize', c(1), c([1]), c(false)), /^detokenize: expected a tokenizer \(load_tokenizer\(model\) or load_tokenizer\("tokenizer\.json"\)\), got the number 1$/],
      ['token_text of a list', call('token_text', c([1]), c(1)), /^token_text: expected a tokenizer .*, got a list of 1$/],
      ['load_tokenizer of a number', call('load_tokenizer', c(1)), /^load_tokenizer: the path must be a string, got the number 1$/],
      ['len of nothing at all', call('len'), /^len: expected a list or a string, got nothing$/],
      ['tokenize of nothing', call('tokenize', c(null), c('a')), /^tokenize: expected a tokenizer .*, got nothing$/],
      ['tokenize with a tensor for the tokenizer', call('tokenize', out(0, 0), c('a')), /^tokenize: expected a tokenizer .*, got a tensor of shape \[2\]$/],
      ['arg() with a name that is no string', call('arg', c(5), c(1)), /^arg: the name must be a string, got the number 5$/],
      ['assert of false, with its place and message', call('assert', c(false), c('bad'), c('a.tl:2:3')), /^a\.tl:2:3: assertion failed: bad$/],
    ];
    for (const [name, e, message] of cases) it(name, () => rejects([run(0, {}, []), write(e)], message, { sample: () => tensor([2]) }));

    it('a loop bound that is NaN', () => rejects([for_('i', c(0), c(NaN), [])], /^a loop bound must be a number, got the number NaN$/));
    it('a loop start that is nothing', () => rejects([for_('i', c(null), c(3), [])], /^a loop bound must be a number, got nothing$/));

    it('assigning a variable before defining it, or reading it, is an error naming it', async () => {
      await assert.rejects(runHost([set('x', c(1))], fake().env), /^Error: host program: 'x' is assigned before it is defined$/);
      await assert.rejects(runHost([write(v('y'))], fake().env), /^Error: host program: 'y' is read before it is defined$/);
    });
  });

  describe('print_top_k text', () => {
    const title = (k: number) => `      Top ${k} logits:`;
    const cases: [string, number | number[], number, string[]][] = [
      ['largest first, equal values in index order', [0.5, 2, -1, 2], 3, [title(3), '        [    1] =     2.0000', '        [    3] =     2.0000', '        [    0] =     0.5000']],
      ['infinities and a negative zero', [-Infinity, -0, Infinity, -2], 4, [title(4), '        [    2] =        inf', '        [    1] =    -0.0000', '        [    3] =    -2.0000', '        [    0] =       -inf']],
      ['NaN', [NaN], 1, [title(1), '        [    0] =        NaN']],
      ['an index of six digits, a value of eleven characters', [...new Array(123456).fill(0), 123456.5], 1, [title(1), '        [123456] = 123456.5000']],
      ['one number', 7, 2, [title(2), '        [    0] =     7.0000']],
      ['k = 0: the title alone', [1, 2], 0, [title(0)]],
    ];
    for (const [name, values, k, lines] of cases) it(name, () => assert.equal(topKText(values, k), lines.join('\n')));

    const bad: [string, unknown, unknown, RegExp][] = [
      ['a string for the values', 'x', 1, /^print_top_k: expected a tensor, got the string "x"$/],
      ['a string among the values', [1, 'a'], 1, /^print_top_k: expected a tensor, got a list of 2$/],
      ['a negative k', [1], -1, /^print_top_k: k must be a whole number >= 0, got the number -1$/],
      ['a fractional k', [1], 1.5, /^print_top_k: k must be a whole number >= 0, got the number 1\.5$/],
      ['a string k', [1], '1', /^print_top_k: k must be a whole number >= 0, got the string "1"$/],
    ];
    for (const [name, values, k, message] of bad) {
      it(`${name} is an error`, () => assert.throws(() => topKText(values as number[], k as number), (e: Error) => e instanceof TlcError && message.test(e.message)));
    }

    it('through the host function', async () => assert.equal(await output([write(call('top_k_text', c([1, 3]), c(1)))]), `${title(1)}\n        [    1] =     3.0000`));
  });

  describe('run-time arguments, coerced', () => {
    const cases: [string, HostExpr, Record<string, HostValue>, string][] = [
      ['spaces around a number', arg('n', 1), { n: ' 12 ' }, '12'],
      ['yes and no, any case, spaces around', list(arg('a', false), arg('b', true), arg('c', false), arg('d', true)), { a: ' YES ', b: 'No', c: '1', d: 'false' }, '[true, false, true, false]'],
      ['a list default given JSON', arg('xs', []), { xs: '["a", 2]' }, '["a", 2]'],
      ['a null default takes the string', arg('s', null), { s: '5' }, '5'],
      ['arg() called at run time with its default computed', call('arg', c('n'), op('+', c(1), c(2))), {}, '3'],
      ['arg() called at run time, given', call('arg', c('n'), c(3)), { n: '7' }, '7'],
    ];
    for (const [name, e, args, expected] of cases) {
      it(name, async () => {
        const f = fake({ args });
        await runHost([write(e)], f.env);
        assert.equal(f.text(), expected);
      });
    }
    const bad: [HostValue, string, RegExp][] = [
      [1, '  ', /^arg x: expected a number \(its default is 1\), got " {2}"$/],
      [1, 'Infinity', /^arg x: expected a number \(its default is 1\), got "Infinity"$/],
      [false, '2', /^arg x: expected true or false \(its default is false\), got "2"$/],
      [[1], '{"a": 1}', /^arg x: expected a list like \[1, 2, 3\] \(its default is \[1\]\), got "\{\\"a\\": 1\}"$/],
    ];
    for (const [dflt, given, message] of bad) {
      it(`${JSON.stringify(given)} for a default of ${JSON.stringify(dflt)} is an error`, () => rejects([write(arg('x', dflt))], message, { args: { x: given } }));
    }
  });

  describe('tokenizers (a hand-made SentencePiece vocabulary)', () => {
    const tok = v('tok');
    const withTok = (...stmts: HostStmt[]): HostStmt[] => [let_('tok', call('model_tokenizer')), ...stmts];

    it('tokenize: BOS by default (null), or as told; special tokens in the text are parsed', async () => {
      const host = withTok(write(call('tokenize', tok, c('a'), c(null)), call('tokenize', tok, c('a'), c(true)), call('tokenize', tok, c('a'), c(false)), call('tokenize', tok, c('a</s>'), c(0))));
      assert.equal(await output(host, { tokenizer: handTok }), '[1, 8] [1, 8] [8] [8, 2]');
    });

    it('detokenize keeps or skips special tokens', async () => {
      const host = withTok(write(call('detokenize', tok, c([1, 8, 2]), c(false)), c('|'), call('detokenize', tok, c([1, 8, 2]), c(true)), c('|'), call('detokenize', tok, c([1, 8, 2]))));
      assert.equal(await output(host, { tokenizer: handTok }), '<s> a</s> |  a | <s> a</s>');
    });

    it('tokenize without its third argument adds BOS', async () => {
      assert.equal(await output(withTok(write(call('tokenize', tok, c('a')))), { tokenizer: handTok }), '[1, 8]');
    });

    it('tokenize of something that is no text', () =>
      rejects(withTok(write(call('tokenize', tok, c(5), c(null)))), /^tokenize: the text must be a string, got the number 5$/, { tokenizer: handTok }));

    it('a statement that loads a tokenizer in one of its expressions loads it first', async () => {
      const f = fake({ loadTokenizer: async () => handTok() });
      await runHost([write(c('x'), call('tokenize', call('load_tokenizer', c('t.json')), c('a'), c(false)))], f.env);
      assert.equal(f.text(), 'x [8]');
    });

    it('the model tokenizer is asked for once', async () => {
      let calls = 0;
      const host = [write(call('tokenize', call('model_tokenizer'), c('a'), c(false))), write(call('tokenize', call('model_tokenizer'), c('b'), c(false)))];
      assert.equal(await output(host, { tokenizer: () => (calls++, handTok()) }), '[8][5, 7]');
      assert.equal(calls, 1);
    });

    it('print shows a tokenizer by its kind', async () => {
      assert.equal(await output([write(call('model_tokenizer'))], { tokenizer: handTok }), '<spm tokenizer>');
    });

    it('errors describe a tokenizer as such', () =>
      rejects([write(op('-', call('model_tokenizer'), c(1)))], /^operator - does not apply to a tokenizer and the number 1$/, { tokenizer: handTok }));

    it('load_tokenizer loads each path once, another path again', async () => {
      const loads: string[] = [];
      const host = [for_('i', c(0), c(2), [write(call('tokenize', call('load_tokenizer', c('a.json')), c('a'), c(false)), call('tokenize', call('load_tokenizer', c('b.json')), c('b'), c(false)))])];
      const f = fake({ loadTokenizer: async (p) => (loads.push(p), handTok()) });
      await runHost(host, f.env);
      assert.equal(f.text(), '[8] [5, 7][8] [5, 7]');
      assert.deepEqual(loads, ['a.json', 'b.json']);
    });

    // [ids, what token_text gives for each]: '▁a' (8), the bytes of é (3, 4), 'a' (6)
    const streams: [string, number[], string[]][] = [
      ['a leading space kept, a 2-byte character held back until whole', [8, 3, 4, 6], [' a', '', 'é', 'a']],
      ['control tokens show nothing', [1, 6, 2], ['', 'a', '']],
      ['a byte-order mark is text like any other, first or not', [9, 9], ['\uFEFF', '\uFEFF']],
      ['id 0 (<unk>) is a token id', [0, 6], ['', 'a']],
    ];
    for (const [name, ids, expected] of streams) {
      it(`token_text streams: ${name}`, async () => {
        const host = withTok(...ids.map((id) => ({ k: 'print', args: [call('token_text', tok, c(id))], end: '|' }) as HostStmt));
        assert.equal(await output(host, { tokenizer: handTok }), expected.map((x) => `${x}|`).join(''));
        // A tokenizer that offers only decode() streams the same pieces here.
        assert.equal(await output(host, { tokenizer: () => textOnly(handTok()) }), expected.map((x) => `${x}|`).join(''));
      });
    }

    it('token_text streams each token\'s own bytes through a UTF-8 decoder: a byte that cannot go on is U+FFFD at once', async () => {
      const host = withTok(...[3, 3, 3, 3].map((id) => ({ k: 'print', args: [call('token_text', tok, c(id))], end: '|' }) as HostStmt));
      assert.equal(await output(host, { tokenizer: handTok }), '|\uFFFD|\uFFFD|\uFFFD|');
    });

    // The text-only stream: decode after the tokens shown last (or BOS), keep what that adds.
    const textStreams: [string, Partial<Tokenizer>, number[], string[]][] = [
      ['four lone bytes that never make a character come out as they are, and so does the next', {}, [3, 3, 3, 3, 4], ['', '', '', '\uFFFD'.repeat(4), '\uFFFD']],
      ['without BOS the first token is decoded alone (SentencePiece drops its space)', { bos: -1 }, [8, 8], ['a', ' a']],
      ['a BOS of id 0 is context like any other', { bos: 0 }, [8], [' a']],
    ];
    for (const [name, over, ids, expected] of textStreams) {
      it(`token_text, text-only tokenizer: ${name}`, async () => {
        const host = withTok(...ids.map((id) => ({ k: 'print', args: [call('token_text', tok, c(id))], end: '|' }) as HostStmt));
        assert.equal(await output(host, { tokenizer: () => ({ ...textOnly(handTok()), ...over }) }), expected.map((x) => `${x}|`).join(''));
      });
    }

    it('token_text of something that is no token id', () =>
      rejects(withTok(write(call('token_text', tok, c(-1)))), /^token_text: expected a token id, got the number -1$/, { tokenizer: handTok }));

    const template = "{{ bos_token }}|{% for m in messages %}{{ m['role'] }}:{{ m['content'] }}|{% endfor %}{{ eos_token }}";
    const chats: [string, HostExpr, Partial<HostEnv>, string][] = [
      ['no system message (null)', call('chat_prompt', tok, c('Hi'), c(null)), { chatTemplate: template }, '<s>|user:Hi|</s>'],
      ['a system message', call('chat_prompt', tok, c('Hi'), c('Sys')), { chatTemplate: template }, '<s>|system:Sys|user:Hi|</s>'],
      ['the tokenizer’s own template comes first', call('chat_prompt', tok, c('Hi'), c('')), { chatTemplate: 'env', tokenizer: () => Object.assign(handTok(), { chatTemplate: template }) }, '<s>|user:Hi|</s>'],
      ['a tokenizer without BOS and without decodePiece', call('chat_prompt', tok, c('Hi'), c('')), { chatTemplate: template, tokenizer: () => ({ ...textOnly(handTok()), bos: -1 }) }, '|user:Hi|</s>'],
      ['a BOS of id 0 is a BOS', call('chat_prompt', tok, c('Hi'), c('')), { chatTemplate: template, tokenizer: () => ({ ...textOnly(handTok()), bos: 0 }) }, '<unk>|user:Hi|</s>'],
    ];
    for (const [name, e, env, expected] of chats) {
      it(`chat_prompt: ${name}`, async () => assert.equal(await output(withTok(write(e), write(e)), { tokenizer: handTok, ...env }), expected + expected));
    }

    it('chat_prompt with a user message that is no string', () =>
      rejects(withTok(write(call('chat_prompt', tok, c(1), c('')))), /^chat_prompt: the user message must be a string, got the number 1$/, { tokenizer: handTok, chatTemplate: template }));
    it('chat_prompt with a system message that is no string', () =>
      rejects(withTok(write(call('chat_prompt', tok, c('Hi'), c(1)))), /^chat_prompt: the system message must be a string, got the number 1$/, { tokenizer: handTok, chatTemplate: template }));
  });
});
