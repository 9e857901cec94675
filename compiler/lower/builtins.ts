// What each builtin does at build time: fold, append a device op, or become a host call.
// Signatures and meanings for users are in compiler/builtins.ts and docs/builtins.md.
import type * as A from '../ast.ts';
import type { Dim, HostExpr, HostValue } from '../ir.ts';
import { sameCount } from '../shapes.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, NONE, describe, stat, tensorType, type Val } from './values.ts';
import { dimOf, idsInput, shapeOf, tensorOf, weightNode } from './tensors.ts';
import { sliceTensor } from './slicing.ts';
import { LOGIC_BUILTINS } from './builtins-logic.ts';
import { axis, b, host, num, op, rankOf, unaryOp, type Builtin, type Lower } from './builtin-kit.ts';
import { floatStat } from './numbers.ts';
import { MATH_BUILTINS } from './builtins-math.ts';
import { CREATE_BUILTINS } from './builtins-create.ts';
import { SHAPE_BUILTINS } from './builtins-shape.ts';
import { HOST_BUILTINS } from './builtins-host.ts';
import { NN_BUILTINS } from './builtins-nn.ts';
import { KG_BUILTINS } from './builtins-kg.ts';
import { ASSERTION_BUILTINS, panicMessage } from './assertions.ts';
import { TENSOR_BUFFER_BUILTINS, tensorBufferText } from './tensor-buffer.ts';

function print(end: string): Lower {
  return (L, vals, span) => {
    const args = vals.map((a) => (a.t === 'tensorbuffer' ? stat(tensorBufferText(L, a, span)) : a)); // as the original shows it
    L.emit({ k: 'print', args: formatted(L, args, span) ?? args.map((a) => L.hostExpr(a, span)), end });
    return NONE;
  };
}

/**
 * The original's format mode: a first argument with `{}` in it and more arguments is a format,
 * each `{}` taking the next value as print shows it (values left over are not printed).
 */
function formatted(L: Lowerer, [format, ...values]: Val[], span: A.Span): HostExpr[] | undefined {
  if (!values.length || format?.t !== 'static' || typeof format.v !== 'string' || !format.v.includes('{}')) return undefined;
  const parts: HostExpr[] = [];
  format.v.split('{}').forEach((text, i, pieces) => {
    if (text) parts.push({ k: 'const', value: text });
    if (i < pieces.length - 1) parts.push(values[i] ? L.hostExpr(values[i], span) : { k: 'const', value: '{}' });
  });
  // `+` joins host values as text when either side is a string; the first part makes it one.
  return [parts.reduce((a, c) => ({ k: 'op', op: '+', args: [a, c] }), { k: 'const', value: '' } as HostExpr)];
}

/** The value of a GGUF tokenizer or model; `load_tokenizer(model)` and `load_tokenizer("x.json")` both work. */
function tokenizerOf(L: Lowerer, v: Val, span: A.Span): HostExpr {
  if (v.t === 'model') return { k: 'call', fn: 'model_tokenizer', args: [] };
  return L.hostExpr(v, span);
}

/** The path expression of the first load_model of each program being lowered: tlc runs one model. */
const loadedModel = new WeakMap<Lowerer, string>();

function loadModel(L: Lowerer, [path]: Val[], span: A.Span): Val {
  if (!L.opts.model) throw new CompileError('this program loads a model: build it with --model MODEL.gguf', span);
  const key = JSON.stringify(path.t === 'static' ? path.v : L.hostExpr(path, span));
  const first = loadedModel.get(L);
  if (first === undefined) loadedModel.set(L, key);
  else if (first !== key) throw new CompileError('this program loads a second model; tlc runs one model per program (load it once and pass it around)', span);
  return { t: 'model', path: [] };
}

function sample(L: Lowerer, logits: Val, temperature: Val, span: A.Span): Val {
  const g = L.graph();
  let x = tensorOf(L, logits, span);
  // Logits of several positions: the last one is sampled (as the original does).
  if (g.shape(x).length === 2 && g.shape(x)[0] !== 1) x = g.add('slice_last', [x], { axis: 0 }, span);
  const extra = logits.t === 'tensor' ? logits.sampling ?? {} : {};
  const scalar = (v: Val | undefined, dflt: number) => tensorOf(L, v ?? stat(dflt), span);
  const random = g.input('scalar', { k: 'call', fn: 'random', args: [] }, {}, span);
  const args = [x, scalar(temperature, 1), scalar(extra.topK, 0), scalar(extra.topP, 1), random];
  return { t: 'tensor', g, node: g.add('sample', args, {}, span) };
}

