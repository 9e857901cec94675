// Plain TypeScript references for the kernels in shaders/: straightforward loops over Float32Array
// with explicit shapes (row-major), for the kernel tests and for a CPU forward pass of a llama model.
// They compute in f64 and round results to f32, unless a comment says they mirror an f32 detail.

const f32 = Math.fround;

/** y = x / sqrt(mean(x^2) + eps) * w. x (rows, n), w (n) -> (rows, n). */
export function rmsNorm(x: Float32Array, w: Float32Array, rows: number, n: number, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i] ** 2;
    const scale = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * scale * w[i];
  }
  return y;
}

export interface RopeOptions {
  pos0: number;       // position of row 0
  nRot?: number;      // rotated dims per head (default headDim)
  base?: number;      // frequency base (default 10000)
  neox?: boolean;     // pairs (i, i + nRot/2) instead of (2i, 2i+1)
  freqFactors?: Float32Array; // (nRot / 2): pair i's angle is theta_i / freqFactors[i]
}

/**
 * Rotary position embedding as llama.cpp computes it: theta_i = p * scale^i with
 * scale = powf(base, -2/nRot), the powers taken by repeated f32 multiplication, cos/sin of the f32 angle.
 * x (seq, nHead, headDim) -> same shape.
 */
export function rope(x: Float32Array, seq: number, nHead: number, headDim: number, o: RopeOptions): Float32Array {
  const nRot = o.nRot ?? headDim, half = nRot / 2;
  const thetaScale = ropeThetaScale(o.base ?? 10000, nRot);
  const y = Float32Array.from(x);
  for (let s = 0; s < seq; s++) {
    const cos: number[] = [], sin: number[] = [];
    let theta = f32(o.pos0 + s);
    for (let i = 0; i < half; i++) {
      const t = o.freqFactors ? f32(theta / o.freqFactors[i]) : theta;
      cos.push(f32(Math.cos(t)));
      sin.push(f32(Math.sin(t)));
      theta = f32(theta * thetaScale);
    }
    for (let h = 0; h < nHead; h++) {
      const base = (s * nHead + h) * headDim;
      for (let i = 0; i < half; i++) {
        const i0 = base + (o.neox ? i : 2 * i), i1 = base + (o.neox ? i + half : 2 * i + 1);
        const a = x[i0], b = x[i1];
        y[i0] = a * cos[i] - b * sin[i];
        y[i1] = a * sin[i] + b * cos[i];
      }
    }
  }
  return y;
}

/** powf(base, -2/nRot) in f32, as ggml computes its theta scale. */
export function ropeThetaScale(base: number, nRot: number): number {
  return f32(Math.pow(f32(base), f32(-2 / nRot)));
}

/** Softmax over the last axis of x (rows, n). */
export function softmax(x: Float32Array, rows: number, n: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[r * n + i]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(x[r * n + i] - m);
    for (let i = 0; i < n; i++) y[r * n + i] = Math.exp(x[r * n + i] - m) / sum;
  }
  return y;
}

/** Softmax over `axis` of a tensor of `shape`. */
export function softmaxAxis(x: Float32Array, shape: number[], axis: number): Float32Array {
  const perm = shape.map((_, i) => i).filter((i) => i !== axis).concat([axis]);
  const moved = transpose(x, shape, perm);
  const n = shape[axis];
  const sm = softmax(moved, moved.length / n, n);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return transpose(sm, perm.map((p) => shape[p]), inverse);
}

export interface AttentionShape {
  seq: number;       // query rows
  pos0: number;      // position of query row 0; keys 0..pos0+seq-1 are valid
  nHead: number;
  nKvHead: number;
  headDim: number;
  scale?: number;    // default 1/sqrt(headDim)
  /** As llama.cpp's CPU attention with an f16 KV cache: q, k, v and the normalized weights rounded to f16. */
  llamaCppF16?: boolean;
}

/**
 * Causal grouped-query attention. q (seq, nHead, headDim); k, v (>= pos0+seq, nKvHead, headDim);
 * query row i attends keys 0..pos0+i; head h reads kv head h / (nHead / nKvHead).
 * Returns (seq, nHead, headDim).
 */
