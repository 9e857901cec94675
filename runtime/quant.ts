// GGUF tensor formats on the CPU: block sizes, round-to-nearest quantizers and exact dequantizers
// for F32, F16, Q8_0, Q4_0, Q4_K and Q6_K. Byte layouts follow ggml-common.h (little endian):
//   Q8_0 (32 values, 34 B):  f16 d, 32 × int8 q                       value = q * d
//   Q4_0 (32 values, 18 B):  f16 d, 16 B nibbles (low: 0..15, high: 16..31)   value = (q - 8) * d
//   Q4_K (256 values, 144 B): f16 d, f16 dmin, 12 B of 6-bit (scale, min) for 8 sub-blocks of 32,
//                            128 B nibbles                            value = d*sc * q - dmin*m
//   Q6_K (256 values, 210 B): 128 B ql (low 4 bits), 64 B qh (high 2 bits), 16 × int8 scales
//                            (one per 16 values), f16 d               value = d*sc * (q - 32)
// The kernels in shaders/matmul.ts decode the same bytes on the GPU; this file is their reference.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { GgmlType } from './weights.ts';
import { TlcError } from './errors.ts';

interface Format {
  blockSize: number;     // values per block
  bytesPerBlock: number;
  /** Writes one block of `blockSize` values into `out` at byte offset `o`. */
  quantize(x: Float32Array, out: DataView, o: number): void;
  /** Reads one block at byte offset `o` into `y` (length blockSize). */
  dequantize(b: DataView, o: number, y: Float32Array): void;
}

export function blockInfo(type: GgmlType): { blockSize: number; bytesPerBlock: number } {
  const { blockSize, bytesPerBlock } = format(type);
  return { blockSize, bytesPerBlock };
}

/** Bytes that `count` values of `type` take (count must be a whole number of blocks). */
export function tensorBytes(type: GgmlType, count: number): number {
  const f = format(type);
  checkWhole(type, f, count);
  return (count / f.blockSize) * f.bytesPerBlock;
}

export function quantize(type: GgmlType, values: Float32Array): Uint8Array {
  const f = format(type);
  checkWhole(type, f, values.length);
  const out = new Uint8Array(tensorBytes(type, values.length));
  const view = new DataView(out.buffer);
  for (let b = 0; b * f.blockSize < values.length; b++) {
    f.quantize(values.subarray(b * f.blockSize, (b + 1) * f.blockSize), view, b * f.bytesPerBlock);
  }
  return out;
}

export function dequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const f = format(type);
  const need = tensorBytes(type, count);
  if (bytes.byteLength < need) {
    throw new TlcError(`dequantize ${typeName(type)}: ${count} values need ${need} bytes, got ${bytes.byteLength}`);
  }
  const y = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b * f.blockSize < count; b++) {
    f.dequantize(view, b * f.bytesPerBlock, y.subarray(b * f.blockSize, (b + 1) * f.blockSize));
  }
  return y;
}

export function typeName(type: GgmlType): string {
  return T[type] ?? `type ${type}`;
}

function format(type: GgmlType): Format {
  const f = FORMATS[type];
  if (!f) throw new TlcError(`GGML type ${typeName(type)} is not supported (supported: ${Object.keys(FORMATS).map((t) => typeName(Number(t))).join(', ')})`);
  return f;
}

function checkWhole(type: GgmlType, f: Format, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count % f.blockSize !== 0) {
    throw new TlcError(`${typeName(type)} stores values in blocks of ${f.blockSize}; ${count} values is not a whole number of blocks`);
  }
}