/**
 * print_top_k(x, k), as the original's older code (its dispatch now answers "migration in
 * progress"): the k largest values of a 1-D tensor, or of the last row of a 2-D one, printed with
 * their indices, largest first; it gives 0. The row is cut on the device (a model weight of any
 * type through the embedding kernel, which dequantizes it), read back, and ranked by the host, as
 * the original ranks it on the CPU.
 */
const printTopK: Lower = (L, [x, k], span) => {
  if (k.t === 'static' && !(typeof k.v === 'number' && Number.isInteger(k.v))) throw new CompileError(`print_top_k: k must be an integer, got ${describe(k)}`, span);
  const g = L.graph();
  const rank = x.t === 'weight' ? (L.opts.model?.tensors[x.name]?.shape.length ?? 0) : rankOf(L, x, span);
  if (rank !== 1 && rank !== 2) throw new CompileError(`print_top_k expects a 1-D or 2-D tensor, got ${describe(x)} of ${rank} dims`, span);
  let row: number;
  if (x.t === 'weight' && rank === 2) {
    const shape = g.shape(weightNode(L, (x as { name: string }).name, span));
    const rows = shape[0] as number;
    const id = g.leaf(`ids:${JSON.stringify([rows - 1])}`, () => g.add('const', [], { shape: [1], values: [rows - 1], dtype: 'u32' }, span));
    row = g.add('reshape', [g.add('embedding', [weightNode(L, (x as { name: string }).name, span), id], {}, span)], { shape: [shape[1]] }, span);
  } else {
    row = tensorOf(L, x, span);
    if (rank === 2) row = g.add('slice_last', [row], { axis: 0 }, span);
  }
  const values = L.hostExpr({ t: 'tensor', g, node: row }, span);
  L.emit({ k: 'print', args: [{ k: 'call', fn: 'top_k_text', args: [values, L.hostExpr(k, span)] }], end: '\n' });
  return stat(0);
};

