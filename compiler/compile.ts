// The whole compiler, as a list of named passes: parse -> lower -> graph passes.
import { parse } from './parse.ts';
import { DiagnosticError } from './diagnostics.ts';
import type { IR } from './ir.ts';
import type { ModelInfo } from './model-info.ts';
import { Lowerer } from './lower/stage.ts';
import { CompileError } from './lower/values.ts';
import { PASSES } from './passes/index.ts';

export interface CompileOptions {
  model?: ModelInfo;
  /** Skip the optimizing passes (tests of the lowering itself). */
  noPasses?: boolean;
}

export function compile(source: string, file: string, opts: CompileOptions = {}): IR {
  const program = parse(source, file);
  let ir: IR;
  try {
    ir = new Lowerer({ model: opts.model }).lowerProgram(program);
  } catch (e) {
    if (e instanceof CompileError && e.span) throw new DiagnosticError([{ message: e.message, span: e.span }], source);
    if (e instanceof CompileError) throw new DiagnosticError([{ message: e.message, span: program.span }], source);
    throw e;
  }
  if (!opts.noPasses) for (const pass of PASSES) ir = pass.run(ir);
  return ir;
}
