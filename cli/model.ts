// Finding the model for a build or a run: --model, the artifact's, the file the program names (its
// load_model argument evaluated before the run), or, for a program that names none, a small synthetic
// demo model with random weights (and a loud label).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from '../compiler/parse.ts';
import type * as A from '../compiler/ast.ts';
import { readGguf, type GgufFile } from '../runtime/gguf.ts';
import { bytesSource, type ByteSource } from '../runtime/bytes.ts';
import { fileSource } from '../runtime/node/file.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { TlcError } from '../runtime/errors.ts';
import { modelInfo, type ModelInfo } from '../compiler/model-info.ts';
import { errnoWords, requireFile } from './files.ts';
import { isHubRef, modelFromHub } from './hub.ts';

export const DEMO_MODEL = '<demo: synthetic random weights>';

export interface ResolvedModel {
  path: string;
  source: ByteSource;
  file: GgufFile;
  demo: boolean;
}

export async function openModel(p: string): Promise<ResolvedModel>;
export async function openModel(p: string | undefined): Promise<ResolvedModel | undefined>;
export async function openModel(p: string | undefined): Promise<ResolvedModel | undefined> {
  if (p === undefined) return undefined;
  if (p === DEMO_MODEL) {
    const source = bytesSource(synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 256, seed: 7, name: 'tlc demo (random weights)' }), DEMO_MODEL);
    return { path: p, source, file: await readGguf(source), demo: true };
  }
  if (isHubRef(p)) p = await modelFromHub(p); // hf:OWNER/REPO/FILE.gguf: the file in the cache, downloaded when missing
  if (!existsSync(p)) throw new TlcError(`The model file ${p} does not exist.`);
  requireFile(p, 'the model'); // a directory or a FIFO: an error, never a hang at open
  let source: ByteSource;
  try {
    source = await fileSource(p);
  } catch (e) {
    throw new TlcError(`${p}: cannot open the model: ${errnoWords(e)}.`);
  }
  return { path: p, source, file: await readGguf(source), demo: false };
}

/** What the compiler needs of a model (its path as the artifact will record it). */
export function infoOf(model: ResolvedModel | undefined): ModelInfo | undefined {
  return model && { ...modelInfo(model.file), path: model.demo ? model.path : path.resolve(model.path) };
}

/** The header of the model at `p`, read and closed again: all a build needs. */
export async function modelInfoAt(p: string | undefined): Promise<ModelInfo | undefined> {
  const model = await openModel(p);
  await model?.source.close?.();
  return infoOf(model);
}

export { argPairs } from './params.ts'; // `--arg name=value` options as { name: value }

/** The builtins that open a model file; their first argument is the path. */
const LOADERS = new Set(['load_model', 'load_model_f16', 'load_model_f32']);

/** What a program says about its model, found before it runs (see programModel). */
export type ProgramModel =
  | { kind: 'none' } // it calls no load_model: a program without a model
  | { kind: 'unnamed'; why: string } // load_model(arg("model")) with nothing given: it names no file
  | { kind: 'file'; path: string; exists: boolean; value: string; how: string; tried: string[]; at: string }
  | { kind: 'unknown'; why: string; at: string }; // the path is known only when the program runs

/** A value computed before the run, with how it was computed (`$HOME/.llm/x.gguf`), or why it cannot be. */
type Const = { value: string | number | null; how: string } | { why: string };
interface Scope {
  vars: Map<string, Const>;
  up?: Scope;
}
interface ConstContext {
  source: string;
  args: Record<string, unknown>;
}

const where = (span: A.Span) => `${span.file}:${span.line}:${span.col}`;
const scopeOf = (scope: Scope | undefined, name: string): Scope | undefined => {
  for (let s = scope; s; s = s.up) if (s.vars.has(name)) return s;
  return undefined;
};

/**
 * The value of a model-path expression before the program runs. It accepts string and number
 * literals; `a + b` (numbers add, anything else concatenates as text); env("NAME") and
 * env("NAME", default) from this process's environment (unset and no default: ""); arg("name") and
 * arg("name", default): the value given on the command line (--arg name=value, --model for "model"),
 * else the default, else null (no value); and names bound by `let` to such expressions, as `scope`
 * holds them. Anything else is a run-time value: `{ why }` says what and where.
 */