export const BUILTINS: Record<string, Builtin> = {
  ...LOGIC_BUILTINS, // entity_dim, entity_onehot (compiler/lower/builtins-logic.ts)
  ...ASSERTION_BUILTINS, // assert, assert_eq, assert_about_eq, __bench_keep (compiler/lower/assertions.ts)
  // Output and run-time parameters
  print: b(0, 64, print('\n')),
  write: b(0, 64, print('')),
  arg: b(1, 2, (L, [name, dflt], span) => {
    if (name.t !== 'static' || typeof name.v !== 'string') throw new CompileError('arg(name, default): the name must be a string', span);
    const d = dflt ?? stat(null);
    if (d.t !== 'static') return { t: 'host', e: { k: 'call', fn: 'arg', args: [{ k: 'const', value: name.v }, L.hostExpr(d, span)] } };
    const e: HostExpr = { k: 'arg', name: name.v, default: d.v };
    // A whole float default (`arg("t", 1.0)`) keeps the value a float: `/` on it is not integer division.
    return { t: 'host', e: d.float ? { k: 'call', fn: 'float', args: [e] } : e };
  }),
  env: b(1, 2, host('env')),
  panic: b(0, 64, (L, args, span) => {
    L.emit({ k: 'panic', message: args.length ? panicMessage(L, args, span) : { k: 'const', value: 'panic' }, at: `${span.file}:${span.line}:${span.col}` });
    return NONE;
  }),

  // Host values
  len: b(1, 1, (L, [x], span) => {
    if (x.t === 'static' && (Array.isArray(x.v) || typeof x.v === 'string')) return stat(x.v.length);
    if (x.t === 'list') return stat(x.items.length);
    if (x.t === 'tensor' || x.t === 'dev') return shapeVals(L, x, span)[0] ?? stat(0);
    return { t: 'host', e: { k: 'call', fn: 'len', args: [L.hostExpr(x, span)] } };
  }),
  append: b(2, 2, host('append', (xs, x) => [...(xs as HostValue[]), x])),
  concat: b(2, 3, (L, [a, c, ax], span) => {
    const device = (v: Val) => v.t === 'tensor' || v.t === 'dev' || v.t === 'weight';
    if (!device(a) && !device(c) && !ax) return host('concat', (x, y) => (Array.isArray(x) ? [...x, ...(y as HostValue[])] : String(x) + String(y)))(L, [a, c], span);
    return concatTensors(L, a, c, ax ? num(ax, 'the axis', span) : 0, span);
  }),
  str: b(1, 1, host('str', (x) => String(x))),
  int: b(1, 1, host('int', (x) => Math.trunc(Number(x)))),
  to_int: b(1, 1, host('int', (x) => Math.trunc(Number(x)))),
  float: b(1, 1, (L, args, span) => {
    const v = host('float', (x) => Number(x))(L, args, span);
    return v.t === 'static' && typeof v.v === 'number' ? floatStat(v.v) : v; // float(3) stays a float
  }),
  __cast: b(2, 2, (L, [x, to], span) => {
    const t = String((to as { v: HostValue }).v);
    const fn = /^(int|i\d+|u\d+|usize)/.test(t) ? 'int' : /^(float|f\d+)/.test(t) ? 'float' : t === 'string' ? 'str' : undefined;
    if (!fn) throw new CompileError(`cannot cast to ${t}`, span);
    if (x.t === 'sym') return x;
    return BUILTINS[fn].lower(L, [x], span);
  }),
  __index: b(2, 8, (L, [x, ...idx], span) => {
    if (x.t === 'static' && Array.isArray(x.v) && idx.length === 1 && idx[0].t === 'static') {
      const i = Number(idx[0].v);
      const v = x.v[i < 0 ? x.v.length + i : i];
      if (v === undefined) throw new CompileError(`index ${i} is out of range for a list of ${x.v.length}`, span);
      return stat(v);
    }
    // m[i, j] of a nested list of numbers (a tensor literal in the original): one element, a float.
    if (x.t === 'static' && isNumberList(x) && idx.length > 1 && idx.every((i) => i.t === 'static')) return staticElement(x.v as HostValue[], idx, span);
    if (x.t === 'list' && idx.length > 1 && idx[0].t === 'static') return L.call('__index', [L.call('__index', [x, idx[0]], span), ...idx.slice(1)], span);
    if (x.t === 'list' && idx.length === 1 && idx[0].t === 'static') {
      const i = Number(idx[0].v);
      const v = x.items[i < 0 ? x.items.length + i : i];
      if (!v) throw new CompileError(`index ${i} is out of range for a list of ${x.items.length}`, span);
      return v;
    }
    if (x.t === 'tensor' || x.t === 'weight' || x.t === 'dev') return elementOf(L, x, idx, span);
    if (idx.length !== 1) throw new CompileError(`${describe(x)} takes one index`, span);
    return { t: 'host', e: { k: 'index', target: L.hostExpr(x, span), index: L.hostExpr(idx[0], span) } };
  }),
  shape: b(1, 1, (L, [x], span) => ({ t: 'list', items: shapeVals(L, x, span) })),

  // Models and tokenizers
  load_model: b(1, 1, loadModel),
  load_model_f16: b(1, 1, loadModel), // tlc keeps weights in their GGUF type either way
  load_model_f32: b(1, 1, loadModel),
  get_tensor: b(2, 2, (_L, [m, name], span) => {
    if (m.t !== 'model' || name.t !== 'static' || typeof name.v !== 'string') throw new CompileError('get_tensor(model, "name") takes the model and a tensor name', span);
    return { t: 'weight', name: name.v };
  }),
  load_tokenizer: b(1, 1, (L, [x], span) => ({ t: 'host', e: x.t === 'model' ? { k: 'call', fn: 'model_tokenizer', args: [] } : { k: 'call', fn: 'load_tokenizer', args: [L.hostExpr(x, span)] } })),
  tokenize: b(2, 3, (L, [tok, text, bos], span) => ({
    t: 'host',
    e: { k: 'call', fn: 'tokenize', args: [tokenizerOf(L, tok, span), L.hostExpr(text, span), bos ? L.hostExpr(bos, span) : { k: 'const', value: null }] },
  })),
  detokenize: b(2, 3, (L, [tok, ids, skip], span) => ({
    t: 'host',
    e: { k: 'call', fn: 'detokenize', args: [tokenizerOf(L, tok, span), L.hostExpr(ids, span), skip ? L.hostExpr(skip, span) : { k: 'const', value: false }] },
  })),
  token_text: b(2, 2, (L, [tok, id], span) => ({ t: 'host', e: { k: 'call', fn: 'token_text', args: [tokenizerOf(L, tok, span), L.hostExpr(id, span)] } })),
  chat_prompt: b(2, 3, (L, [tok, user, system], span) => ({
    t: 'host',
    e: { k: 'call', fn: 'chat_prompt', args: [tokenizerOf(L, tok, span), L.hostExpr(user, span), system ? L.hostExpr(system, span) : { k: 'const', value: '' }] },
  })),

  // Tensor ops
  embedding: b(2, 2, (L, [table, ids], span) => {
    const idNode = idsInput(L, ids, span);
    const g = L.graph();
    const t = tensorOf(L, table, span);
    // Ids written in the program are checked now; ids the host gives, when the graph runs.
    const known = g.nodes[idNode];
    const rows = g.shape(t)[0];
    for (const id of known.op === 'const' ? (known.attrs.values as number[]) : []) {
      if (!Number.isInteger(id) || id < 0 || (typeof rows === 'number' && id >= rows)) throw new CompileError(`token id ${id} is outside the embedding table (0..${Number(rows) - 1})`, span);
    }
    return { t: 'tensor', g, node: g.add('embedding', [t, idNode], {}, span) };
  }),
  rms_norm: b(2, 3, op('rms_norm', (L, [, , eps], span) => ({ eps: eps ? num(eps, 'eps', span) : L.opts.model?.hparams.rms_eps ?? 1e-5 }), 2)),
  linear: b(2, 2, op('linear')),
  matmul: b(2, 2, (L, [x, y], span) => {
    const g = L.graph();
    const [a, c] = [tensorOf(L, x, span), tensorOf(L, y, span)];
    const w = transposedWeight(g, c);
    if (w !== undefined) return { t: 'tensor', g, node: g.add('linear', [a, w], {}, span) }; // x @ W.T
    const ra = g.shape(a).length;
    if (ra < 1 || ra > 3 || g.shape(c).length !== 2) throw new CompileError('matmul multiplies a 1-D to 3-D tensor by a 2-D one', span);
    const eq = `${'bij'.slice(3 - ra)},jk->${'bij'.slice(3 - ra, 2)}k`;
    return { t: 'tensor', g, node: g.add('einsum', [a, c], { eq }, span) };
  }),
  reshape: b(2, 2, (L, [x, s], span) => {
    const g = L.graph();
    const n = tensorOf(L, x, span);
    const shape = shapeOf(L, s, span);
    const known = g.shape(n);
    if (shape.includes(-1)) {
      const total = known.every((d) => typeof d === 'number') ? (known as number[]).reduce((p, q) => p * q, 1) : undefined;
      const rest = shape.filter((d) => d !== -1);
      if (total === undefined || rest.some((d) => typeof d !== 'number')) throw new CompileError('reshape with -1 needs sizes known at build time', span);
      shape[shape.indexOf(-1)] = total / (rest as number[]).reduce((p, q) => p * q, 1);
    }
    return { t: 'tensor', g, node: g.add('reshape', [n], { shape: unifySizes(g, known, shape) }, span) };
  }),
  broadcast_to: b(2, 2, (L, [x, s], span) => {
    const g = L.graph();
    const n = tensorOf(L, x, span);
    // A run-time size given where the tensor has one of its own (not 1) is that one.
    const from = g.shape(n), to = shapeOf(L, s, span);
    const shape = to.map((d, i) => {
      const mine = from[from.length - to.length + i];
      if (typeof d !== 'string' || typeof mine !== 'string' || from.includes(d)) return d;
      g.sameDim(mine, d);
      return mine;
    });
    return { t: 'tensor', g, node: g.add('broadcast_to', [n], { shape }, span) };
  }),
  einsum: b(2, 4, (L, [eq, ...xs], span) => {
    if (eq.t !== 'static' || typeof eq.v !== 'string') throw new CompileError('einsum takes an index string first: einsum("ij,jk->ik", A, B)', span);
    return op('einsum', () => ({ eq: eq.v }))(L, xs, span);
  }),
  // rope(x) rotates row r by position r (plus the KV cache's offset); rope(x, pos) starts at pos.
  rope: b(1, 2, op('rope', (L) => ({ base: L.opts.model?.hparams.rope_freq_base ?? 10000, n_rot: L.opts.model?.hparams.n_rot ?? 0, mode: 'norm' }))),
  causal_mask: b(1, 1, (L, [n], span) => {
    const g = L.graph();
    let dim: number | string;
    if (n.t === 'sym' || n.t === 'host') dim = dimOf(L, n, span);
    else dim = num(n, 'the mask size', span);
    return { t: 'tensor', g, node: g.add('causal_mask', [], { n: dim }, span) };
  }),
  apply_attention_mask: b(2, 2, (L, [s, m], span) => {
    const g = L.graph();
    const x = tensorOf(L, s, span);
    return { t: 'tensor', g, node: g.add('binary', [x, g.matchSizes(x, tensorOf(L, m, span), span)], { fn: 'add' }, span) };
  }),
  softmax: b(1, 2, (L, [x, ax], span) => op('softmax', () => ({ axis: axis(ax, rankOf(L, x, span), span) }), 1)(L, [x], span)),
  sigmoid: unaryOp('sigmoid'),
  silu: unaryOp('silu'),
  relu: unaryOp('relu'),
  gelu: unaryOp('gelu'),
  tanh: unaryOp('tanh'),
  exp: unaryOp('exp'),
  log: unaryOp('log'),
  sqrt: unaryOp('sqrt'),
  transpose: b(1, 3, (L, [x, d0, d1], span) => {
    const r = rankOf(L, x, span);
    const perm = [...Array(r).keys()];
    const [i, j] = d0 ? [axis(d0, r, span), axis(d1, r, span)] : [r - 2, r - 1];
    [perm[i], perm[j]] = [perm[j], perm[i]];
    return op('transpose', () => ({ perm }), 1)(L, [x], span);
  }),
  // slice(v, start, end): rows start..end; slice(m, row, start, end): part of one row.
  slice: b(3, 4, (L, [x, a, c, d], span) =>
    sliceTensor(L, x, d ? [{ at: a }, { start: c, end: d }] : [{ start: a, end: c }], span)),
  slice_last: b(1, 2, (L, [x, ax], span) => op('slice_last', () => ({ axis: axis(ax, rankOf(L, x, span), span, 0) }), 1)(L, [x], span)),
  // sum and mean: ./builtins-math.ts

  // Choosing the next token
  print_top_k: b(2, 2, printTopK),
  temperature_sample: b(1, 2, (L, [x, t], span) => sample(L, x, t ?? stat(1), span)),
  top_k: b(2, 2, (_L, [x, k]) => withSampling(x, { topK: k })),
  top_p: b(2, 2, (_L, [x, p]) => withSampling(x, { topP: p })),
  // top_p_sample(logits, p): temperature 1 over the top-p set, as the original.
  top_p_sample: b(2, 2, (L, [x, p], span) => sample(L, withSampling(x, { topP: p }), stat(1), span)),
  // sample(probs): an index drawn from probabilities; their logs are logits at temperature 1.
  sample: b(1, 1, (L, [p], span) => sample(L, { t: 'tensor', g: L.graph(), node: L.graph().add('unary', [tensorOf(L, p, span)], { fn: 'log' }, span) }, stat(1), span)),

  ...MATH_BUILTINS,
  ...CREATE_BUILTINS,
  ...SHAPE_BUILTINS,
  ...HOST_BUILTINS,
  ...NN_BUILTINS,
  ...TENSOR_BUFFER_BUILTINS, // new_tensor_buffer and its alloc (./tensor-buffer.ts)
  ...KG_BUILTINS, // knowledge-graph scores, losses, metrics, graph-network helpers (./builtins-kg.ts)
};

