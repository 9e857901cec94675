// Random argument vectors through tlc's real parser (cli/parser.ts: yargs, strict, the commands'
// builders and checks) and the validation each handler does before any work: every outcome is success
// or a one-line TlcError (UsageError included), never another exception. No GPU: the handlers are
// replaced by their validation layers (the run and build ones check --arg names against a real artifact).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fuzzRuns } from './support/fuzz.ts';
import type { CommandModule } from 'yargs';
import { tlcParser } from '../cli/parser.ts';
import { runCommand } from '../cli/commands/run.ts';
import { buildCommand, checkBuildArgs } from '../cli/commands/build.ts';
import { synthCommand, synthOptions } from '../cli/commands/synth.ts';
import { tokenizeCommand } from '../cli/commands/tokenize.ts';
import { argPairs, checkArgNames, programArgNames, runArgs, sourceArgNames } from '../cli/params.ts';
import { UsageError } from '../cli/report.ts';
import { build } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf } from '../runtime/gguf.ts';
import { checkRunParam, RUN_PARAMS } from '../runtime/run-params.ts';
import { TlcError } from '../runtime/errors.ts';

// Each command's own flags (mostly), and some of any command's or none.
const FLAGS: Record<string, string[]> = {
  run: ['--prompt', '-p', '--max-tokens', '-n', '--temperature', '-t', '--top-k', '--top-p', '--seed', '--ctx', '--arg', '--arg', '--json', '--profile', '--model', '-m', '--no-seed', '--no-json'],
  build: ['--model', '-m', '--out', '-o', '--arg', '--arg'],
  synth: ['--layers', '--embd', '--heads', '--kv-heads', '--ff', '--vocab', '--ctx', '--type', '--tied', '--seed', '--no-tied'],
  tokenize: ['--model', '--text', '--decode', '--special', '--bos', '--no-bos'],
};
const OTHER_FLAGS = ['--unknown', '-x', '--', '--max_tokens', '--topK', '--json', '--ctx', '--help-me'];
/** How a vector starts, after the command (mostly complete, so the flags get checked). */
const START: Record<string, string[][]> = {
  run: [[], ['a.json'], ['chat.tl'], ['']],
  build: [['chat.tl'], ['chat.tl'], ['chat.tl'], []],
  synth: [['x.gguf'], ['x.gguf'], ['x.gguf'], ['']],
  tokenize: [['--model', 'm.gguf'], ['--model', 'm.gguf', '--text', 'hi'], ['--model', 'm.gguf', '--decode', '1,2'], []],
};
const VALUES = [
  '0', '1', '-1', '2.5', '1e3', '1e400', '0x10', 'NaN', 'Infinity', '-0', '4294967295', '4294967296', '9007199254740993', '',
  ' ', 'abc', 'true', 'a=b', '=x', 'temperature=2', 'top_p=0.5', 'top_k=-1', 'seed=7', 'prompt=hi', 'foo=1', 'model=x.gguf',
  'max_tokens=', '1,2,3', '1,,2', 'Q8_0', 'q4_k', 'Q5_1', 'x.json', 'chat.tl', '__proto__=1', 'constructor=1', 'ünïcødé', '--',
];

describe('fuzz: tlc argument vectors', function () {
  this.timeout(60_000);
  let commands: CommandModule<any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any

  before(async () => {
    const src = bytesSource(synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64 }));
    const text = readFileSync('examples/chat.tl', 'utf8');
    const artifact = build(text, 'chat.tl', modelInfo(await readGguf(src)));
    const runNames = programArgNames(artifact);
    const buildNames = new Set(['model', ...sourceArgNames(text, 'chat.tl')]);
    // The real builders (options, checks); handlers that do only what the real ones do before any work.
    commands = [
      { ...runCommand, handler: (argv: Record<string, unknown>) => { runArgs(argv); checkArgNames(Object.keys(argPairs(argv.arg)), runNames, 'chat.tl'); } },
      { ...buildCommand, handler: (argv: Record<string, unknown>) => { checkArgNames(Object.keys(checkBuildArgs(argv as never)), buildNames, 'chat.tl'); } },
      { ...synthCommand, handler: (argv: Record<string, unknown>) => { synthOptions(argv as never); } },
      { ...tokenizeCommand, handler: () => {} },
    ];
  });

  async function outcome(argv: string[]): Promise<Error | undefined> {
    try {
      await tlcParser(argv, (msg, err) => { throw err ?? new UsageError(msg); }, commands).exitProcess(false).parseAsync();
      return undefined;
    } catch (e) {
      return e as Error;
    }
  }

  it('every vector parses, or fails with a one-line TlcError', async () => {
    const value = fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 6 }));
    const vector = fc.constantFrom('run', 'build', 'synth', 'tokenize').chain((cmd) => {
      const flag = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FLAGS[cmd]) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_FLAGS, ...Object.values(FLAGS).flat()) });
      const pair = fc.oneof({ weight: 4, arbitrary: fc.tuple(flag, value) }, { weight: 1, arbitrary: fc.tuple(flag) }, { weight: 1, arbitrary: fc.tuple(value) });
      const start = fc.constantFrom(...START[cmd]);
      return fc.tuple(fc.constant(cmd), start, fc.array(pair, { maxLength: 5 }));
    });
    await fc.assert(
      fc.asyncProperty(vector, async ([cmd, start, pairs]) => {
        const argv = [cmd, ...start, ...pairs.flat()];
        const e = await outcome(argv);
        if (e === undefined) return;
        assert.ok(e instanceof TlcError, `${JSON.stringify(argv)}: ${e.name}: ${e.message}\n${e.stack}`);
        assert.ok(e.message.length > 0 && !e.message.includes('\n'), `${JSON.stringify(argv)}: ${JSON.stringify(e.message)}`);
      }),
      { seed: 20260101, numRuns: fuzzRuns(600) },
    );
  });

  it('each rule accepts or explains any value, and never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(RUN_PARAMS), 'other'), fc.oneof(fc.anything(), fc.double(), fc.string()), (name, value) => {
        const c = checkRunParam(name, value);
        if ('error' in c) assert.match(c.error, new RegExp(`^arg ${name}: expected .+, got .+$`));
        else if (RUN_PARAMS[name]?.ok) assert.ok(typeof c.value === 'number' && RUN_PARAMS[name].ok!(c.value));
      }),
      { seed: 20260101, numRuns: fuzzRuns(2000) },
    );
  });
});