// ---- f16 <-> f32 ----

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 -> IEEE half bits, round to nearest even (like ggml's GGML_FP32_TO_FP16). */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // too big: inf
  if (e <= 0) {
    // f16 subnormal: units of 2^-24
    if (e < -10) return sign;
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // The carry of rounding may run into the exponent, which is exactly right (up to inf).
  return sign | roundShift((e << 23) | mant, 13);
}

/** v >> s, rounded to nearest, ties to even. */
function roundShift(v: number, s: number): number {
  const q = v >>> s;
  const rem = v & ((1 << s) - 1);
  const half = 1 << (s - 1);
  return rem > half || (rem === half && (q & 1)) ? q + 1 : q;
}

// Built when the module loads (a few ms, which the first call used to pay), not on first use: a
// lazily cached table hid a broken decodeF16 from every test after the first (and from Stryker).
const f16Table = Float32Array.from({ length: 65536 }, (_, i) => decodeF16(i));

export function f16ToF32(h: number): number {
  return f16Table[h & 0xffff];
}

function decodeF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---- formats ----

const f = Math.fround;
const roundAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v)); // C roundf
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const half = (b: DataView, o: number) => f16ToF32(b.getUint16(o, true));

const FORMATS: Partial<Record<GgmlType, Format>> = {
  [T.F32]: {
    blockSize: 1,
    bytesPerBlock: 4,
    quantize: (x, out, o) => out.setFloat32(o, x[0], true),
    dequantize: (b, o, y) => { y[0] = b.getFloat32(o, true); },
  },

  [T.F16]: {
    blockSize: 1,
    bytesPerBlock: 2,
    quantize: (x, out, o) => out.setUint16(o, f32ToF16(x[0]), true),
    dequantize: (b, o, y) => { y[0] = half(b, o); },
  },

  // As llama.cpp's quantize_row_q8_0_ref, in f32 arithmetic.
  [T.Q8_0]: {
    blockSize: 32,
    bytesPerBlock: 34,
    quantize(x, out, o) {
      let amax = 0;
      for (const v of x) amax = Math.max(amax, Math.abs(v));
      const d = f(amax / 127);
      const id = d ? f(1 / d) : 0;
      out.setUint16(o, f32ToF16(d), true);
      for (let j = 0; j < 32; j++) out.setInt8(o + 2 + j, roundAway(f(x[j] * id)));
    },
    dequantize(b, o, y) {
      const d = half(b, o);
      for (let j = 0; j < 32; j++) y[j] = b.getInt8(o + 2 + j) * d;
    },
  },

  // As llama.cpp's quantize_row_q4_0_ref: the value of largest magnitude maps to q = 0 (-8 * d).
  [T.Q4_0]: {
    blockSize: 32,
    bytesPerBlock: 18,
    quantize(x, out, o) {
      let amax = 0, max = 0;
      for (const v of x) if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
      const d = f(max / -8);
      const id = d ? f(1 / d) : 0;
      out.setUint16(o, f32ToF16(d), true);
      const q = (v: number) => Math.min(15, Math.trunc(f(f(v * id) + 8.5)));
      for (let j = 0; j < 16; j++) out.setUint8(o + 2 + j, q(x[j]) | (q(x[j + 16]) << 4));
    },
    dequantize(b, o, y) {
      const d = half(b, o);
      for (let j = 0; j < 16; j++) {
        const byte = b.getUint8(o + 2 + j);
        y[j] = ((byte & 15) - 8) * d;
        y[j + 16] = ((byte >> 4) - 8) * d;
      }
    },
  },

  [T.Q4_K]: {
    blockSize: 256,
    bytesPerBlock: 144,
    quantize: quantizeQ4K,
    dequantize(b, o, y) {
      const d = half(b, o), dmin = half(b, o + 2);
      for (let j = 0; j < 8; j++) {
        const [sc, m] = q4kScaleMin(b, o + 4, j);
        const d1 = d * sc, m1 = dmin * m; // exact in f32: 11-bit × 6-bit mantissas
        for (let l = 0; l < 32; l++) {
          const byte = b.getUint8(o + 16 + 32 * (j >> 1) + l);
          y[32 * j + l] = d1 * ((byte >> (4 * (j & 1))) & 15) - m1;
        }
      }
    },
  },

  [T.Q6_K]: {
    blockSize: 256,
    bytesPerBlock: 210,
    quantize: quantizeQ6K,
    dequantize(b, o, y) {
      const d = half(b, o + 208);
      for (let e = 0; e < 256; e++) {
        const { ql, qlShift, qh, qhShift } = q6kPlace(e);
        const q = ((b.getUint8(o + ql) >> qlShift) & 15) | (((b.getUint8(o + 128 + qh) >> qhShift) & 3) << 4);
        y[e] = d * b.getInt8(o + 192 + (e >> 4)) * (q - 32); // (d*sc) is exact, one rounding after
      }
    },
  },
};