// The original's Candle-backed `cndl_*` names that mean what tlc's own builtins mean.
const CANDLE: Record<string, (L: Lowerer, args: Val[], span: A.Span) => Val> = {
  cndl_matmul: (L, args, span) => L.call('matmul', args, span),
  cndl_transpose: (L, args, span) => L.call('transpose', args, span),
  cndl_reshape: (L, args, span) => L.call('reshape', args, span),
  cndl_softmax: (L, args, span) => L.call('softmax', args, span),
  cndl_log_softmax: (L, args, span) => L.call('log', [L.call('softmax', args, span)], span),
  cndl_gelu: (L, args, span) => L.call('gelu', args, span),
  cndl_silu: (L, args, span) => L.call('silu', args, span),
  cndl_relu: (L, args, span) => L.call('relu', args, span),
  cndl_tanh: (L, args, span) => L.call('tanh', args, span),
  cndl_embedding: (L, [ids, table], span) => L.call('embedding', [table, ids], span),
};
const CANDLE_ARITY: Record<string, [number, number]> = { cndl_transpose: [3, 3], cndl_reshape: [2, 2], cndl_matmul: [2, 2], cndl_embedding: [2, 2], cndl_softmax: [1, 2], cndl_log_softmax: [1, 2] };
for (const [name, lower] of Object.entries(CANDLE)) BUILTINS[name] = b(...(CANDLE_ARITY[name] ?? [1, 1]), lower);

