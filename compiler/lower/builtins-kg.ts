// Knowledge-graph embedding scores and losses, link-prediction metrics and the graph-network helpers,
// with the meanings the original's older code gives them (its interpreter/mod.rs; its current
// dispatch answers "not implemented" for all of them). The scores and losses are compositions of
// existing device ops (binary, unary, scale, reduce), so a `learn` block can differentiate them;
// the metrics are host arithmetic on numbers, folded when known at build time.
//
// Every score is one number in a tensor of shape (1), as the original returns it, summed over every
// element of its arguments (so a batch of rows gives one total, as there).
import type * as A from '../ast.ts';
import type { HostExpr, HostStmt } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';
import { sliceTensor } from './slicing.ts';
import { b, isDevice, type Builtin, type Lower } from './builtin-kit.ts';
import { floatStat } from './numbers.ts';

/** Node-level helpers on the current graph. */
function ops(L: Lowerer, span: A.Span) {
  const g = L.graph();
  const t = (v: Val) => tensorOf(L, v, span);
  const bin = (fn: string, x: number, y: number) => g.add('binary', [x, g.matchSizes(x, y, span)], { fn }, span);
  const un = (fn: string, x: number) => g.add('unary', [x], { fn }, span);
  const scale = (x: number, value: number, bias = 0) => g.add('scale', [x], { value, bias }, span);
  /** The sum of every element, as a tensor of shape (1). */
  const total = (x: number) => g.add('reshape', [g.add('reduce', [x], { fn: 'sum' }, span)], { shape: [1] }, span);
  const out = (node: number): Val => ({ t: 'tensor', g, node });
  return { g, t, bin, un, scale, total, out };
}

/** A build-time string argument (a norm, a mode), or `dflt` when it is absent or not a string (as the original reads it). */
function option(v: Val | undefined, dflt: string): string {
  return v?.t === 'static' && typeof v.v === 'string' ? v.v : dflt;
}

/** A number argument: known at build time or at run time, not a tensor (the original takes a number). */
function number(v: Val, what: string, span: A.Span): Val {
  if ((v.t === 'static' && typeof v.v === 'number') || v.t === 'host' || v.t === 'sym') return v;
  throw new CompileError(`${what} must be a number, got ${describe(v)}`, span);
}

/**
 * TransE: the negated distance -||h + r - t||, L2 (the square root of the sum of squares, the
 * default) or L1 (the sum of absolute values: the original names it but refuses it).
 */
function transe(name: string, strict: boolean): Lower {
  return (L, [h, r, t, norm], span) => {
    if (strict && norm && !(norm.t === 'static' && typeof norm.v === 'string')) {
      throw new CompileError(`${name}: the norm must be the string "L1" or "L2", got ${describe(norm)}`, span);
    }
    const kind = option(norm, 'L2');
    if (kind !== 'L1' && kind !== 'L2') throw new CompileError(`${name}: the norm must be "L1" or "L2", got "${kind}"`, span);
    const o = ops(L, span);
    const d = o.bin('sub', o.bin('add', o.t(h), o.t(r)), o.t(t));
    const distance = kind === 'L2' ? o.un('sqrt', o.total(o.un('square', d))) : o.total(o.un('abs', d));
    return o.out(o.scale(distance, -1));
  };
}

/** DistMult: sum(h * r * t). */
const distmult: Lower = (L, [h, r, t], span) => {
  const o = ops(L, span);
  return o.out(o.total(o.bin('mul', o.bin('mul', o.t(h), o.t(r)), o.t(t))));
};

/** ComplEx: Re(<h, r, conj(t)>) = sum(h_re r_re t_re + h_re r_im t_im + h_im r_re t_im - h_im r_im t_re). */
const complex: Lower = (L, args, span) => {
  const o = ops(L, span);
  const [hRe, hIm, rRe, rIm, tRe, tIm] = args.map(o.t);
  const tri = (x: number, y: number, z: number) => o.bin('mul', o.bin('mul', x, y), z);
  const sum = o.bin('add', o.bin('add', tri(hRe, rRe, tRe), tri(hRe, rIm, tIm)), tri(hIm, rRe, tIm));
  return o.out(o.total(o.bin('sub', sum, tri(hIm, rIm, tRe))));
};

/** max(0, margin + neg - pos), elementwise (one number for one-number scores). */
const marginRanking: Lower = (L, [pos, neg, margin], span) => {
  const m = number(margin, 'margin_ranking_loss: the margin', span);
  const o = ops(L, span);
  return o.out(o.un('relu', o.bin('add', o.bin('sub', o.t(neg), o.t(pos)), o.t(m))));
};

