// `tlc test FILE.tl...`: runs each `test NAME { ... }` block as a program of its own (cli/test-blocks.ts).
import type { CommandModule } from 'yargs';
import { runBenchBlocks, runTestBlocks } from '../test-blocks.ts';

interface Args {
  files: string[];
  filter?: string;
  model?: string;
  bench?: boolean;
  json?: boolean;
}

export const testCommand: CommandModule<{}, Args> = {
  command: 'test <files..>',
  describe: 'Run the test blocks of TensorLogic files on the WebGPU adapter (or, with --bench, time their bench blocks)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: '.tl files' })
      .option('filter', { type: 'string', describe: 'Only the blocks whose name contains this text' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model for blocks that load one (default: the file the program names)' })
      .option('bench', { type: 'boolean', describe: 'Time the bench blocks instead (as `tlc bench FILE.tl`)' })
      .option('json', { type: 'boolean', describe: 'Print one JSON object with every result instead of the report' })
      .example('$0 test examples/tests_and_benches.tl', 'every test: ok or FAILED with the failure and its place')
      .example('$0 test lib.tl --filter softmax', 'only the tests whose name contains "softmax"')
      .epilog(
        'Each block is built with the file\'s functions and top-level statements in scope, then the block (its main is not run). ' +
          'A test fails when an assertion (assert, assert_eq, assert_about_eq) fails, or the build or the run raises an error. ' +
          'Exits 0 when every test passed, 1 otherwise.',
      ),
  handler: async (argv) => {
    const opts = { filter: argv.filter, model: argv.model, json: argv.json };
    process.exitCode = await (argv.bench ? runBenchBlocks(argv.files, opts) : runTestBlocks(argv.files, opts));
  },
};