// `f32::NAME(...)` and `f16::NAME(...)`: the original's typed forms of every tensor builtin; tlc
// computes in f32 either way (see builtins-create.ts).
for (const name of Object.keys(BUILTINS)) {
  if (name.includes('::') || name.startsWith('__')) continue;
  for (const t of ['f32', 'f16']) BUILTINS[`${t}::${name}`] ??= BUILTINS[name];
}

/**
 * A reshape to a size computed by the host (`[len(tokens), 32, 64]`) where the tensor has one
 * run-time size of its own (`[seq, 2048]`): the two are the same size, so the result keeps the
 * tensor's name for it, and stays related to the tensors it came from.
 */
function unifySizes(g: ReturnType<Lowerer['graph']>, from: Dim[], to: Dim[]): Dim[] {
  if (sameCount(from, to)) return to;
  const mine = to.filter((d): d is string => typeof d === 'string' && !from.includes(d));
  const theirs = from.filter((d): d is string => typeof d === 'string' && !to.includes(d));
  if (mine.length !== 1 || theirs.length !== 1) return to;
  const swapped = to.map((d) => (d === mine[0] ? theirs[0] : d));
  if (!sameCount(from, swapped)) return to;
  g.sameDim(theirs[0], mine[0]);
  return swapped;
}