// ---- Q4_K ----

/** Sub-block j's 6-bit scale and min from the 12 packed bytes at `o` (ggml's get_scale_min_k4). */
function q4kScaleMin(b: DataView, o: number, j: number): [number, number] {
  const s = (i: number) => b.getUint8(o + i);
  if (j < 4) return [s(j) & 63, s(j + 4) & 63];
  return [(s(j + 4) & 15) | ((s(j - 4) >> 6) << 4), (s(j + 4) >> 4) | ((s(j) >> 6) << 4)];
}

function quantizeQ4K(x: Float32Array, out: DataView, o: number): void {
  // 1. Per sub-block of 32: value ≈ scale * L - min, L in 0..15, with scale >= 0 and min >= 0.
  const scales = new Float32Array(8), mins = new Float32Array(8);
  for (let j = 0; j < 8; j++) [scales[j], mins[j]] = fitAffine(x.subarray(32 * j, 32 * j + 32), 15);
  // 2. Scales and mins to 6 bits against the block's largest of each.
  const maxScale = Math.max(...scales), maxMin = Math.max(...mins);
  const ls = scales.map((s) => (maxScale > 0 ? clamp(Math.round((63 * s) / maxScale), 0, 63) : 0));
  const lm = mins.map((m) => (maxMin > 0 ? clamp(Math.round((63 * m) / maxMin), 0, 63) : 0));
  out.setUint16(o, f32ToF16(maxScale / 63), true);
  out.setUint16(o + 2, f32ToF16(maxMin / 63), true);
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out.setUint8(o + 4 + j, ls[j]);
      out.setUint8(o + 8 + j, lm[j]);
    } else {
      out.setUint8(o + 8 + j, (ls[j] & 15) | ((lm[j] & 15) << 4));
      out.setUint8(o + 4 + j - 4, out.getUint8(o + 4 + j - 4) | ((ls[j] >> 4) << 6));
      out.setUint8(o + 4 + j, out.getUint8(o + 4 + j) | ((lm[j] >> 4) << 6));
    }
  }
  // 3. Quants against the scales as stored.
  const d = half(out, o), dmin = half(out, o + 2);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = q4kScaleMin(out, o + 4, j);
    const ds = d * sc, dm = dmin * m;
    for (let l = 0; l < 32; l++) {
      const q = ds ? clamp(Math.round((x[32 * j + l] + dm) / ds), 0, 15) : 0;
      const at = o + 16 + 32 * (j >> 1) + l;
      out.setUint8(at, out.getUint8(at) | (q << (4 * (j & 1))));
    }
  }
}

/**
 * Least-squares fit of x ≈ scale * L - min with integer L in [0, nmax], trying a few grid
 * spacings around (max - min) / nmax and keeping the best. Returns [scale, min], both >= 0.
 * (Exported for test/quant.test.ts, which checks it against test/reference/kquant-fit.ts.)
 */
