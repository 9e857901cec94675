import type { CommandModule } from 'yargs';
import { compile } from '../../compiler/compile.ts';
import { printIR } from '../../compiler/ir-print.ts';
import { chooseModel, modelInfoAt } from '../model.ts';
import { readImport, readSource } from '../source.ts';

interface Args {
  file: string;
  model?: string;
  passes?: boolean;
  json?: boolean;
}

export const irCommand: CommandModule<{}, Args> = {
  command: 'ir <file>',
  describe: 'Print the host program and the device op graphs a program lowers to',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'The .tl program' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model whose header fixes the shapes' })
      .option('passes', { type: 'boolean', default: true, describe: 'Run the graph passes (--no-passes: the graph right after lowering)' })
      .option('json', { type: 'boolean', describe: 'Print the IR as JSON' }),
  handler: async (argv) => {
    const source = readSource(argv.file);
    const model = await modelInfoAt(chooseModel(argv.model, source, argv.file, (m) => console.error(m)));
    const ir = compile(source, argv.file, { model, noPasses: !argv.passes, readSource: readImport });
    console.log(argv.json ? JSON.stringify(ir, null, 2) : printIR(ir));
  },
};