function constValue(e: A.Expr, scope: Scope, cx: ConstContext): Const {
  const runtime = (): Const => ({ why: `\`${cx.source.slice(e.span.start, e.span.end)}\` (${where(e.span)}) is computed when the program runs` });
  const text = (x: A.Expr | undefined): string | Const => {
    const c = x ? constValue(x, scope, cx) : runtime();
    return 'why' in c ? c : typeof c.value === 'string' ? c.value : runtime();
  };
  switch (e.kind) {
    case 'Lit':
      if (e.type === 'string') return { value: e.value, how: e.value };
      if (e.type === 'int' || e.type === 'float') return { value: e.value, how: e.text };
      return runtime();
    case 'Ident': {
      const s = scopeOf(scope, e.name);
      return s ? s.vars.get(e.name)! : { why: `\`${e.name}\` (${where(e.span)}) is not a \`let\` variable` };
    }
    case 'Binary': {
      if (e.op !== '+') return runtime();
      // a + b + c ... left to right, with a loop (a chain can be thousands long)
      const terms: A.Expr[] = [];
      let x: A.Expr = e;
      for (; x.kind === 'Binary' && x.op === '+'; x = x.left) terms.push(x.right);
      terms.push(x);
      terms.reverse();
      let acc: Const | undefined;
      for (const term of terms) {
        const c = constValue(term, scope, cx);
        if ('why' in c) return c;
        if (c.value === null) return { why: `\`${cx.source.slice(term.span.start, term.span.end)}\` (${where(term.span)}) has no value: give it with --arg` };
        if (!acc || 'why' in acc) acc = c;
        else if (typeof acc.value === 'number' && typeof c.value === 'number') acc = { value: acc.value + c.value, how: String(acc.value + c.value) };
        else acc = { value: `${acc.value}${c.value}`, how: acc.how + c.how };
      }
      return acc!;
    }
    case 'Call': {
      if (e.callee.kind !== 'Ident' || (e.callee.name !== 'env' && e.callee.name !== 'arg')) return runtime();
      const name = text(e.args[0]);
      if (typeof name !== 'string') return name;
      if (e.callee.name === 'env') {
        const v = process.env[name];
        if (v !== undefined) return { value: v, how: `$${name}` };
        return e.args[1] ? constValue(e.args[1], scope, cx) : { value: '', how: `$${name}` };
      }
      const given = cx.args[name];
      if (typeof given === 'string' || typeof given === 'number') return { value: given, how: String(given) };
      return e.args[1] ? constValue(e.args[1], scope, cx) : { value: null, how: `arg("${name}")` };
    }
    default:
      return runtime();
  }
}

/**
 * The model a program loads, as far as it can be told before it runs: the first load_model(PATH)
 * (or load_model_f16/f32), with PATH evaluated by constValue, following names to their `let` in the
 * enclosing blocks, function and top level. `args` are the run's --arg values (and --model as "model").
 * A relative path is relative to the program's directory; when no file is there but one is in the
 * current directory, that one.
 */
