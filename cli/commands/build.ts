import type { CommandModule } from 'yargs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../compiler/artifact.ts';
import { argPairs, chooseModel, DEMO_MODEL, modelInfoAt } from '../model.ts';
import { readSource } from '../source.ts';

export const LAST_BUILD = path.join('build', 'last');

interface Args {
  file: string;
  model?: string;
  out?: string;
  arg?: string[];
}

export const buildCommand: CommandModule<{}, Args> = {
  command: 'build <file>',
  describe: 'Compile a TensorLogic program for a model into build/<name>.tlc.json',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'The .tl program' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model to build for (only its header is read)' })
      .option('arg', { type: 'string', array: true, describe: 'A value for arg("name", ...) in the program\'s model path: --arg name=value' })
      .option('out', { alias: 'o', type: 'string', describe: 'Where to write the artifact (default build/<name>.tlc.json)' })
      .example('$0 build examples/chat.tl --model stories260K.gguf', 'then `tlc run --prompt "Once upon a time"`'),
  handler: async (argv) => {
    const source = readSource(argv.file);
    // The program's model path is evaluated here, in the build's environment; the artifact keeps it.
    const modelPath = chooseModel(argv.model, source, argv.file, (m) => console.error(m), argPairs(argv.arg));
    const info = await modelInfoAt(modelPath);
    const artifact = build(source, argv.file, info);
    const out = argv.out ?? path.join('build', `${path.basename(argv.file, '.tl')}.tlc.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(artifact));
    mkdirSync('build', { recursive: true });
    writeFileSync(LAST_BUILD, path.resolve(out));
    const nodes = artifact.ir.graphs.reduce((n, g) => n + g.nodes.length, 0);
    const cached = artifact.ir.graphs.filter((g) => g.incremental).length;
    console.log(`${out}: ${artifact.ir.graphs.length} graph${artifact.ir.graphs.length === 1 ? '' : 's'} (${nodes} ops${cached ? `, ${cached} with a KV cache` : ''}), ${artifact.ir.weights.length} weights${!info ? ' (no model)' : info.path === DEMO_MODEL ? ', for the demo model' : `, for ${info.path}`}`);
  },
};

export function readLastBuild(): string | undefined {
  try {
    return readFileSync(LAST_BUILD, 'utf8').trim();
  } catch {
    return undefined;
  }
}
