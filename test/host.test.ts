// The host-program interpreter, on hand-written host programs with a fake device executor.
import assert from 'node:assert/strict';
import type { HostExpr, HostStmt, HostValue } from '../compiler/ir.ts';
import { runHost, StoppedError, type GraphInputValue, type HostEnv } from '../runtime/host.ts';
import { TlcError } from '../runtime/errors.ts';
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
function fake(opts: Partial<HostEnv> & { sample?: (n: number, inputs: GraphInputValue[]) => number | number[] } = {}): Fake {
  const chunks: string[] = [];
  const runs: Fake['runs'] = [];
  const last = new Map<number, number | number[]>();
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