export function programModel(source: string, file: string, args: Record<string, unknown> = {}): ProgramModel {
  const program = parse(source, file);
  const cx: ConstContext = { source, args };
  let found: { call: A.Call; path: Const } | undefined;
  const walk = (node: unknown, scope: Scope): void => {
    if (found || !node || typeof node !== 'object') return;
    const n = node as A.Node;
    switch (n.kind) {
      case 'Call':
        if (n.callee.kind === 'Ident' && LOADERS.has(n.callee.name)) {
          found = { call: n, path: n.args[0] ? constValue(n.args[0], scope, cx) : { why: 'it has no argument' } };
          return;
        }
        break;
      case 'Binary':
      case 'Cast': {
        // Long chains (`1 + 1 + ... + 1`) are thousands deep: walk their spine with a loop.
        const rest: A.Expr[] = [];
        let x: A.Expr = n;
        for (; x.kind === 'Binary' || x.kind === 'Cast'; x = x.kind === 'Binary' ? x.left : x.expr) if (x.kind === 'Binary') rest.push(x.right);
        walk(x, scope);
        for (const r of rest.reverse()) walk(r, scope);
        return;
      }
      case 'Block': {
        const inner: Scope = { vars: new Map(), up: scope };
        for (const s of n.stmts) walk(s, inner);
        return walk(n.tail, inner);
      }
      case 'Let':
        walk(n.init, scope);
        scope.vars.set(n.name, n.init ? constValue(n.init, scope, cx) : { why: `\`${n.name}\` (${where(n.span)}) has no value` });
        return;
      case 'LetTuple':
        walk(n.init, scope);
        for (const name of n.names) scope.vars.set(name, { why: `\`${name}\` (${where(n.span)}) comes out of a tuple` });
        return;
      case 'Assign': {
        walk(n.value, scope);
        if (n.target.kind !== 'Ident') return;
        const name = n.target.name, s = scopeOf(scope, name) ?? scope;
        // In the block of its `let`, `x = e` and `x += e` are one more step; in a nested block (if, loop) they may not run.
        const step: A.Expr | undefined =
          s !== scope ? undefined
          : n.op === '=' || n.op === ':=' ? n.value
          : n.op === '+=' ? { kind: 'Binary', op: '+', left: n.target, right: n.value, span: n.span }
          : undefined;
        s.vars.set(name, step ? constValue(step, scope, cx) : { why: `\`${name}\` changes at ${where(n.span)}` });
        return;
      }
      case 'FnDecl':
        return walk(n.body, { vars: new Map(n.params.map((p) => [p.name, { why: `\`${p.name}\` is a parameter of fn ${n.name}` }])), up: scope });
      case 'For':
        walk(n.iter, scope);
        return walk(n.body, { vars: new Map([[n.var, { why: `\`${n.var}\` is a loop variable (${where(n.span)})` }]]), up: scope });
    }
    for (const v of Object.values(n)) if (v && typeof v === 'object') walk(v, scope);
  };
  const top: Scope = { vars: new Map() };
  for (const item of program.items) if (item.kind === 'Let' && item.init) top.vars.set(item.name, constValue(item.init, top, cx)); // seen by every fn and main
  walk(program, top);

  const load = found as { call: A.Call; path: Const } | undefined; // (set inside walk)
  if (!load) return { kind: 'none' };
  const at = where(load.call.span);
  const c = load.path;
  if ('why' in c) return { kind: 'unknown', why: c.why, at };
  if (c.value === null || c.value === '') return { kind: 'unnamed', why: c.value === null ? `${c.how} is not given and has no default` : `its path ${c.how} is empty` };
  const p = String(c.value);
  const tried = path.isAbsolute(p) ? [p] : [...new Set([path.resolve(path.dirname(file), p), path.resolve(p)])];
  const hit = tried.find((t) => existsSync(t));
  return { kind: 'file', path: hit ?? tried[0], exists: hit !== undefined, value: p, how: c.how, tried, at };
}

/**
 * The model to build or run with: --model when given; else the file the program names (evaluated
 * here, with this process's environment and `args`), which must exist; else, for a program that
 * names no file (load_model(arg("model")) with nothing given), the demo model, with a loud notice.
 * Undefined for a program that loads no model. A missing file or a path known only at run time is a
 * TlcError that says what was tried and suggests --model.
 */
export function chooseModel(given: string | undefined, source: string, file: string, say: (msg: string) => void, args: Record<string, unknown> = {}): string | undefined {
  if (given) return given;
  const m = programModel(source, file, args);
  switch (m.kind) {
    case 'none':
      return undefined;
    case 'unnamed':
      say(`tlc: no model given (--model) and the program names none (${m.why}); using a small synthetic demo model with RANDOM weights: its text is noise.`);
      return DEMO_MODEL;
    case 'unknown':
      throw new TlcError(`${m.at}: cannot tell which model file the program loads before it runs: ${m.why}. Give the model with --model MODEL.gguf.`);
    case 'file': {
      if (isHubRef(m.value)) return m.value; // load_model("hf:..."): opened (and downloaded) by openModel
      if (m.exists) return m.path;
      const named = m.how !== m.value ? `${m.value} (${m.how})` : m.value;
      const tried = m.tried.length > 1 ? `: not beside the program (${m.tried[0]}) nor in the current directory (${m.tried[1]})` : m.tried[0] !== m.value ? ` (${m.tried[0]})` : '';
      throw new TlcError(`${m.at}: the model file ${named} does not exist${tried}. Put the model there or give one with --model MODEL.gguf.`);
    }
  }
}
