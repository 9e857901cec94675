import type { Argv } from 'yargs';
// `tlc run`'s parameters: the flags, the --arg pairs, and which names a program takes.
//
// Each run parameter has one rule (RUN_PARAMS in runtime/program.ts, shared with the browser page);
// here they are read from the command line and checked before anything is loaded. A broken rule is a
// UsageError (exit 2) naming the flag or the --arg: `--top-p: expected a number in (0, 1], got "2"`.
import type { HostValue } from '../compiler/ir.ts';
import { programArgNames, sourceArgNames } from '../compiler/arg-names.ts';
import { checkRunParam } from '../runtime/run-params.ts';
import { UsageError } from './report.ts';

export { chatProgramProblem, programArgNames, sourceArgNames } from '../compiler/arg-names.ts';

/** The flags of `tlc run` that set a run parameter: flag -> the arg(...) name it sets. */
export const RUN_FLAGS: readonly { flag: string; name: string; describe: string; alias?: string }[] = [
  { flag: 'prompt', alias: 'p', name: 'prompt', describe: 'The prompt: arg("prompt")' },
  { flag: 'max-tokens', alias: 'n', name: 'max_tokens', describe: 'Most tokens to generate, a whole number >= 0: arg("max_tokens")' },
  { flag: 'temperature', alias: 't', name: 'temperature', describe: 'Sampling temperature >= 0, 0 = greedy: arg("temperature")' },
  { flag: 'top-k', name: 'top_k', describe: 'Keep the k likeliest tokens, a whole number >= 0 (0 = all): arg("top_k")' },
  { flag: 'top-p', name: 'top_p', describe: 'Keep the smallest set with this much probability, in (0, 1]: arg("top_p")' },
  { flag: 'seed', name: 'seed', describe: 'Seed of the sampler, 0..4294967295: the same seed gives the same tokens' },
];

/** One value of a flag declared as a string: a repeated flag or `--no-x` is a UsageError. */
function single(flag: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${flag} is given ${v.length} times; give it once.`);
  if (typeof v !== 'string') throw new UsageError(`--${flag}: expected a value, got ${JSON.stringify(v)}`);
  return v;
}

/** `--arg name=value` options as { name: value }; a malformed or repeated one is a UsageError. */
export function argPairs(list: unknown): Record<string, string> {
  const args: Record<string, string> = Object.create(null);
  if (list === undefined) return args;
  const items = Array.isArray(list) ? list : [list];
  for (const item of items) {
    const kv = String(item);
    const i = kv.indexOf('=');
    if (i < 1) throw new UsageError(`--arg ${kv}: expected name=value`);
    const name = kv.slice(0, i);
    if (name in args) throw new UsageError(`--arg ${name} is given twice; give it once.`);
    args[name] = kv.slice(i + 1);
  }
  return args;
}

/**
 * The run's arguments from the command line: --arg pairs, then the flags (a name set both ways is an
 * error), then --model as "model", each well-known one checked against its rule (numbers read from
 * text). `ctx` is --ctx, checked, not an arg(...) of the program.
 */
export function runArgs(argv: Record<string, unknown>): { args: Record<string, HostValue>; ctx?: number } {
  const pairs = argPairs(argv.arg);
  const args: Record<string, HostValue> = Object.create(null);
  for (const [name, value] of Object.entries(pairs)) args[name] = check(name, value, `--arg ${name}`);
  for (const { flag, name } of RUN_FLAGS) {
    const v = single(flag, argv[flag]);
    if (v === undefined) continue;
    if (name in pairs) throw new UsageError(`${name} is given twice, as --${flag} and as --arg ${name}; give it once.`);
    args[name] = check(name, v, `--${flag}`);
  }
  const model = single('model', argv.model);
  if (model !== undefined) {
    if (model === '') throw new UsageError('--model: expected a file name, got ""');
    args.model = model;
  }
  return { args, ctx: ctxArg(argv.ctx) };
}

/** --ctx, checked: the most tokens a run holds. */
export function ctxArg(v: unknown): number | undefined {
  const text = single('ctx', v);
  return text === undefined ? undefined : (check('ctx', text, '--ctx') as number);
}

/** The run flags (RUN_FLAGS, but those named in `except`) as yargs options, read as text. */
export function withRunFlags<T>(y: Argv<T>, except: string[] = []): Argv<T> {
  let b = y;
  for (const f of RUN_FLAGS) if (!except.includes(f.name)) b = b.option(f.flag, { ...(f.alias ? { alias: f.alias } : {}), type: 'string', describe: f.describe }) as unknown as Argv<T>;
  return b;
}

function check(name: string, value: string, label: string): HostValue {
  const c = checkRunParam(name, value, label);
  if ('error' in c) throw new UsageError(c.error);
  return c.value;
}

/** Every --arg name must be one the program reads; otherwise a UsageError that lists the ones it does. */
export function checkArgNames(given: Iterable<string>, known: Set<string> | undefined, what: string): void {
  if (!known) return;
  for (const name of given) {
    if (known.has(name)) continue;
    const list = [...known].filter((n) => n !== 'model');
    throw new UsageError(
      `--arg ${name}: ${what} has no arg("${name}"); ` +
        (list.length ? `its run-time parameters are ${list.join(', ')}` : 'it takes no run-time parameters') +
        ' (and model).',
    );
  }
}
