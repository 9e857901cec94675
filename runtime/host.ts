// The host-program interpreter: runs a compiled program's control flow, strings and token lists,
// and hands each graph run to the device executor (HostEnv.runGraph).
//
// Evaluation is synchronous; only graph runs (and loading a tokenizer file) wait. A block runs
// statement by statement without awaiting until one of them returns a promise, so the per-token
// loop costs one await per graph run, not one per statement.
import { Template } from '@huggingface/jinja';
import type { HostExpr, HostStmt, HostValue } from '../compiler/ir.ts';
import { logicAnswers } from './logic-answers.ts';
import { TlcError } from './errors.ts';
import { ASSERTIONS } from './assertions.ts';
import { DeviceValue } from './device-value.ts';
import { forEachStmt, forEachSubExpr, ownExprs } from '../compiler/ir-walk.ts';
import type { Tokenizer } from './tokenizer/index.ts';

export interface HostEnv {
  /** The device executor: runs a graph with its symbolic dims bound; inputs are token-id lists ('ids') and numbers ('scalar'). */
  runGraph(graph: number, dims: Record<string, number>, inputs: GraphInputValue[], live: () => Iterable<Value>): Promise<void>;
  /** An output of the last run of that graph: a value read back, or a device value. */
  readOutput(graph: number, output: number): number | number[] | DeviceValue;
  /** Run-time parameters for `arg(name, default)`; strings are coerced to the default's type. */
  args: Record<string, HostValue>;
  /** The model's own tokenizer, for `load_tokenizer(model)`. */
  tokenizer(): Tokenizer;
  /** A tokenizer.json file (Node reads it, the browser fetches it). */
  loadTokenizer(path: string): Promise<Tokenizer>;
  /** The model's chat template (GGUF tokenizer.chat_template), for chat_prompt. */
  chatTemplate?: string;
  /** Program output (print, write), streamed. */
  write(text: string): void;
  env(name: string): string | undefined;
  /** Uniform in [0, 1) from the run's seeded Rng. */
  random(): number;
  /** Checked between statements and after each graph run. */
  signal?: AbortSignal;
}

/** Thrown when env.signal asks the program to stop. */
export class StoppedError extends TlcError {
  override name = 'StoppedError';
  constructor() {
    super('stopped');
  }
}

/** What a host variable holds at run time: a HostValue, a tokenizer, or a tensor on the device. */
export type Value = number | string | boolean | null | Value[] | Tokenizer | DeviceValue;
export type GraphInputValue = number | number[] | DeviceValue;

export async function runHost(host: HostStmt[], env: HostEnv): Promise<void> {
  await new Interpreter(env, host).block(host);
}

// What a statement tells the loop around it.
type Flow = 0 | 1 | 2;
const NEXT = 0, BREAK = 1, CONTINUE = 2;
const YIELD_EVERY = 1 << 16; // loop iterations between two turns of the event loop

class Interpreter {
  private readonly vars = new Map<string, Value>();
  private modelTokenizer?: Tokenizer;
  private readonly loaded = new Map<string, Tokenizer>(); // load_tokenizer(path), by path
  private readonly loading = new Set<HostStmt>(); // statements that call load_tokenizer
  private readonly streams = new Map<Tokenizer, TextStream>();
  private readonly templates = new Map<string, Template>();