export function attention(q: Float32Array, k: Float32Array, v: Float32Array, s: AttentionShape): Float32Array {
  const { seq, pos0, nHead, nKvHead, headDim: hd } = s;
  if (s.llamaCppF16) [q, k, v] = [q.map(f16Round), k.map(f16Round), v.map(f16Round)];
  const scale = s.scale ?? 1 / Math.sqrt(hd);
  const group = nHead / nKvHead;
  const out = new Float32Array(seq * nHead * hd);
  for (let i = 0; i < seq; i++) {
    const len = pos0 + i + 1;
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / group), qb = (i * nHead + h) * hd;
      const scores = new Float64Array(len);
      for (let j = 0; j < len; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[qb + d] * k[(j * nKvHead + kvh) * hd + d];
        scores[j] = dot * scale;
      }
      const m = Math.max(...scores);
      let sum = 0;
      for (let j = 0; j < len; j++) sum += (scores[j] = Math.exp(scores[j] - m));
      for (let j = 0; j < len; j++) scores[j] = s.llamaCppF16 ? f16Round(f32(scores[j]) * f32(1 / sum)) : scores[j] / sum;
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let j = 0; j < len; j++) acc += scores[j] * v[(j * nKvHead + kvh) * hd + d];
        out[qb + d] = acc;
      }
    }
  }
  return out;
}

/** x rounded to the nearest f16 value (ties to even), as a number. */
export function f16Round(x: number): number {
  const a = Math.abs(x);
  if (!Number.isFinite(a)) return x;
  const e = Math.max(Math.floor(Math.log2(a || 1)), -14); // below 2^-14: subnormal steps of 2^-24
  const quantum = 2 ** (e - 10);
  const t = a / quantum, fl = Math.floor(t);
  const n = t - fl > 0.5 || (t - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  const r = n * quantum > 65504 ? Infinity : n * quantum;
  return x < 0 ? -r : r;
}

/** The value of IEEE binary16 bits (sign, 5-bit exponent, 10-bit fraction). */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 31, frac = bits & 1023;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (exp === 0 ? frac * 2 ** -24 : (1 + frac / 1024) * 2 ** (exp - 15));
}