/** The weight W when `node` is transpose(W) of a 2-D model weight: x @ W.T is linear(x, W). */
export function transposedWeight(g: ReturnType<Lowerer['graph']>, node: number): number | undefined {
  const n = g.nodes[node];
  if (n.op !== 'transpose' || n.shape.length !== 2) return undefined;
  const w = g.nodes[n.args[0]];
  return w.op === 'weight' ? w.id : undefined;
}

/** concat along any axis: rows are appended (axis 0); other axes move to the front and back. */
export function concatTensors(L: Lowerer, a: Val, c: Val, axis: number, span: A.Span): Val {
  const g = L.graph();
  let [x, y] = [tensorOf(L, a, span), tensorOf(L, c, span)];
  const rank = g.shape(x).length;
  const k = axis < 0 ? rank + axis : axis;
  if (k < 0 || k >= rank) throw new CompileError(`concat: axis ${axis} is out of range for a ${rank}-D tensor`, span);
  if (k === 0) return { t: 'tensor', g, node: g.add('concat', [x, y], { axis: 0 }, span) };
  const perm = [...Array(rank).keys()];
  [perm[0], perm[k]] = [perm[k], perm[0]];
  [x, y] = [x, y].map((n) => g.add('transpose', [n], { perm }, span));
  const joined = g.add('concat', [x, y], { axis: 0 }, span);
  return { t: 'tensor', g, node: g.add('transpose', [joined], { perm }, span) };
}

