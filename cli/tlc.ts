// The `tlc` command line. Each command lives in cli/commands/<name>.ts.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.ts';
import { reportAndExit, UsageError } from './report.ts';

process.on('unhandledRejection', reportAndExit);
process.on('uncaughtException', reportAndExit);

let cli = yargs(hideBin(process.argv))
  .scriptName('tlc')
  .usage('$0 <command> [options]\n\nTensorLogic to WebGPU: compile .tl programs and run GGUF language models on the GPU.')
  .strict()
  .demandCommand(1, 'Name a command; `tlc --help` lists them.')
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version(false)
  .wrap(Math.min(100, process.stdout.columns || 100))
  .fail((msg, err) => reportAndExit(err ?? new UsageError(msg)));
for (const c of commands) cli = cli.command(c);

try {
  await cli.parseAsync();
} catch (e) {
  reportAndExit(e);
}