/**
 * binary_cross_entropy(score, target): the score (its first element, as the original reads it) is
 * a logit; p = sigmoid(score), loss = -(target log p + (1 - target) log(1 - p)), each log at least
 * -100 (the original uses -100 where p is 0 or 1). A tensor of shape (1).
 */
const binaryCrossEntropy: Lower = (L, [score, target], span) => {
  const y = number(target, 'binary_cross_entropy: the target', span);
  const o = ops(L, span);
  let s = o.t(score);
  const shape = o.g.shape(s);
  if (!shape.every((d) => d === 1)) s = tensorOf(L, sliceTensor(L, { t: 'tensor', g: o.g, node: s }, shape.map(() => ({ at: stat(0) })), span), span);
  s = o.g.add('reshape', [s], { shape: [1] }, span);
  const p = o.un('sigmoid', s);
  const floor = tensorOf(L, stat(-100), span);
  const logP = o.bin('max', o.un('log', p), floor);
  const log1mP = o.bin('max', o.un('log', o.scale(p, -1, 1)), floor);
  const t = o.t(y);
  const loss = o.bin('add', o.bin('mul', t, logP), o.bin('mul', o.scale(t, -1, 1), log1mP));
  return o.out(o.scale(loss, -1));
};

// ---------------------------------------------------------------------------------------------
// Graph networks (the original's simplified forms)

/** relational_aggregate(node, relation, neighbor, weight?): node + relation * neighbor; a fourth argument is not used, as in the original. */
const relationalAggregate: Lower = (L, [node, rel, neighbor], span) => {
  const o = ops(L, span);
  return o.out(o.bin('add', o.t(node), o.bin('mul', o.t(rel), o.t(neighbor))));
};

/** normalize_features(x, "l2"): x / ||x|| over all of x, or x itself when ||x|| <= 1e-8; any other mode leaves x as it is. */
const normalizeFeatures: Lower = (L, [x, mode], span) => {
  if (option(mode, 'l2') !== 'l2') return x.t === 'static' ? { t: 'tensor', g: L.graph(), node: tensorOf(L, x, span) } : x;
  const o = ops(L, span);
  const v = o.t(x);
  const norm = o.un('sqrt', o.total(o.un('square', v)));
  const big = o.un('step', o.scale(norm, 1, -1e-8)); // 1 where ||x|| > 1e-8
  const inv = o.un('recip', o.bin('max', norm, tensorOf(L, stat(1e-8), span)));
  const factor = o.bin('add', o.bin('mul', big, inv), o.scale(big, -1, 1));
  return o.out(o.bin('mul', v, factor));
};

/** aggregate_neighbors(features, num_neighbors, mode?): "mean" (the default) divides by num_neighbors when it is positive; "sum" leaves them. */
const aggregateNeighbors: Lower = (L, [x, count, mode], span) => {
  const n = number(count, 'aggregate_neighbors: num_neighbors', span);
  if (n.t === 'static' && !Number.isInteger(n.v)) throw new CompileError(`aggregate_neighbors: num_neighbors must be an integer, got ${n.v}`, span);
  const o = ops(L, span);
  const v = o.t(x);
  if (option(mode, 'mean') !== 'mean') return o.out(v);
  if (n.t === 'static') return (n.v as number) > 0 ? o.out(o.scale(v, 1 / (n.v as number))) : o.out(v);
  const e = L.hostExpr(n, span);
  const factor: HostExpr = { k: 'call', fn: 'select', args: [{ k: 'op', op: '>', args: [e, { k: 'const', value: 0 }] }, { k: 'op', op: '/', args: [{ k: 'const', value: 1 }, e] }, { k: 'const', value: 1 }] };
  return o.out(o.bin('mul', v, o.t({ t: 'host', e: factor })));
};

/** graph_attention(query, key, value, ...): value * sigmoid(sum(query * key)); arguments past the third are not used, as in the original. */
const graphAttention: Lower = (L, [q, k, v], span) => {
  const o = ops(L, span);
  const w = o.un('sigmoid', o.total(o.bin('mul', o.t(q), o.t(k))));
  return o.out(o.bin('mul', o.t(v), w));
};

// ---------------------------------------------------------------------------------------------
// Link-prediction metrics: numbers on the host

interface Metric {
  fold: (xs: number[]) => number;
  host: (es: HostExpr[]) => HostExpr;
  float?: boolean; // the result is a float (else an integer)
  /** A refused argument: the message, and the test on numbers and on host values. */
  refuse?: { message: string; test: (xs: number[]) => boolean; host: (es: HostExpr[]) => HostExpr };
}