/** A tensor's sizes: numbers, and symbolic dims with the host expression for their value. */
export function shapeVals(L: Lowerer, x: Val, span: A.Span): Val[] {
  const own = x.t === 'tensor' ? { shape: x.g.shape(x.node), dims: x.g.dims } : x.t === 'dev' ? x : undefined;
  const { shape, dims } = own ?? { shape: L.graph().shape(tensorOf(L, x, span)), dims: L.graph().dims };
  return shape.map((d, i): Val => {
    if (typeof d === 'number') return stat(d);
    const e = dimExpr(dims, d) ?? (x.t === 'dev' ? { k: 'call', fn: 'dim', args: [x.e, { k: 'const', value: i }] } : undefined);
    if (!e) throw new CompileError(`the size ${d} is not known to the host here`, span);
    return { t: 'sym', dim: d, e };
  });
}

/** The host expression for a dim: its own, or a sum of its parts' ("seq+1" after a concat). */
function dimExpr(dims: Map<string, HostExpr>, d: string): HostExpr | undefined {
  if (dims.has(d)) return dims.get(d);
  if (/^\d+$/.test(d)) return { k: 'const', value: Number(d) };
  if (!d.includes('+')) return undefined;
  const parts = d.split('+').map((p) => dimExpr(dims, p));
  if (parts.some((p) => !p)) return undefined;
  return parts.reduce((a, b) => ({ k: 'op', op: '+', args: [a!, b!] }))!;
}

function withSampling(x: Val, s: { topK?: Val; topP?: Val }): Val {
  if (x.t !== 'tensor') return x;
  return { ...x, sampling: { ...x.sampling, ...s } };
}

/** `x[i, j]` with build-time indices: one element, read back when the host uses it. */
function elementOf(L: Lowerer, x: Val, idx: Val[], span: A.Span): Val {
  // Read from the graph that makes the tensor, even one that ran already (its output is added).
  const own = x.t === 'tensor' ? x : { t: 'tensor' as const, g: L.graph(), node: tensorOf(L, x, span) };
  const shape = own.g.shape(own.node);
  if (idx.length !== shape.length) throw new CompileError(`a tensor of shape [${shape.join(', ')}] takes ${shape.length} indices, got ${idx.length}`, span);
  // Past a run-time size the flat index is known only at run time: a one-element slice, read back.
  if (shape.slice(1).some((d) => typeof d !== 'number')) return { t: 'host', e: L.hostExpr(sliceTensor(L, x, idx.map((at) => ({ at })), span), span) };
  let flat = 0;
  idx.forEach((v, i) => {
    const d = shape[i];
    let k = num(v, 'a tensor index', span);
    if (typeof d === 'number') {
      if (k < 0) k += d;
      if (k < 0 || k >= d) throw new CompileError(`index ${k} is out of range for a dimension of size ${d}`, span);
    } else if (k < 0) throw new CompileError(`a negative index into the run-time-sized dimension ${d} cannot be compiled yet`, span);
    const stride = (shape.slice(i + 1) as number[]).reduce((p, q) => p * q, 1);
    flat += k * stride;
  });
  return { t: 'host', e: { k: 'out', graph: own.g.id, output: own.g.output(own.node, flat) } };
}

function isNumberList(v: Val): boolean {
  return v.t === 'static' && Array.isArray(v.v) && v.v.length > 0 && v.v.flat(8).every((x) => typeof x === 'number');
}

/** `m[i, j]` of a nested list of numbers known at build time: each index picks within the one before. */
function staticElement(xs: HostValue[], idx: Val[], span: A.Span): Val {
  let v: HostValue = xs;
  idx.forEach((at, d) => {
    const i = at.t === 'static' ? at.v : undefined;
    if (!Array.isArray(v)) throw new CompileError(`a list nested ${d} deep takes at most ${d} indices, got ${idx.length}`, span);
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new CompileError(`a list index must be a whole number, got ${JSON.stringify(i)}`, span);
    const item: HostValue | undefined = v[i < 0 ? v.length + i : i];
    if (item === undefined) throw new CompileError(`index ${i} is out of range for a list of ${v.length}`, span);
    v = item;
  });
  if (typeof v !== 'number') throw new CompileError(`a list nested ${idx.length + 1} deep takes ${idx.length + 1} indices here`, span);
  return floatStat(v);
}
