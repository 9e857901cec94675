// `tlc test FILE.tl...` and `tlc bench FILE.tl`: each `test` / `bench` block of each file is built as
// a program of its own (compiler/lower/blocks.ts: the file's functions and top-level statements, then
// the block) and run on the WebGPU adapter. Tests report ok or FAILED with the failure and its place;
// benches report their time per run.
import { readFile } from 'node:fs/promises';
import { build } from '../compiler/artifact.ts';
import { parse } from '../compiler/parse.ts';
import type * as A from '../compiler/ast.ts';
import { formatDiagnostic } from '../compiler/diagnostics.ts';
import { mainBenches, namedBlocks, withEntry, type Entry } from '../compiler/lower/blocks.ts';
import { Program } from '../runtime/program.ts';
import { TlcError } from '../runtime/errors.ts';
import type { Gpu } from '../runtime/device.ts';
import { openNodeDevice } from '../runtime/node/gpu.ts';
import { chooseModel, infoOf, openModel, type ResolvedModel } from './model.ts';
import { readImport, readSource } from './source.ts';

export interface BlockRunOptions {
  /** Only blocks whose name contains this. */
  filter?: string;
  /** The model for blocks that load one (default: the file the program names, as `tlc run` finds it). */
  model?: string;
  json?: boolean;
  /** Timed runs per bench, after one untimed warm-up run (default 5). */
  runs?: number;
}

interface SourceFile {
  file: string;
  source: string;
  program: A.Program;
}

interface Outcome {
  ok: boolean;
  ms: number; // wall time of the run (not the build)
  output: string; // what the program printed
  error?: string;
}