/** A function of numbers on the host: folded at build time; else a host expression, its check done when it runs. */
function metric(name: string, m: Metric): Lower {
  return (L, args, span) => {
    const xs = args.map((a, i) => number(a, `${name}: argument ${i + 1}`, span));
    if (xs.every((x) => x.t === 'static')) {
      const ns = xs.map((x) => (x as { v: number }).v);
      if (m.refuse?.test(ns)) throw new CompileError(`${name}: ${m.refuse.message}`, span);
      const v = m.fold(ns);
      return m.float ? floatStat(v) : stat(v);
    }
    let es = xs.map((x) => L.hostExpr(x, span));
    if (m.refuse) {
      es = es.map((e, i) => L.snapshot(e, `${name}_${i}`)); // evaluated once, for the check and the value
      const panic: HostStmt = { k: 'panic', message: { k: 'const', value: `${name}: ${m.refuse.message}` }, at: `${span.file}:${span.line}:${span.col}` };
      L.emit({ k: 'if', cond: m.refuse.host(es), then: [panic], else: [] });
    }
    return { t: 'host', e: m.host(es) };
  };
}

const c = (value: number): HostExpr => ({ k: 'const', value });
const op = (o: string, ...args: HostExpr[]): HostExpr => ({ k: 'op', op: o, args });
const call = (fn: string, ...args: HostExpr[]): HostExpr => ({ k: 'call', fn, args });
const trunc = (e: HostExpr): HostExpr => call('int', e);

/** compute_rank(target_score, num_higher): num_higher + 1 (the score is not used, as in the original). */
const computeRank: Lower = (L, [score, higher], span) => {
  if (!isDevice(score) && !(score.t === 'static' && Array.isArray(score.v))) throw new CompileError(`compute_rank: the target score must be a tensor, got ${describe(score)}`, span);
  return metric('compute_rank', { fold: ([n]) => Math.max(0, Math.trunc(n)) + 1, host: ([e]) => op('+', call('max', trunc(e), c(0)), c(1)) })(L, [higher], span);
};

/** compute_mrr(rank): 1 / rank. */
const computeMrr = metric('compute_mrr', {
  fold: ([r]) => 1 / r,
  host: ([r]) => op('/', c(1), r),
  float: true,
  refuse: { message: 'the rank must be positive', test: ([r]) => r <= 0, host: ([r]) => op('<=', r, c(0)) },
});

/** compute_hits_at_k(rank, k): 1 when 0 < rank <= k (both cut to integers), else 0. */
const computeHits = metric('compute_hits_at_k', {
  fold: ([r, k]) => (Math.trunc(r) <= Math.trunc(k) && Math.trunc(r) > 0 ? 1 : 0),
  host: ([r, k]) => call('select', op('<=', trunc(r), trunc(k)), call('select', op('>', trunc(r), c(0)), c(1), c(0)), c(0)),
});

/** compute_mean_rank(sum_of_ranks, num_queries): their quotient. */
const computeMeanRank = metric('compute_mean_rank', {
  fold: ([s, n]) => s / n,
  host: ([s, n]) => op('/', s, n),
  float: true,
  refuse: { message: 'num_queries must be positive', test: ([, n]) => n <= 0, host: ([, n]) => op('<=', n, c(0)) },
});

export const KG_BUILTINS: Record<string, Builtin> = {
  transe_score: b(3, 4, transe('transe_score', true)),
  distmult_score: b(3, 3, distmult),
  complex_score: b(6, 6, complex),
  predict_tail_transe: b(3, 4, transe('predict_tail_transe', false)),
  predict_head_transe: b(3, 4, transe('predict_head_transe', false)),
  predict_tail_distmult: b(3, 3, distmult),
  predict_head_distmult: b(3, 3, distmult),
  predict_tail_complex: b(6, 6, complex),
  predict_head_complex: b(6, 6, complex),
  margin_ranking_loss: b(3, 3, marginRanking),
  binary_cross_entropy: b(2, 2, binaryCrossEntropy),
  compute_rank: b(2, 2, computeRank),
  compute_mrr: b(1, 1, computeMrr),
  compute_hits_at_k: b(2, 2, computeHits),
  compute_mean_rank: b(2, 2, computeMeanRank),
  relational_aggregate: b(3, 4, relationalAggregate),
  normalize_features: b(1, 2, normalizeFeatures),
  aggregate_neighbors: b(2, 3, aggregateNeighbors),
  graph_attention: b(3, 4, graphAttention),
};
