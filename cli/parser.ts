// The `tlc` argument parser, apart from the process: cli/tlc.ts runs it on process.argv; tests run it
// on their own argument vectors (with their own commands and failure handler).
import yargs, { type Argv, type CommandModule } from 'yargs';
import { commands } from './commands/index.ts';
import { UsageError } from './report.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function tlcParser(args: string[], fail: (msg: string, err: Error | undefined) => void, cmds: CommandModule<any, any>[] = commands): Argv {
  let cli = yargs(args)
    .scriptName('tlc')
    .usage('$0 <command> [options]\n\nTensorLogic to WebGPU: compile .tl programs and run GGUF language models on the GPU.')
    .strict()
    .demandCommand(1, 'Name a command; `tlc --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail(fail);
  const self = cli;
  cli = cli.middleware((argv) => oneValueEach(argv, self), true);
  for (const c of cmds) cli = cli.command(c);
  return cli;
}

/**
 * A flag that takes one value gets one: yargs makes `--x 1 --x 2` an array and `--no-x` false even
 * for a string option, and a handler would trip over either. Array options (--arg) are left alone.
 */
function oneValueEach(argv: Record<string, unknown>, y: Argv): void {
  const o = (y as unknown as { getOptions(): unknown }).getOptions() as { array: string[]; string: string[]; alias: Record<string, string[]> };
  const aliases = (k: string) => [k, ...(o.alias[k] ?? [])];
  const arrays = new Set(o.array.flatMap(aliases));
  const strings = new Set(o.string.flatMap(aliases));
  // The name to show: the longest spelling of a key (max-tokens over n and maxTokens).
  const shown = (k: string) => {
    const names = [k, ...Object.entries(o.alias).filter(([a, b]) => a === k || b.includes(k)).flatMap(([a, b]) => [a, ...b])];
    const dashed = names.filter((n) => !/[A-Z]/.test(n));
    return (dashed.length ? dashed : names).sort((a, b) => b.length - a.length)[0];
  };
  for (const [k, v] of Object.entries(argv)) {
    if (k === '_' || k === '$0' || arrays.has(k) || /[A-Z]/.test(k)) continue;
    if (Array.isArray(v)) throw new UsageError(`--${shown(k)} is given ${v.length} times; give it once.`);
    if (strings.has(k) && typeof v === 'boolean') throw new UsageError(`--${shown(k)}: expected a value, not --no-${shown(k)}.`);
  }
}