/** Runs the test blocks; prints a report and returns the exit code (1 when any failed). */
export async function runTestBlocks(files: string[], opts: BlockRunOptions = {}): Promise<number> {
  const sources = files.map(readProgram);
  const runner = new BlockRunner(opts);
  const results: { file: string; name: string; ok: boolean; ms: number; error?: string; output: string }[] = [];
  let filteredOut = 0;
  try {
    for (const { file, source, program } of sources) {
      const blocks = namedBlocks(program, 'test');
      const chosen = blocks.map((b, index) => ({ b, index })).filter(({ b }) => !opts.filter || b.name.includes(opts.filter));
      filteredOut += blocks.length - chosen.length;
      if (!opts.json) console.log(blocks.length === 0 ? `${file}: no test blocks` : `running ${chosen.length} test${chosen.length === 1 ? '' : 's'} in ${file}`);
      for (const { b, index } of chosen) {
        await runner.device(); // opened before the line starts: Dawn's start-up warnings go to stderr
        if (!opts.json) process.stdout.write(`test ${b.name} ... `);
        const r = await runner.run({ file, source, program }, { kind: 'test', index });
        results.push({ file, name: b.name, ...r });
        if (opts.json) continue;
        console.log(r.ok ? 'ok' : 'FAILED');
        if (!r.ok) console.log(failureReport(r, file, source));
      }
    }
  } finally {
    await runner.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed;
  if (opts.json) {
    console.log(JSON.stringify({ ok: failed === 0, passed, failed, filtered_out: filteredOut, tests: results }));
  } else {
    console.log(`\ntest result: ${failed ? 'FAILED' : 'ok'}. ${passed} passed; ${failed} failed${filteredOut ? `; ${filteredOut} filtered out` : ''}`);
  }
  return failed ? 1 : 0;
}

/**
 * Times the bench blocks: each builds once, runs once untimed, then `runs` times; the report gives the
 * best and the median time per run. A bench written inside main is timed as main up to it, with its
 * body and without, and reported as the difference.
 */
export async function runBenchBlocks(files: string[], opts: BlockRunOptions = {}): Promise<number> {
  const sources = files.map(readProgram);
  const runs = opts.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new TlcError(`runs: expected a whole number >= 1, got ${runs}`);
  const runner = new BlockRunner(opts);
  const results: { file: string; name: string; ok: boolean; best_ms?: number; median_ms?: number; runs: number; error?: string }[] = [];
  try {
    for (const src of sources) {
      const top = namedBlocks(src.program, 'bench').map((b, index) => ({ b, entries: [{ kind: 'bench', index }] as Entry[] }));
      const inMain = mainBenches(src.program).map((b, index) => ({
        b,
        entries: [{ kind: 'main-bench', index, withBody: true }, { kind: 'main-bench', index, withBody: false }] as Entry[],
      }));
      const chosen = [...inMain, ...top].filter(({ b }) => !opts.filter || b.name.includes(opts.filter));
      if (!opts.json) console.log(chosen.length === 0 ? `${src.file}: no bench blocks` : `running ${chosen.length} bench${chosen.length === 1 ? '' : 'es'} in ${src.file}`);
      for (const { b, entries } of chosen) {
        const label = entries[0].kind === 'main-bench' ? `${b.name} (in main)` : b.name;
        await runner.device();
        if (!opts.json) process.stdout.write(`bench ${label} ... `);
        // Each variant's runs: the bench itself, and for one in main the same program without it.
        const times: number[][] = [];
        let failure: Outcome | undefined;
        for (const entry of entries) {
          const t = await runner.time(src, entry, runs);
          if ('ok' in t) {
            failure = t;
            break;
          }
          times.push(t.ms);
        }
        if (failure) {
          results.push({ file: src.file, name: b.name, ok: false, runs, error: failure.error });
          if (!opts.json) console.log(`FAILED\n${failureReport(failure, src.file, src.source)}`);
          continue;
        }
        const [best, median] = [Math.min, medianOf].map((f) => Math.max(0, f(...times[0]) - (times[1] ? f(...times[1]) : 0)));
        results.push({ file: src.file, name: b.name, ok: true, best_ms: round(best), median_ms: round(median), runs });
        if (!opts.json) console.log(`${best.toFixed(3)} ms/run (best of ${runs}; median ${median.toFixed(3)} ms${times[1] ? '; less main before it' : ''})`);
      }
    }
  } finally {
    await runner.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  if (opts.json) console.log(JSON.stringify({ ok: failed === 0, benches: results }));
  else if (failed) console.log(`\nbench result: FAILED. ${failed} of ${results.length} failed`);
  return failed ? 1 : 0;
}

function readProgram(file: string): SourceFile {
  const source = readSource(file);
  return { file, source, program: parse(source, file) }; // a syntax error stops everything, located
}

/** Builds and runs block programs on one device, opening each model once. */
class BlockRunner {
  private gpu?: Gpu;
  private readonly models = new Map<string, Promise<ResolvedModel>>();

  constructor(private readonly opts: BlockRunOptions) {}

  /** Builds the entry's program and runs it once; a build or run error is a failed outcome. */
  async run(src: SourceFile, entry: Entry): Promise<Outcome> {
    let output = '';
    const t0 = performance.now();
    try {
      const program = await this.load(src, entry);
      try {
        await program.run({}, { write: (t) => (output += t), env: (n) => process.env[n] });
      } finally {
        program.destroy();
      }
      return { ok: true, ms: round(performance.now() - t0), output };
    } catch (e) {
      return { ok: false, ms: round(performance.now() - t0), output, error: errorText(e) };
    }
  }

  /** Builds the entry's program, runs it once untimed, then `runs` times: the wall time of each. */
  async time(src: SourceFile, entry: Entry, runs: number): Promise<{ ms: number[] } | Outcome> {
    let output = '';
    const io = { write: (t: string) => (output += t), env: (n: string) => process.env[n] };
    try {
      const program = await this.load(src, entry);
      try {
        await program.run({}, io); // pipelines compiled, buffers pooled
        const ms: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          await program.run({}, io);
          ms.push(performance.now() - t0);
        }
        return { ms };
      } finally {
        program.destroy();
      }
    } catch (e) {
      return { ok: false, ms: 0, output, error: errorText(e) };
    }
  }

  private async load(src: SourceFile, entry: Entry): Promise<Program> {
    // Only a block that loads a model needs one: tests of plain functions run without --model.
    const modelPath = loadsModel(withEntry(src.program, entry)) ? chooseModel(this.opts.model, src.source, src.file, (m) => process.stderr.write(`${m}\n`)) : undefined;
    const model = modelPath === undefined ? undefined : await this.model(modelPath);
    const artifact = build(src.source, src.file, infoOf(model), entry, readImport);
    return Program.load(await this.device(), artifact, model?.source, { file: model?.file, readText: (p) => readFile(p, 'utf8') });
  }

  async device(): Promise<Gpu> {
    return (this.gpu ??= await openNodeDevice());
  }

  private model(p: string): Promise<ResolvedModel> {
    let m = this.models.get(p);
    if (!m) this.models.set(p, (m = openModel(p)));
    return m;
  }

  async close(): Promise<void> {
    for (const m of this.models.values()) await (await m.catch(() => undefined))?.source.close?.();
    this.gpu?.device.destroy();
  }
}

const LOADERS = new Set(['load_model', 'load_model_f16', 'load_model_f32']);

/** Whether the program calls load_model (or a variant) anywhere: its functions included. */
function loadsModel(program: A.Program): boolean {
  const stack: unknown[] = [program];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== 'object') continue;
    const node = n as { kind?: string; callee?: A.Expr };
    if (node.kind === 'Call' && node.callee?.kind === 'Ident' && LOADERS.has(node.callee.name)) return true;
    for (const v of Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return false;
}

function errorText(e: unknown): string {
  if (e instanceof TlcError) return e.message;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * A failure, indented under its test: the error, the source line of its place (a run-time error
 * that starts with "file:line:col:" gets one as build errors have), then what the program printed.
 */
function failureReport(r: Outcome, file: string, source: string): string {
  let text = r.error ?? '';
  const m = /^(.+?):(\d+):(\d+): ([^]*)$/.exec(text);
  if (m && m[1] === file && !text.includes('\n')) {
    const span = { file, line: Number(m[2]), col: Number(m[3]), start: 0, end: 1 };
    text = formatDiagnostic({ message: m[4], span }, source);
  }
  const lines = text.split('\n');
  if (r.output) lines.push('--- output ---', ...r.output.replace(/\n$/, '').split('\n'));
  return lines.map((l) => `    ${l}`).join('\n');
}

function medianOf(...xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
