// The whole compiler, as a list of named passes: parse -> lower -> graph passes.
import { parse } from './parse.ts';
import { DiagnosticError } from './diagnostics.ts';
import type { IR } from './ir.ts';
import type { ModelInfo } from './model-info.ts';
import { Lowerer } from './lower/stage.ts';
import { CompileError } from './lower/values.ts';
import { PASSES } from './passes/index.ts';
import { checkLimits, type DeviceLimits } from './passes/check-limits.ts';
import type { Span } from './ast.ts';
import { withEntry, type Entry } from './lower/blocks.ts';
import { withImports, type ReadSource } from './imports.ts';

export interface CompileOptions {
  model?: ModelInfo;
  /** Skip the optimizing passes (tests of the lowering itself). */
  noPasses?: boolean;
  /** The adapter's limits, when the build knows them; otherwise WebGPU's defaults. */
  limits?: DeviceLimits;
  /** Run this test or bench block as the program's main (`tlc test`, `tlc bench FILE.tl`). */
  entry?: Entry;
  /** Reads the files the program imports (paths beside the importing file); without it an import is an error. */
  readSource?: ReadSource;
}

export function compile(source: string, file: string, opts: CompileOptions = {}): IR {
  const { program: parsed, sources } = withImports(parse(source, file), source, opts.readSource);
  const program = opts.entry ? withEntry(parsed, opts.entry) : parsed;
  const textOf = (file: string) => sources.get(file) ?? source; // a span may be in an imported file
  let ir: IR;
  try {
    ir = new Lowerer({ model: opts.model }).lowerProgram(program);
  } catch (e) {
    if (e instanceof CompileError && e.span) throw new DiagnosticError([{ message: e.message, span: e.span }], textOf(e.span.file));
    if (e instanceof CompileError) throw new DiagnosticError([{ message: e.message, span: program.span }], source);
    throw e;
  }
  if (!opts.noPasses) for (const pass of PASSES) ir = pass.run(ir);
  const tooBig = checkLimits(ir, opts.limits);
  if (tooBig) {
    const span = spanAt(tooBig.at, textOf, program.span);
    throw new DiagnosticError([{ message: tooBig.message, span }], textOf(span.file));
  }
  return ir;
}

/** The span of a node's "file:line:col" in that file's source (one character), or the fallback. */
function spanAt(at: string | undefined, textOf: (file: string) => string, fallback: Span): Span {
  const m = at ? /^(.*):(\d+):(\d+)$/.exec(at) : null;
  if (!m) return fallback;
  const source = textOf(m[1]);
  const [line, col] = [Number(m[2]), Number(m[3])];
  let start = 0;
  for (let l = 1; l < line; l++) start = source.indexOf('\n', start) + 1;
  return { file: m[1], line, col, start: start + col - 1, end: start + col };
}
