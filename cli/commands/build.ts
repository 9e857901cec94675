import type { CommandModule } from 'yargs';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../compiler/artifact.ts';
import { TlcError } from '../../runtime/errors.ts';
import { chooseModel, DEMO_MODEL, modelInfoAt } from '../model.ts';
import { argPairs, checkArgNames, sourceArgNames } from '../params.ts';
import { atomicWrite, errnoWords } from '../files.ts';
import { readImport, readSource } from '../source.ts';
import { UsageError } from '../report.ts';
import { QUANT_OPTION, withQuant } from '../hub.ts';

export const LAST_BUILD = path.join('build', 'last');

interface Args {
  file: string;
  model?: string;
  quant?: string;
  out?: string;
  arg?: string[];
}

export const buildCommand: CommandModule<{}, Args> = {
  command: 'build <file>',
  describe: 'Compile a TensorLogic program for a model into build/<name>.tlc.json',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'The .tl program' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model to build for, a file or hf:OWNER/REPO/FILE.gguf (only its header is read)' })
      .option('quant', QUANT_OPTION)
      .option('arg', { type: 'string', array: true, describe: 'A value for arg("name", ...) in the program\'s model path: --arg name=value' })
      .option('out', { alias: 'o', type: 'string', describe: 'Where to write the artifact (default build/<name>.tlc.json)' })
      .example('$0 build examples/chat.tl --model stories260K.gguf', 'then `tlc run --prompt "Once upon a time"`'),
  handler: async (argv) => {
    const pairs = checkBuildArgs(argv);
    const source = readSource(argv.file);
    checkArgNames(Object.keys(pairs), new Set(['model', ...sourceArgNames(source, argv.file)]), argv.file);
    // The program's model path is evaluated here, in the build's environment; the artifact keeps it.
    const modelPath = withQuant(chooseModel(argv.model, source, argv.file, (m) => console.error(m), pairs), argv.quant);
    const info = await modelInfoAt(modelPath);
    const artifact = build(source, argv.file, info, undefined, readImport);
    const out = argv.out ?? path.join('build', `${path.basename(argv.file, '.tl')}.tlc.json`);
    atomicWrite(out, JSON.stringify(artifact)); // a failed write leaves the old artifact whole
    try {
      atomicWrite(LAST_BUILD, path.resolve(out));
    } catch (e) {
      // The artifact is written; only `tlc run` without a target will not find it.
      console.error(`tlc: warning: ${(e as Error).message} \`tlc run\` without a target will not run ${out}; name it: \`tlc run ${out}\`.`);
    }
    const nodes = artifact.ir.graphs.reduce((n, g) => n + g.nodes.length, 0);
    const cached = artifact.ir.graphs.filter((g) => g.incremental).length;
    console.log(`${out}: ${artifact.ir.graphs.length} graph${artifact.ir.graphs.length === 1 ? '' : 's'} (${nodes} ops${cached ? `, ${cached} with a KV cache` : ''}), ${artifact.ir.weights.length} weights${!info ? ' (no model)' : info.path === DEMO_MODEL ? ', for the demo model' : `, for ${info.path}`}`);
  },
};

/** The --arg pairs of `tlc build`, with its other arguments checked (UsageErrors), before any work. */
export function checkBuildArgs(argv: Args): Record<string, string> {
  if (argv.file === '') throw new UsageError('build: expected a .tl file, got ""');
  if (argv.out === '') throw new UsageError('--out: expected a file name, got ""');
  if (argv.model === '') throw new UsageError('--model: expected a file name, got ""');
  return argPairs(argv.arg);
}

/** The artifact of the last `tlc build` here (build/last), or undefined when there is none. */
export function readLastBuild(): string | undefined {
  let st;
  try {
    st = statSync(LAST_BUILD);
  } catch {
    return undefined;
  }
  if (!st.isFile()) throw new TlcError(`${LAST_BUILD} should name the last build, but it is not a file; remove it, or give the artifact to run.`);
  try {
    return readFileSync(LAST_BUILD, 'utf8').trim() || undefined;
  } catch (e) {
    throw new TlcError(`${LAST_BUILD}: cannot read the last build's name: ${errnoWords(e)}.`);
  }
}