export function fitAffine(x: Float32Array, nmax: number): [number, number] {
  let lo = Math.min(0, ...x);
  const hi = Math.max(...x);
  if (hi === lo) return [0, -lo];
  let best: [number, number] = [(hi - lo) / nmax, -lo];
  let bestErr = affineError(x, best[0], best[1], nmax);
  for (let step = -6; step <= 6; step++) {
    const iscale = (nmax + 0.1 * step) / (hi - lo);
    const L = Array.from(x, (v) => clamp(Math.round(iscale * (v - lo)), 0, nmax));
    // Least squares for (scale, offset) in v = scale * L + offset, then offset <= 0 (min >= 0).
    const n = x.length;
    let sl = 0, sl2 = 0, sx = 0, slx = 0;
    for (let i = 0; i < n; i++) { sl += L[i]; sl2 += L[i] * L[i]; sx += x[i]; slx += L[i] * x[i]; }
    const det = n * sl2 - sl * sl;
    if (det <= 0) continue;
    let scale = (n * slx - sl * sx) / det;
    let offset = (sx - scale * sl) / n;
    if (offset > 0) { offset = 0; scale = slx / sl2; }
    if (scale <= 0) continue;
    const err = affineError(x, scale, -offset, nmax);
    if (err < bestErr) { bestErr = err; best = [scale, -offset]; }
  }
  return best;
}

function affineError(x: Float32Array, scale: number, min: number, nmax: number): number {
  let err = 0;
  for (const v of x) {
    const q = clamp(Math.round((v + min) / scale), 0, nmax);
    err += (scale * q - min - v) ** 2;
  }
  return err;
}

// ---- Q6_K ----

/** Where value e (0..255) of a Q6_K block keeps its bits: byte offsets into ql / qh, and shifts. */
function q6kPlace(e: number): { ql: number; qlShift: number; qh: number; qhShift: number } {
  const n = e >> 7, g = (e >> 5) & 3, l = e & 31; // half, group of 32 in the half, lane
  return { ql: 64 * n + 32 * (g & 1) + l, qlShift: 4 * (g >> 1), qh: 32 * n + l, qhShift: 2 * g };
}

function quantizeQ6K(x: Float32Array, out: DataView, o: number): void {
  // 1. Per sub-block of 16: a signed scale with value ≈ scale * L, L in -32..31.
  const scales = new Float32Array(16);
  for (let j = 0; j < 16; j++) scales[j] = fitSymmetric(x.subarray(16 * j, 16 * j + 16), 32);
  let maxScale = 0;
  for (const s of scales) if (Math.abs(s) > Math.abs(maxScale)) maxScale = s;
  if (maxScale === 0) return; // all zeros: d = 0 (the buffer is already zero)
  // 2. Scales to int8 against the largest (which maps to -128, as in llama.cpp).
  const iscale = -128 / maxScale;
  out.setUint16(o + 208, f32ToF16(1 / iscale), true);
  for (let j = 0; j < 16; j++) out.setInt8(o + 192 + j, clamp(Math.round(iscale * scales[j]), -128, 127));
  // 3. Quants against the scales as stored.
  const d = half(out, o + 208);
  for (let e = 0; e < 256; e++) {
    const ds = d * out.getInt8(o + 192 + (e >> 4));
    const q = ds ? clamp(Math.round(x[e] / ds), -32, 31) + 32 : 32;
    const p = q6kPlace(e);
    out.setUint8(o + p.ql, out.getUint8(o + p.ql) | ((q & 15) << p.qlShift));
    out.setUint8(o + 128 + p.qh, out.getUint8(o + 128 + p.qh) | ((q >> 4) << p.qhShift));
  }
}

/** Least-squares scale for x ≈ scale * L, L in [-nmax, nmax - 1], over a few grid spacings (exported for tests). */
export function fitSymmetric(x: Float32Array, nmax: number): number {
  let max = 0;
  for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
  if (max === 0) return 0;
  let best = -max / nmax, bestErr = Infinity;
  for (let step = -6; step <= 6; step++) {
    const iscale = -(nmax + 0.1 * step) / max;
    let slx = 0, sl2 = 0;
    for (const v of x) {
      const l = clamp(Math.round(iscale * v), -nmax, nmax - 1);
      slx += l * v; sl2 += l * l;
    }
    if (sl2 === 0) continue;
    const scale = slx / sl2;
    let err = 0;
    for (const v of x) err += (scale * clamp(Math.round(v / scale), -nmax, nmax - 1) - v) ** 2;
    if (err < bestErr) { bestErr = err; best = scale; }
  }
  return best;
}
