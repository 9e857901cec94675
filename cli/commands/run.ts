import type { CommandModule } from 'yargs';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build, parseArtifact, type Artifact } from '../../compiler/artifact.ts';
import type { HostValue } from '../../compiler/ir.ts';
import { Program } from '../../runtime/program.ts';
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import { TlcError } from '../../runtime/errors.ts';
import { argPairs, chooseModel, DEMO_MODEL, modelInfoAt, openModel } from '../model.ts';
import { readLastBuild } from './build.ts';
import { readSource } from '../source.ts';

interface Args {
  target?: string;
  model?: string;
  prompt?: string;
  'max-tokens'?: number;
  temperature?: number;
  'top-k'?: number;
  'top-p'?: number;
  seed?: number;
  ctx?: number;
  arg?: string[];
  json?: boolean;
}

export const runCommand: CommandModule<{}, Args> = {
  command: 'run [target]',
  describe: 'Run a built artifact (default: the last build) or a .tl program, streaming its output',
  builder: (y) =>
    y
      .positional('target', { type: 'string', describe: 'An artifact from `tlc build`, or a .tl file (built in memory)' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model (default: the one the artifact was built for)' })
      .option('prompt', { alias: 'p', type: 'string', describe: 'The prompt: arg("prompt")' })
      .option('max-tokens', { alias: 'n', type: 'number', describe: 'Most tokens to generate: arg("max_tokens")' })
      .option('temperature', { alias: 't', type: 'number', describe: 'Sampling temperature, 0 = greedy: arg("temperature")' })
      .option('top-k', { type: 'number', describe: 'Keep the k likeliest tokens (0 = all): arg("top_k")' })
      .option('top-p', { type: 'number', describe: 'Keep the smallest set with this much probability: arg("top_p")' })
      .option('seed', { type: 'number', describe: 'Seed of the sampler: the same seed gives the same tokens' })
      .option('ctx', { type: 'number', describe: 'Most tokens (prompt + generated) held in the KV cache' })
      .option('arg', { type: 'string', array: true, describe: 'Any other run-time parameter: --arg name=value' })
      .option('json', { type: 'boolean', describe: 'Print one JSON object {prompt_tokens, tokens, text, stopped_by, timings} instead of the text' })
      .example('$0 run --prompt "Once upon a time" --max-tokens 40 --temperature 0', 'run the last build greedily')
      .example('$0 run examples/chat.tl --model stories260K.gguf', 'build in memory and run'),
  handler: async (argv) => {
    const say = (m: string) => process.stderr.write(`${m}\n`);
    const { artifact, modelPath } = await resolveTarget(argv, say);
    const model = await openModel(modelPath);
    if (model?.demo) say('tlc: running the demo model: RANDOM weights, the text is noise.');

    const gpu = await openNodeDevice();
    const progress = argv.json || !process.stderr.isTTY || !model ? undefined : progressBar(`loading ${path.basename(model.path)}`);
    const program = await Program.load(gpu, artifact, model?.source, { file: model?.file, ctx: argv.ctx, onProgress: progress, readText: (p) => readFile(p, 'utf8') });
    progress?.(1, 1);

    const args = runArgs(argv);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const result = await program.run(args, {
      write: (t) => {
        if (!argv.json) process.stdout.write(t);
      },
      env: (n) => process.env[n],
      signal: abort.signal,
    });
    if (argv.json) {
      console.log(JSON.stringify(result));
    } else if (result.prompt_tokens || result.tokens.length) {
      const t = result.timings;
      say(
        `\n[${result.prompt_tokens} prompt tokens, ${result.tokens.length} generated, stopped by ${result.stopped_by}; ` +
          `prefill ${t.prefill_tok_s} tok/s, decode ${t.decode_tok_s} tok/s; load ${(t.load_ms / 1000).toFixed(2)} s]`,
      );
    }
    program.destroy();
    await model?.source.close?.();
    gpu.device.destroy();
  },
};

async function resolveTarget(argv: Args, say: (m: string) => void): Promise<{ artifact: Artifact; modelPath?: string }> {
  let target = argv.target ?? readLastBuild();
  if (!target) throw new TlcError('Nothing to run: give a .tl file or an artifact, or build one first with `tlc build FILE.tl --model MODEL.gguf`.');
  if (target.endsWith('.tl')) {
    const source = readSource(target);
    const modelPath = chooseModel(argv.model, source, target, say, runArgs(argv)); // evaluated here, in the run's environment
    return { artifact: build(source, target, await modelInfoAt(modelPath)), modelPath };
  }
  if (!existsSync(target)) throw new TlcError(`${target}: no such artifact; build one with \`tlc build FILE.tl\`.`);
  let artifact = parseArtifact(readFileSync(target, 'utf8'), target);
  const modelPath = argv.model ?? artifact.model?.path;
  if (modelPath === undefined) return { artifact };
  if (modelPath !== DEMO_MODEL && !existsSync(modelPath)) {
    throw new TlcError(`${target} was built for ${modelPath}, which does not exist here; pass --model MODEL.gguf.`);
  }
  if (argv.model) {
    // Another model with another shape: rebuild from the source kept in the artifact.
    const info = (await modelInfoAt(modelPath))!;
    if (info.fingerprint !== artifact.model?.fingerprint) {
      say(`tlc: ${path.basename(modelPath)} differs from the model ${target} was built for; rebuilding ${artifact.source.file} for it.`);
      artifact = build(artifact.source.text, artifact.source.file, info);
    }
  }
  return { artifact, modelPath };
}

function runArgs(argv: Args): Record<string, HostValue> {
  const args: Record<string, HostValue> = argPairs(argv.arg);
  const set = (name: string, v: HostValue | undefined) => v !== undefined && (args[name] = v);
  set('prompt', argv.prompt);
  set('max_tokens', argv['max-tokens']);
  set('temperature', argv.temperature);
  set('top_k', argv['top-k']);
  set('top_p', argv['top-p']);
  set('seed', argv.seed);
  if (argv.model) args.model = argv.model;
  return args;
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
