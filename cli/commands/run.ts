import type { Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build, parseArtifact, recordedImports, type Artifact } from '../../compiler/artifact.ts';
import type { HostValue } from '../../compiler/ir.ts';
import { Program } from '../../runtime/program.ts';
import { formatProfile } from '../../runtime/profile.ts';
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import { TlcError } from '../../runtime/errors.ts';
import { chooseModel, DEMO_MODEL, modelInfoAt, openModel } from '../model.ts';
import { argPairs, checkArgNames, programArgNames, runArgs, withRunFlags } from '../params.ts';
import { UsageError } from '../report.ts';
import type { GgufFile } from '../../runtime/gguf.ts';
import { llamaHParams } from '../../runtime/hparams.ts';
import { readLastBuild } from './build.ts';
import { readImport, readSource } from '../source.ts';
import { isHubRef, QUANT_OPTION, withQuant } from '../hub.ts';

interface Args {
  target?: string;
  model?: string;
  quant?: string;
  prompt?: string;
  'max-tokens'?: string;
  temperature?: string;
  'top-k'?: string;
  'top-p'?: string;
  seed?: string;
  ctx?: string;
  arg?: string[];
  json?: boolean;
  profile?: boolean;
}

export const runCommand: CommandModule<{}, Args> = {
  command: 'run [target]',
  describe: 'Run a built artifact (default: the last build) or a .tl program, streaming its output',
  builder: (y) => {
    let b = y
      .positional('target', { type: 'string', describe: 'An artifact from `tlc build`, or a .tl file (built in memory)' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model, a file or hf:OWNER/REPO/FILE.gguf (default: the one the artifact was built for)' })
      .option('quant', QUANT_OPTION);
    // Numbers are read as text and checked by cli/params.ts, so a bad one is named as given.
    return withRunFlags(b)
      .option('ctx', { type: 'string', describe: "Most tokens (prompt + generated) held in the KV cache, at most the model's context" })
      .option('arg', { type: 'string', array: true, describe: 'Any other run-time parameter of the program: --arg name=value' })
      .option('json', { type: 'boolean', describe: 'Print one JSON object {prompt_tokens, tokens, text, stopped_by, timings} instead of the text' })
      .option('profile', { type: 'boolean', describe: 'Time every kernel on the GPU (timestamp queries) and print GPU ms per kernel and op on stderr (with --json: a "profile" object)' })
      .example('$0 run --prompt "Once upon a time" --max-tokens 40 --temperature 0', 'run the last build greedily')
      .example('$0 run examples/chat.tl --model stories260K.gguf', 'build in memory and run')
      .example('$0 run --prompt "Once upon a time" --max-tokens 20 --profile', 'where the GPU time goes, per kernel and op')
      .epilog(
        'Ctrl-C stops the generation at once and prints what was generated and the summary (exit 130); a second Ctrl-C quits without them.\n' +
          'stopped_by is eos, max_tokens, context (the context is full: raise --ctx), stopped (Ctrl-C) or end.',
      ) as unknown as Argv<Args>;
  },
  handler: async (argv) => {
    const say = (m: string) => process.stderr.write(`${m}\n`);
    const { args, ctx } = runArgs(argv as unknown as Record<string, unknown>); // every value checked before anything is loaded
    const { artifact, modelPath } = await resolveTarget(argv, args, say);
    checkArgNames(Object.keys(argPairs(argv.arg)), programArgNames(artifact), artifact.source.file);
    const model = await openModel(modelPath);
    if (model && ctx !== undefined) {
      const trained = contextOf(model.file);
      if (trained && ctx > trained) throw new UsageError(`--ctx ${ctx}: more than the model's context (${trained} tokens); give at most ${trained}.`);
    }
    if (model?.demo) say('tlc: running the demo model: RANDOM weights, the text is noise.');

    const gpu = await openNodeDevice();
    const progress = argv.json || !process.stderr.isTTY || !model ? undefined : progressBar(`loading ${path.basename(model.path)}`);
    const program = await Program.load(gpu, artifact, model?.source, { file: model?.file, ctx, onProgress: progress, readText: (p) => readFile(p, 'utf8') });
    progress?.(1, 1);

    // The first Ctrl-C stops the generation: the run stops waiting for the graph run in progress (a
    // long prefill included) and returns what it made. A second one quits at once.
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) {
        process.stderr.write('\n');
        process.exit(130);
      }
      abort.abort();
      say('\ntlc: stopping (Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', onSigint);
    // A long prompt is read in chunks: show how far, on a terminal, and clear the line at the end.
    const showPrefill = argv.json || !process.stderr.isTTY ? undefined : (done: number, total: number) =>
      process.stderr.write(done < total ? `\rreading the prompt: ${done}/${total} tokens` : '\r\x1b[K');
    let result;
    try {
      result = await program.run(args, {
        write: (t) => {
          if (!argv.json) process.stdout.write(t);
        },
        env: (n) => process.env[n],
        signal: abort.signal,
        onPrefill: showPrefill,
      }, { profile: argv.profile });
    } catch (e) {
      program.destroy();
      throw e;
    }
    if (argv.json) {
      console.log(JSON.stringify(result));
    } else if (result.prompt_tokens || result.tokens.length || result.stopped_by === 'stopped') {
      const t = result.timings;
      say(
        `\n[${result.prompt_tokens} prompt tokens, ${result.tokens.length} generated, stopped by ${result.stopped_by}; ` +
          `prefill ${t.prefill_tok_s} tok/s, decode ${t.decode_tok_s} tok/s; load ${(t.load_ms / 1000).toFixed(2)} s]`,
      );
      if (result.stopped_by === 'context') say(`tlc: the context (${program.ctx} tokens) is full; raise --ctx to generate more.`);
    }
    if (result.profile && !argv.json) say(formatProfile(result.profile));
    // Stopped: quit now. A graph run may still be on the GPU (a long prefill), and freeing the
    // device would wait for it; the process's end frees everything.
    if (result.stopped_by === 'stopped') process.exit(130);
    program.destroy();
    await model?.source.close?.();
    gpu.device.destroy();
    process.off('SIGINT', onSigint);
  },
};

/** The model's training context (GGUF <arch>.context_length), or undefined when it has none. */
function contextOf(file: GgufFile): number | undefined {
  try {
    return llamaHParams(file).n_ctx_train || undefined;
  } catch {
    return undefined; // Program.load says what is wrong with the model
  }
}

async function resolveTarget(argv: Args, args: Record<string, HostValue>, say: (m: string) => void): Promise<{ artifact: Artifact; modelPath?: string }> {
  if (argv.target === '') throw new UsageError('run: expected an artifact or a .tl file, got ""');
  let target = argv.target ?? readLastBuild();
  if (!target) throw new TlcError('Nothing to run: give a .tl file or an artifact, or build one first with `tlc build FILE.tl --model MODEL.gguf`.');
  if (target.endsWith('.tl')) {
    const source = readSource(target);
    const modelPath = withQuant(chooseModel(argv.model, source, target, say, args), argv.quant); // evaluated here, in the run's environment
    return { artifact: build(source, target, await modelInfoAt(modelPath), undefined, readImport), modelPath };
  }
  if (!existsSync(target)) throw new TlcError(`${target}: no such artifact; build one with \`tlc build FILE.tl\`.`);
  let artifact = parseArtifact(readSource(target, 'the artifact'), target);
  const given = withQuant(argv.model, argv.quant);
  const modelPath = given ?? artifact.model?.path;
  if (modelPath === undefined) return { artifact };
  if (modelPath !== DEMO_MODEL && !isHubRef(modelPath) && !existsSync(modelPath)) {
    throw new TlcError(`${target} was built for ${modelPath}, which does not exist here; pass --model MODEL.gguf.`);
  }
  if (given) {
    // Another model with another shape: rebuild from the source kept in the artifact.
    const info = (await modelInfoAt(modelPath))!;
    if (info.fingerprint !== artifact.model?.fingerprint) {
      say(`tlc: ${path.basename(modelPath)} differs from the model ${target} was built for; rebuilding ${artifact.source.file} for it.`);
      artifact = build(artifact.source.text, artifact.source.file, info, undefined, recordedImports(artifact));
    }
  }
  return { artifact, modelPath };
}

function progressBar(label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total ? Math.floor((100 * done) / total) : 100;
    if (pct === last) return;
    last = pct;
    const width = 30, fill = Math.round((width * pct) / 100);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${pct}%${pct === 100 ? '\n' : ''}`);
  };
}