  constructor(private readonly env: HostEnv, host: HostStmt[]) {
    forEachStmt(host, (s) => ownExprs(s).some((e) => calls(e, 'load_tokenizer')) && this.loading.add(s));
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

  block(stmts: HostStmt[], from = 0): Flow | Promise<Flow> {
    for (let i = from; i < stmts.length; i++) {
      this.checkStop();
      const s = stmts[i];
      const f = this.loading.has(s) ? this.loadThenExec(s) : this.exec(s);
      if (typeof f !== 'number') return f.then((f) => (f === NEXT ? this.block(stmts, i + 1) : f));
      if (f !== NEXT) return f;
    }
    return NEXT;
  }

  private exec(s: HostStmt): Flow | Promise<Flow> {
    switch (s.k) {
      case 'let':
        this.vars.set(s.name, this.eval(s.value));
        return NEXT;
      case 'set':
        if (!this.vars.has(s.name)) throw new Error(`host program: '${s.name}' is assigned before it is defined`);
        this.vars.set(s.name, this.eval(s.value));
        return NEXT;
      case 'print': {
        let text = '';
        for (let i = 0; i < s.args.length; i++) text += (i ? ' ' : '') + show(this.eval(s.args[i]));
        this.env.write(text + s.end);
        return NEXT;
      }
      case 'if':
        return this.block(truthy(this.eval(s.cond)) ? s.then : s.else);
      case 'for':
        return this.forLoop(s);
      case 'while':
        return this.whileLoop(s);
      case 'break':
        return BREAK;
      case 'continue':
        return CONTINUE;
      case 'panic':
        throw new TlcError(`${s.at}: panic: ${show(this.eval(s.message))}`);
      case 'run':
        return this.run(s);
    }
  }

  private async forLoop(s: Extract<HostStmt, { k: 'for' }>): Promise<Flow> {
    const start = loopBound(this.eval(s.start)), end = loopBound(this.eval(s.end)); // evaluated once
    for (let i = start, n = 1; i < end; i++, n++) {
      this.vars.set(s.var, i);
      let f = this.block(s.body);
      if (typeof f !== 'number') f = await f;
      if (f === BREAK) break;
      if (n % YIELD_EVERY === 0) await this.yield();
    }
    return NEXT;
  }

  private async whileLoop(s: Extract<HostStmt, { k: 'while' }>): Promise<Flow> {
    for (let n = 1; truthy(this.eval(s.cond)); n++) {
      let f = this.block(s.body);
      if (typeof f !== 'number') f = await f;
      if (f === BREAK) break;
      if (n % YIELD_EVERY === 0) await this.yield();
    }
    return NEXT;
  }

  /**
   * Lets the event loop run (a Ctrl-C, a Stop button) in a long loop of host statements: awaiting
   * settled promises never does, so a loop whose break never comes could not be stopped otherwise.
   */
  private async yield(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.checkStop();
  }

  private async run(s: Extract<HostStmt, { k: 'run' }>): Promise<Flow> {
    const dims: Record<string, number> = {};
    for (const name in s.dims) {
      const v = this.eval(s.dims[name]);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TlcError(`graph ${s.graph}: its size ${name} must be a whole number, got ${describe(v)}`);
      dims[name] = v;
    }
    const inputs = s.inputs.map((e, i) => graphInput(this.eval(e), s.graph, i));
    await this.env.runGraph(s.graph, dims, inputs, () => this.vars.values());
    this.checkStop();
    return NEXT;
  }

  /** A statement that calls load_tokenizer: load the file first, so evaluation stays synchronous. */
  private async loadThenExec(s: HostStmt): Promise<Flow> {
    const found: HostExpr[] = [];
    for (const e of ownExprs(s)) calls(e, 'load_tokenizer', found);
    for (const call of found) {
      const path = this.path(call);
      if (!this.loaded.has(path)) this.loaded.set(path, await this.env.loadTokenizer(path));
    }
    return this.exec(s);
  }

  private checkStop(): void {
    if (this.env.signal?.aborted) throw new StoppedError();
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  eval(e: HostExpr): Value {
    switch (e.k) {
      case 'const':
        return e.value;
      case 'var': {
        const v = this.vars.get(e.name);
        if (v === undefined) throw new Error(`host program: '${e.name}' is read before it is defined`);
        return v;
      }
      case 'arg':
        return argValue(e.name, this.env.args[e.name], e.default);
      case 'op':
        return this.op(e.op, e.args);
      case 'call':
        return this.call(e);
      case 'list':
        return e.items.map((x) => this.eval(x));
      case 'index':
        return index(this.eval(e.target), this.eval(e.index));
      case 'out':
        return this.env.readOutput(e.graph, e.output);
    }
  }

  private op(op: string, args: HostExpr[]): Value {
    // && and || evaluate their right side only when needed.
    if (op === '&&') return truthy(this.eval(args[0])) && truthy(this.eval(args[1]));
    if (op === '||') return truthy(this.eval(args[0])) || truthy(this.eval(args[1]));
    if (args.length === 1) return unaryOp(op, this.eval(args[0]));
    return binaryOp(op, this.eval(args[0]), this.eval(args[1]));
  }

  private call(e: Extract<HostExpr, { k: 'call' }>): Value {
    const a = e.args.map((x) => this.eval(x));
    const fn = e.fn;
    switch (fn) {
      case 'len':
        if (typeof a[0] === 'string' || Array.isArray(a[0])) return a[0].length;
        if (a[0] instanceof DeviceValue) return a[0].shape[0] ?? 1;
        throw new TlcError(`len: expected a list or a string, got ${describe(a[0])}`);
      case 'append': {
        const xs = list(a[0], fn).slice(); // a new list: the old one may still be a graph's input
        xs.push(a[1]);
        return xs;
      }
      case 'concat':
        if (Array.isArray(a[0]) && Array.isArray(a[1])) return a[0].concat(a[1]);
        return show(a[0]) + show(a[1]);
      case 'str':
      case 'int':
      case 'float':
        return unaryOp(fn, a[0]);
      case 'ids': // token ids: a list of them, or one
        return typeof a[0] === 'number' ? [a[0]] : tokenIds(a[0], 'embedding');
      case 'dim': // a size of a device value: dim(x, axis)
        if (a[0] instanceof DeviceValue && typeof a[1] === 'number') return a[0].shape[a[1]];
        throw new TlcError(`dim: expected a tensor, got ${describe(a[0])}`);
      case 'env':
        return this.env.env(text(a[0], fn, 'the name')) ?? (a.length > 1 ? a[1] : '');
      case 'arg': { // arg(name, default) whose default is known only at run time
        const name = text(a[0], fn, 'the name');
        return argValue(name, this.env.args[name], a[1] as HostValue);
      }
      case 'select': // `if c then a else b` on run-time values
        return truthy(a[0] as HostValue) ? a[1] : a[2];
      case 'random':
        return this.env.random();
      case 'string_length':
        return stringLength(a[0]);
      case 'string_substring':
        return substring(a[0], a[1], a[2]);
      case 'top_k_text':
        return topKText(a[0], a[1]);
      case 'abs': case 'floor': case 'ceil': case 'round': case 'sin': case 'cos': case 'tan': case 'min': case 'max':
        return numberFunction(fn, a);
      case 'model_tokenizer':
        return (this.modelTokenizer ??= this.env.tokenizer());
      case 'load_tokenizer':
        return this.loaded.get(this.path(e))!; // loaded by loadThenExec
      case 'tokenize': {
        const bos = a[2] === null || a[2] === undefined ? undefined : truthy(a[2]);
        return tokenizer(a[0], fn).encode(text(a[1], fn, 'the text'), { addBos: bos, parseSpecial: true });
      }
      case 'detokenize':
        return tokenizer(a[0], fn).decode(tokenIds(a[1], fn), { skipSpecial: truthy(a[2] ?? false) });
      case 'token_text':
        return this.stream(tokenizer(a[0], fn)).next(tokenId(a[1], fn));
      case 'logic_answers':
        return logicAnswers(a[0], a[1], a[2]);
      case 'chat_prompt':
        return this.chatPrompt(tokenizer(a[0], fn), text(a[1], fn, 'the user message'), a[2] == null ? '' : text(a[2], fn, 'the system message'));
    }
    if (ASSERTIONS.has(fn)) return ASSERTIONS.get(fn)!(a); // assert, assert_eq, assert_about_eq (runtime/assertions.ts)
    throw new TlcError(`the program calls the host function '${fn}', which this runtime does not have`);
  }

  private path(call: HostExpr): string {
    return text(this.eval((call as Extract<HostExpr, { k: 'call' }>).args[0]), 'load_tokenizer', 'the path');
  }

  private stream(tok: Tokenizer): TextStream {
    let s = this.streams.get(tok);
    if (!s) this.streams.set(tok, (s = textStream(tok)));
    return s;
  }

  /** The model's chat template applied to [system?, user], ending where the assistant's answer begins. */
  private chatPrompt(tok: Tokenizer, user: string, system: string): string {
    const source = (tok as { chatTemplate?: unknown }).chatTemplate ?? this.env.chatTemplate;
    if (typeof source !== 'string') throw new TlcError('chat_prompt: the model has no chat template (GGUF key tokenizer.chat_template)');
    let template = this.templates.get(source);
    try {
      if (!template) this.templates.set(source, (template = new Template(source)));
      const messages = [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: user }];
      return template.render({ messages, add_generation_prompt: true, bos_token: specialText(tok, tok.bos), eos_token: specialText(tok, tok.eos) });
    } catch (e) {
      throw new TlcError(`chat_prompt: the model's chat template failed: ${(e as Error).message}`);
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Streaming token text

interface TextStream {
  next(id: number): string;
}

/** A GGUF tokenizer (LlamaTokenizer) gives each token's bytes; other tokenizers only text. */
interface ByteTokenizer extends Tokenizer {
  pieceBytes(id: number, special: boolean): Uint8Array;
}

/**
 * The text each generated token adds, leading space kept. Byte-fallback tokens (`<0xE2>` `<0x82>`
 * `<0xAC>` for "€") show nothing until their character is complete. Control tokens (EOS) show nothing.
 */
function textStream(tok: Tokenizer): TextStream {
  if (typeof (tok as ByteTokenizer).pieceBytes === 'function') {
    // Each token's own bytes through a streaming UTF-8 decoder, which keeps a partial character.
    const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
    return { next: (id) => utf8.decode((tok as ByteTokenizer).pieceBytes(id, false), { stream: true }) };
  }
  // Otherwise decode the new tokens after the ones shown last (or BOS), and keep what that adds:
  // the context stops SentencePiece decoders from dropping a leading space.
  const opts = { skipSpecial: true };
  let context = tok.bos >= 0 ? [tok.bos] : [];
  let pending: number[] = [];
  return {
    next(id) {
      pending.push(id);
      const before = tok.decode(context, opts), after = tok.decode(context.concat(pending), opts);
      if (after.endsWith('\uFFFD') && pending.length < 4) return ''; // a UTF-8 character still missing bytes
      const added = after.startsWith(before) ? after.slice(before.length) : tok.decode(pending, opts);
      context = pending;
      pending = [];
      return added;
    },
  };
}

function specialText(tok: Tokenizer, id: number): string {
  if (id < 0) return '';
  return tok.decodePiece ? tok.decodePiece(id) : tok.decode([id]);
}

// -----------------------------------------------------------------------------------------------
// Values

/** How print shows a value: numbers as JS does, lists as [1, 2, 3]. */
export function show(v: Value): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : show(x))).join(', ')}]`;
  if (v === null) return 'null';
  if (v instanceof DeviceValue) return v.toString();
  if (typeof v === 'object') return `<${v.kind} tokenizer>`;
  return String(v);
}

function describe(v: Value | undefined): string {
  if (v === undefined || v === null) return 'nothing';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof DeviceValue) return `a tensor of shape [${v.shape.join(', ')}]`;
  if (typeof v === 'object') return 'a tokenizer';
  return `the ${typeof v} ${String(v)}`;
}

export function truthy(v: Value): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

function isTokenizer(v: Value | undefined): v is Tokenizer {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof DeviceValue);
}

function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
  return true;
}

/**
 * A binary operator on host values: the same rules at build time (folding) and at run time.
 * `idiv` divides two integers as the original does (truncating toward zero, as i64 `/` in Rust);
 * `div_auto` does so when both values are whole, and is `/` otherwise (the compiler emits it when
 * it cannot tell the types apart; see compiler/lower/numbers.ts). `%` keeps the dividend's sign,
 * as in Rust. Dividing by zero is an error, as in the original.
 */
export function binaryOp(op: string, a: Value, b: Value): Value {
  if (op === '==') return equal(a, b);
  if (op === '!=') return !equal(a, b);
  if (typeof a === 'number' && typeof b === 'number') {
    if (b === 0 && (op === 'idiv' || op === '%' || (op === 'div_auto' && Number.isInteger(a)))) throw new TlcError(`division by zero: ${a} ${op === '%' ? '%' : '/'} 0`);
    switch (op) {
      case '+': return a + b;
      case '-': return a - b;
      case '*': case '⊙': return a * b;
      case '/': return a / b;
      case 'idiv': return Math.trunc(a / b);
      case 'div_auto': return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
      case '%': return a % b;
      case '**': return a ** b;
      case '<': return a < b;
      case '<=': return a <= b;
      case '>': return a > b;
      case '>=': return a >= b;
    }
  } else if (op === '+' && (typeof a === 'string' || typeof b === 'string')) {
    return show(a) + show(b);
  } else if (op === '*' && (typeof a === 'string' || typeof b === 'string')) {
    return repeat(a, b);
  } else if (op === '+' && Array.isArray(a) && Array.isArray(b)) {
    return a.concat(b);
  } else if (typeof a === 'string' && typeof b === 'string') {
    switch (op) {
      case '<': return a < b;
      case '<=': return a <= b;
      case '>': return a > b;
      case '>=': return a >= b;
    }
  }
  throw new TlcError(`operator ${op} does not apply to ${describe(a)} and ${describe(b)}`);
}

/** `"=" * 70` (and `70 * "="`): the string repeated; a count must be a whole number >= 0. */
function repeat(a: Value, b: Value): string {
  const [s, n] = typeof a === 'string' ? [a, b] : [b, a];
  if (typeof s !== 'string' || typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n * s.length > 1 << 24) {
    throw new TlcError(`operator * does not apply to ${describe(a)} and ${describe(b)} (a string repeats a whole number of times, 0 or more)`);
  }
  return s.repeat(n);
}

/**
 * print_top_k's text: the k largest values of a row (read back from the device) with their indices,
 * largest first (equal values in index order), as the original prints them: a title line, then one
 * line per value, `        [{index:>5}] = {value:>10.4}`.
 */
export function topKText(values: Value, k: Value): string {
  const xs = typeof values === 'number' ? [values] : values;
  if (!Array.isArray(xs) || !xs.every((x): x is number => typeof x === 'number')) throw new TlcError(`print_top_k: expected a tensor, got ${describe(values)}`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) throw new TlcError(`print_top_k: k must be a whole number >= 0, got ${describe(k)}`);
  const order = xs.map((_, i) => i).sort((i, j) => (xs[j] > xs[i] ? 1 : xs[j] < xs[i] ? -1 : 0));
  const fixed = (x: number) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Object.is(x, -0) ? '-0.0000' : x.toFixed(4));
  const lines = [`      Top ${k} logits:`];
  for (const i of order.slice(0, k)) lines.push(`        [${String(i).padStart(5)}] = ${fixed(xs[i]).padStart(10)}`);
  return lines.join('\n');
}

/** string_length(s): its length in UTF-8 bytes, as the original (Rust's str::len) counts it. */
export function stringLength(s: Value): number {
  return new TextEncoder().encode(text(s, 'string_length', 'the argument')).length;
}

/** string_substring(s, start, length): `length` characters from character `start`. */
export function substring(s: Value, start: Value, length: Value): string {
  const chars = [...text(s, 'string_substring', 'the text')];
  const whole = (v: Value, what: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TlcError(`string_substring: ${what} must be a whole number >= 0, got ${describe(v)}`);
    return v;
  };
  const from = whole(start, 'the start');
  return chars.slice(from, from + whole(length, 'the length')).join('');
}

/** Functions of numbers: floor, ceil and round give integers (round: halves away from zero, as Rust). */
function numberFunction(fn: string, a: Value[]): number {
  const xs = a.map((x) => {
    if (typeof x !== 'number') throw new TlcError(`${fn}: expected a number, got ${describe(x)}`);
    return x;
  });
  switch (fn) {
    case 'abs': return Math.abs(xs[0]);
    case 'floor': return Math.floor(xs[0]);
    case 'ceil': return Math.ceil(xs[0]);
    case 'round': return Math.sign(xs[0]) * Math.round(Math.abs(xs[0]));
    case 'sin': return Math.sin(xs[0]);
    case 'cos': return Math.cos(xs[0]);
    case 'tan': return Math.tan(xs[0]);
    case 'min': return Math.min(xs[0], xs[1]);
    default: return Math.max(xs[0], xs[1]);
  }
}

function unaryOp(op: string, a: Value): Value {
  switch (op) {
    case '!':
      return !truthy(a);
    case 'neg':
      if (typeof a === 'number') return -a;
      break;
    case 'int':
      return Math.trunc(toNumber(a, op));
    case 'float':
      return toNumber(a, op);
    case 'str':
      return show(a);
  }
  throw new TlcError(`operator ${op === 'neg' ? '-' : op} does not apply to ${describe(a)}`);
}

function toNumber(v: Value, fn: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new TlcError(`${fn}: cannot make a number of ${describe(v)}`);
}

/** x[i] on a list or a string; a negative index counts from the end. */
function index(target: Value, i: Value): Value {
  if (!Array.isArray(target) && typeof target !== 'string') throw new TlcError(`cannot index ${describe(target)}`);
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new TlcError(`an index must be a whole number, got ${describe(i)}`);
  const k = i < 0 ? target.length + i : i;
  if (k < 0 || k >= target.length) throw new TlcError(`index ${i} is out of range for ${describe(target)}`);
  return target[k];
}

function loopBound(v: Value): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TlcError(`a loop bound must be a number, got ${describe(v)}`);
  return v;
}

function graphInput(v: Value, graph: number, i: number): GraphInputValue {
  if (typeof v === 'number' || v instanceof DeviceValue) return v;
  if (typeof v === 'boolean') return Number(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw new TlcError(`graph ${graph}: input ${i} must be a number or a list of token ids, got ${describe(v)}`);
}

function list(v: Value, fn: string): Value[] {
  if (Array.isArray(v)) return v;
  throw new TlcError(`${fn}: expected a list, got ${describe(v)}`);
}

function text(v: Value, fn: string, what: string): string {
  if (typeof v === 'string') return v;
  throw new TlcError(`${fn}: ${what} must be a string, got ${describe(v)}`);
}

function tokenizer(v: Value, fn: string): Tokenizer {
  if (isTokenizer(v)) return v;
  throw new TlcError(`${fn}: expected a tokenizer (load_tokenizer(model) or load_tokenizer("tokenizer.json")), got ${describe(v)}`);
}

function tokenId(v: Value, fn: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new TlcError(`${fn}: expected a token id, got ${describe(v)}`);
}

function tokenIds(v: Value, fn: string): number[] {
  const xs = list(v, fn);
  for (const x of xs) tokenId(x, fn);
  return xs as number[];
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

/** `arg(name, default)`: the given value, a string coerced to the default's type. */
export function argValue(name: string, given: HostValue | undefined, dflt: HostValue): HostValue {
  if (given === undefined) return dflt;
  if (typeof given !== 'string') return given;
  const bad = (what: string) => new TlcError(`arg ${name}: expected ${what} (its default is ${JSON.stringify(dflt)}), got ${JSON.stringify(given)}`);
  if (typeof dflt === 'number') {
    const n = Number(given);
    if (given.trim() === '' || !Number.isFinite(n)) throw bad('a number');
    return n;
  }
  if (typeof dflt === 'boolean') {
    const b = BOOLEANS[given.trim().toLowerCase()];
    if (b === undefined) throw bad('true or false');
    return b;
  }
  if (Array.isArray(dflt)) {
    try {
      const v = JSON.parse(given);
      if (Array.isArray(v)) return v;
    } catch { /* reported below */ }
    throw bad('a list like [1, 2, 3]');
  }
  return given;
}

// -----------------------------------------------------------------------------------------------
// Walking the program

/** Whether `e` calls host function `fn`; collects those calls into `out` when given. */
function calls(e: HostExpr, fn: string, out?: HostExpr[]): boolean {
  let found = false;
  forEachSubExpr(e, (x) => {
    if (x.k === 'call' && x.fn === fn) {
      found = true;
      out?.push(x);
    }
  });
  return found;
}