/** Copies src (seq, rowSize) into cache rows pos0..pos0+seq-1 (cache is changed in place). */
export function kvWrite(cache: Float32Array, src: Float32Array, rowSize: number, pos0: number): void {
  cache.set(src, pos0 * rowSize);
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'square' | 'recip' | 'sin' | 'cos' | 'tanh'
  | 'relu' | 'step' | 'silu' | 'sigmoid' | 'gelu' | 'scale' | 'add_scalar';

/** Elementwise unary functions; `c` is the scalar of scale / add_scalar. */
export const UNARY: Record<UnaryOp, (x: number, c: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  square: (x) => x * x,
  recip: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  relu: (x) => Math.max(x, 0),
  step: (x) => (x > 0 ? 1 : 0),
  silu: (x) => x / (1 + Math.exp(-x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  // the tanh approximation, as ggml and GPT-2 use
  gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  scale: (x, c) => x * c,
  add_scalar: (x, c) => x + c,
};

export function unary(op: UnaryOp, x: Float32Array, c = 0): Float32Array {
  return x.map((v) => UNARY[op](v, c));
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'swiglu';

export const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: Math.max,
  min: Math.min,
  swiglu: (gate, up) => (gate / (1 + Math.exp(-gate))) * up, // silu(gate) * up
};

/** numpy broadcasting of two shapes (aligned at the right; a dim of 1 stretches). */
export function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Elementwise binary op with numpy broadcasting. Returns the result and its shape. */
export function binary(op: BinaryOp, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[]): { y: Float32Array; shape: number[] } {
  const shape = broadcastShape(aShape, bShape);
  const av = broadcastTo(a, aShape, shape), bv = broadcastTo(b, bShape, shape);
  return { y: av.map((v, i) => BINARY[op](v, bv[i])), shape };
}

/** Row-major strides, in elements. */
export function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** Materializes the view (shape, strides, offset) of src: out[idx] = src[offset + sum(idx_k * strides_k)]. */
export function copyStrided(src: Float32Array, shape: number[], strides: number[], offset = 0): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let s = offset;
    for (let k = 0; k < shape.length; k++) s += idx[k] * strides[k];
    out[o] = src[s];
    for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
  }
  return out;
}

/** x (shape) repeated along broadcast dims to `to` (numpy rules). */
export function broadcastTo(x: Float32Array, shape: number[], to: number[]): Float32Array {
  const st = stridesOf(shape);
  const strides = to.map((_, i) => {
    const j = i - (to.length - shape.length);
    return j < 0 || shape[j] === 1 ? 0 : st[j];
  });
  return copyStrided(x, to, strides);
}

/** Permutes axes: out axis i is input axis perm[i]. */
export function transpose(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const st = stridesOf(shape);
  return copyStrided(x, perm.map((p) => shape[p]), perm.map((p) => st[p]));
}

/**
 * einsum over one or two operands, numpy's rules: "ihd,jhd->ihj", "ii->i", "ij->"; without "->"
 * the output is the letters used once, sorted. Returns the result and its shape.
 */
export function einsum(spec: string, operands: Float32Array[], shapes: number[][]): { y: Float32Array; shape: number[] } {
  const [lhs, rhs0] = spec.replace(/\s/g, '').split('->');
  const inputs = lhs.split(',');
  const letters = [...new Set(inputs.join(''))];
  const rhs = rhs0 ?? letters.filter((l) => inputs.join('').split(l).length === 2).sort().join('');
  const size = new Map<string, number>();
  inputs.forEach((ix, t) => [...ix].forEach((l, k) => size.set(l, shapes[t][k])));
  const outShape = [...rhs].map((l) => size.get(l)!);
  const summed = letters.filter((l) => !rhs.includes(l));
  const all = [...rhs, ...summed];
  const y = new Float32Array(outShape.reduce((p, d) => p * d, 1));
  const val = new Map<string, number>();
  const strides = shapes.map(stridesOf);
  const walk = (depth: number, o: number): void => {
    if (depth < rhs.length) {
      for (let v = 0; v < size.get(all[depth])!; v++) { val.set(all[depth], v); walk(depth + 1, o * outShape[depth] + v); }
      return;
    }
    let acc = 0;
    const sum = (d: number): void => {
      if (d < all.length) {
        for (let v = 0; v < size.get(all[d])!; v++) { val.set(all[d], v); sum(d + 1); }
        return;
      }
      let term = 1;
      inputs.forEach((ix, t) => { term *= operands[t][[...ix].reduce((s, l, k) => s + val.get(l)! * strides[t][k], 0)]; });
      acc += term;
    };
    sum(depth);
    y[o] = acc;
  };
  walk(0, 0);
  return { y, shape: outShape };
}

/** Additive causal mask (rows, cols), usually cols = pos0 + rows: 0 where key j <= pos0 + query i, else -inf. */
export function causalMask(rows: number, cols: number, pos0 = 0): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = j <= pos0 + i ? 0 : -Infinity;
  return m;
}

/** Index of the largest value; ties go to the lowest index (as llama.cpp's greedy sampler). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export interface SampleOptions {
  temperature: number; // <= 0: argmax
  topK?: number;       // keep the k largest logits (ties at the k-th value all kept); <= 0 or >= n: all
  topP?: number;       // then keep the fewest top tokens whose probability mass reaches p (ties kept); >= 1: all
}

/**
 * Draws a token with temperature, then top-k, then top-p, using the uniform number u in [0, 1):
 * the first kept token, in index order, whose cumulative weight exceeds u * (kept weight).
 * Logits are scaled by the f32 reciprocal of the temperature, as the kernel does.
 */
export function sample(logits: Float32Array, o: SampleOptions, u: number): number {
  if (o.temperature <= 0) return argmax(logits);
  const n = logits.length, invTemp = f32(1 / o.temperature);
  const z = logits.map((v) => f32(v * invTemp));
  const sorted = Float64Array.from(z).sort().reverse(); // descending
  const k = o.topK ?? 0;
  const kth = k > 0 && k < n ? sorted[k - 1] : sorted[n - 1];
  const m = sorted[0];
  let thresh = kth;
  const p = o.topP ?? 1;
  if (p < 1) {
    let total = 0;
    for (const v of sorted) if (v >= kth) total += Math.exp(v - m);
    let cum = 0;
    for (const v of sorted) {
      cum += Math.exp(v - m);
      thresh = v;
      if (cum >= p * total) break;
    }
  }
  const w = z.map((v) => (v >= thresh ? Math.exp(v - m) : 0));
  const r = u * w.reduce((a, b) => a + b, 0);
  let cum = 0, last = -1;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    cum += w[i];
    last = i;
    if (r < cum) return i;
  }
  return last;
}
