// The run-parameter rules (runtime/run-params.ts), value by value at each boundary: what passes (and
// as which value) and the exact message of what does not. Expected values are written out by hand.
import assert from 'node:assert/strict';
import { checkRunParam, checkRunArgs, RUN_PARAMS, MAX_SEED } from '../runtime/run-params.ts';
import { TlcError } from '../runtime/errors.ts';
import type { HostValue } from '../compiler/ir.ts';

type Want = { value: unknown } | { error: string };
const ok = (value: unknown): Want => ({ value });
const bad = (error: string): Want => ({ error });

describe('run parameters: each rule at its boundaries', () => {
  const MT = 'arg max_tokens: expected a whole number >= 0, got ';
  const TE = 'arg temperature: expected a finite number >= 0 (0 = greedy), got ';
  const TK = 'arg top_k: expected a whole number >= 0 (0 = no limit), got ';
  const TP = 'arg top_p: expected a number in (0, 1], got ';
  const SE = 'arg seed: expected a whole number from 0 to 4294967295, got ';
  const CT = 'arg ctx: expected a whole number >= 1, got ';
  const PR = 'arg prompt: expected text, got ';
  const cases: [string, unknown, Want][] = [
    // max_tokens: whole, >= 0
    ['max_tokens', 0, ok(0)], ['max_tokens', 1, ok(1)], ['max_tokens', -1, bad(MT + '-1')],
    ['max_tokens', 2.5, bad(MT + '2.5')], ['max_tokens', 2 ** 53, bad(MT + '9007199254740992')],
    ['max_tokens', '7', ok(7)], ['max_tokens', ' 7 ', ok(7)], ['max_tokens', '', bad(MT + '""')],
    ['max_tokens', '   ', bad(MT + '"   "')], ['max_tokens', 'x', bad(MT + '"x"')],
    // temperature: finite, >= 0
    ['temperature', 0, ok(0)], ['temperature', 0.25, ok(0.25)], ['temperature', -0.5, bad(TE + '-0.5')],
    ['temperature', Infinity, bad(TE + 'Infinity')], ['temperature', NaN, bad(TE + 'NaN')], ['temperature', '2', ok(2)],
    // top_k: whole, >= 0
    ['top_k', 0, ok(0)], ['top_k', 40, ok(40)], ['top_k', -1, bad(TK + '-1')], ['top_k', 1.5, bad(TK + '1.5')],
    // top_p: (0, 1]
    ['top_p', 1, ok(1)], ['top_p', 0.5, ok(0.5)], ['top_p', 0, bad(TP + '0')], ['top_p', 1.0001, bad(TP + '1.0001')],
    ['top_p', Number.MIN_VALUE, ok(Number.MIN_VALUE)], ['top_p', -0.5, bad(TP + '-0.5')],
    // seed: whole, 0 .. 2^32 - 1
    ['seed', 0, ok(0)], ['seed', MAX_SEED, ok(4294967295)], ['seed', 4294967296, bad(SE + '4294967296')],
    ['seed', -1, bad(SE + '-1')], ['seed', 0.5, bad(SE + '0.5')],
    // ctx: whole, >= 1
    ['ctx', 1, ok(1)], ['ctx', 0, bad(CT + '0')], ['ctx', 512, ok(512)], ['ctx', 1.5, bad(CT + '1.5')],
    // prompt: text as it is (no trimming, no reading as a number)
    ['prompt', 'Once', ok('Once')], ['prompt', '', ok('')], ['prompt', ' 42 ', ok(' 42 ')], ['prompt', 42, bad(PR + '42')],
    // names without a rule pass unchanged, whatever they are
    ['other', 'anything', ok('anything')], ['other', 3.5, ok(3.5)], ['other', undefined, ok(undefined)],
    ['toString', 5, ok(5)], ['constructor', 'x', ok('x')], ['__proto__', 1, ok(1)],
  ];
  for (const [name, value, want] of cases) {
    it(`${name} = ${typeof value === 'string' ? JSON.stringify(value) : String(value)} -> ${'error' in want ? 'error' : String(want.value)}`, () => {
      assert.deepEqual(checkRunParam(name, value), want);
    });
  }

  it('how a bad value is shown: text quoted (cut at 40 characters), lists by length, nothing, booleans, others by type', () => {
    const shown: [unknown, string][] = [
      ['a'.repeat(40), `"${'a'.repeat(40)}"`],
      ['b'.repeat(41), `"${'b'.repeat(40)}…"`],
      [null, 'nothing'], [undefined, 'nothing'], [[1, 2, 3], 'a list of 3'], [[], 'a list of 0'],
      [true, 'true'], [false, 'false'], [{ a: 1 }, 'a object'], [1n, 'a bigint'],
    ];
    for (const [value, text] of shown) {
      assert.deepEqual(checkRunParam('top_k', value), bad(TK + text), String(value));
    }
  });

  it('the label replaces "arg NAME" in the message', () => {
    assert.deepEqual(checkRunParam('ctx', 0, '--ctx'), bad('--ctx: expected a whole number >= 1, got 0'));
    assert.deepEqual(checkRunParam('ctx', 4, '--ctx'), ok(4));
  });

  it('every rule is listed, and only numeric rules have ok()', () => {
    assert.deepEqual(Object.keys(RUN_PARAMS).sort(), ['ctx', 'max_tokens', 'prompt', 'seed', 'temperature', 'top_k', 'top_p']);
    assert.equal(RUN_PARAMS.prompt.ok, undefined);
    assert.equal(MAX_SEED, 4294967295);
  });
});

describe('run parameters: checkRunArgs', () => {
  it('reads numbers from text, keeps the rest, skips undefined values and does not touch its input', () => {
    // Program passes optional arguments through as undefined (outside HostValue, hence the cast).
    const args = { temperature: '0.5', top_k: 3, prompt: 'hi', max_tokens: undefined, extra: 'x' } as unknown as Record<string, HostValue>;
    const out = checkRunArgs(args);
    assert.deepEqual(out, { temperature: 0.5, top_k: 3, prompt: 'hi', max_tokens: undefined, extra: 'x' });
    assert.equal(args.temperature, '0.5');
    assert.notEqual(out, args);
  });

  it('the first broken rule is a TlcError with its message', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ top_p: '2' }, 'arg top_p: expected a number in (0, 1], got "2"'],
      [{ temperature: 1, seed: -1, ctx: 0 }, 'arg seed: expected a whole number from 0 to 4294967295, got -1'],
      [{ ctx: 0 }, 'arg ctx: expected a whole number >= 1, got 0'],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => checkRunArgs(args as never), (e: Error) => e instanceof TlcError && e.message === message);
    }
  });

  it('an empty set of arguments is an empty result', () => {
    assert.deepEqual(checkRunArgs({}), {});
  });
});
