// WGSL decoders for GGUF weight rows, shared by the matmul and embedding kernels.
// A row of K values is read as `units`: groups of values (16 to 64) that one thread decodes together
// from u32 (or, for F32/F16, vec4<u32>) loads of the raw bytes. Each codec's WGSL defines, over a
// `w: array<${word}>` binding that the kernel declares:
//   fn decode(rowByte: u32, u: u32) -> array<vec4f, UNIT / 4>   the dequantized values of unit u
//   fn xoff(u: u32, i: u32) -> u32      where in the row (value index) vec4 i of unit u sits
// Dequantization is exact (the same products as runtime/quant.ts); only sums may round differently.
//
// Q8_0 and Q4_0 blocks (34 and 18 bytes) and Q6_K blocks (210) start on 2-byte boundaries. When K
// allows, a unit is two Q8_0/Q4_0 blocks, which start 4-byte aligned, so every shift is a constant;
// otherwise words_at reads 16 bytes at any even offset with one extra load and a funnel shift.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { GgmlType } from '../runtime/weights.ts';
import { TlcError } from '../runtime/errors.ts';
import { tensorBytes, typeName } from '../runtime/quant.ts';

export interface Codec {
  type: GgmlType;
  /** Values per unit, a multiple of 4. */
  unit: number;
  /** Bytes of one row of K values. */
  rowBytes: number;
  /** Element type of the kernel's `w` array. */
  word: 'u32' | 'vec4u';
  wgsl: string;
}

/** The decoder for rows of K values of `type`. */
export function codec(type: GgmlType, K: number, what = 'weight'): Codec {
  if (K % 4 !== 0) throw new TlcError(`${what}: rows of ${K} values are not supported (the kernels need a multiple of 4)`);
  const rowBytes = tensorBytes(type, K); // throws for unsupported types and partial blocks
  const make = (unit: number, word: Codec['word'], body: string, xoff = contiguous(unit)): Codec =>
    ({ type, unit, rowBytes, word, wgsl: (word === 'u32' ? HELPERS : '') + body + xoff });
  const pairs = K % 64 === 0; // two 32-value blocks per unit
  switch (type) {
    case T.F32: return K % 16 === 0 ? make(16, 'vec4u', F32_X4) : make(4, 'vec4u', F32_X1);
    case T.F16: return K % 16 === 0 ? make(16, 'vec4u', F16_X2) : K % 8 === 0 ? make(8, 'vec4u', F16_X1) : make(4, 'u32', F16_U32);
    case T.Q8_0: return pairs ? make(64, 'u32', Q8_0_PAIR) : make(32, 'u32', Q8_0);
    case T.Q4_0: return pairs ? make(64, 'u32', Q4_0_PAIR) : make(32, 'u32', Q4_0);
    case T.Q4_K: return make(64, 'u32', Q4_K);
    case T.Q6_K: return make(64, 'u32', Q6_K, Q6_K_XOFF);
    default: throw new TlcError(`${what}: GGML type ${typeName(type)} has no GPU kernel`);
  }
}

const contiguous = (unit: number) => `
fn xoff(u: u32, i: u32) -> u32 { return u * ${unit}u + 4u * i; }
`;

const list = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(',\n    ');

const HELPERS = /* wgsl */ `
fn words_at(o: u32) -> vec4u { // 16 bytes at the even byte offset o
  let i = o >> 2u;
  let a = vec4u(w[i], w[i + 1u], w[i + 2u], w[i + 3u]);
  let b = vec4u(a.yzw, w[i + 4u]);
  return select(a, (a >> vec4u(16u)) | (b << vec4u(16u)), (o & 2u) != 0u);
}
fn half_at(o: u32) -> f32 { // f16 at the even byte offset o
  return unpack2x16float(w[o >> 2u] >> ((o & 2u) * 8u)).x;
}
fn funnel(lo: u32, hi: u32) -> u32 { return (lo >> 16u) | (hi << 16u); } // bytes 2..5 of lo, hi
fn i8x4(v: u32) -> vec4f { // four int8s, little endian
  return vec4f((vec4i(bitcast<i32>(v)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u));
}
fn lo4(v: u32) -> vec4f { return vec4f((vec4u(v) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(15u)); }
fn hi4(v: u32) -> vec4f { return vec4f((vec4u(v) >> vec4u(4u, 12u, 20u, 28u)) & vec4u(15u)); }
`;

// ---- F32, F16: rows of 4-byte multiples; read as vec4<u32> when 16-byte aligned ----

const F32_X4 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 4> {
  let i = (rowByte >> 4u) + u * 4u;
  return array<vec4f, 4>(bitcast<vec4f>(w[i]), bitcast<vec4f>(w[i + 1u]), bitcast<vec4f>(w[i + 2u]), bitcast<vec4f>(w[i + 3u]));
}
`;
const F32_X1 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 1> { return array<vec4f, 1>(bitcast<vec4f>(w[(rowByte >> 4u) + u])); }
`;
const F16_X2 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 4> {
  let i = (rowByte >> 4u) + u * 2u;
  let a = w[i];
  let b = w[i + 1u];
  return array<vec4f, 4>(vec4f(unpack2x16float(a.x), unpack2x16float(a.y)), vec4f(unpack2x16float(a.z), unpack2x16float(a.w)),
                         vec4f(unpack2x16float(b.x), unpack2x16float(b.y)), vec4f(unpack2x16float(b.z), unpack2x16float(b.w)));
}
`;
const F16_X1 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 2> {
  let a = w[(rowByte >> 4u) + u];
  return array<vec4f, 2>(vec4f(unpack2x16float(a.x), unpack2x16float(a.y)), vec4f(unpack2x16float(a.z), unpack2x16float(a.w)));
}
`;
const F16_U32 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 1> {
  let i = (rowByte >> 2u) + u * 2u;
  return array<vec4f, 1>(vec4f(unpack2x16float(w[i]), unpack2x16float(w[i + 1u])));
}
`;

// ---- Q8_0: f16 d, int8 q[32]; value = q * d ----

const Q8_0 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 8> {
  let o = rowByte + u * 34u;
  let d = half_at(o);
  let a = words_at(o + 2u);
  let b = words_at(o + 18u);
  return array<vec4f, 8>(i8x4(a.x) * d, i8x4(a.y) * d, i8x4(a.z) * d, i8x4(a.w) * d,
                         i8x4(b.x) * d, i8x4(b.y) * d, i8x4(b.z) * d, i8x4(b.w) * d);
}
`;
// Two blocks = 68 bytes = words 0..16: block A's d is the low half of word 0 and its quants sit
// 2 bytes into words 0..8; block B's d is the high half of word 8 and its quants are words 9..16.
const Q8_0_PAIR = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let i = (rowByte >> 2u) + u * 17u;
  let v = array<u32, 17>(${Array.from({ length: 17 }, (_, k) => `w[i + ${k}u]`).join(', ')});
  let da = unpack2x16float(v[0]).x;
  let db = unpack2x16float(v[8]).y;
  return array<vec4f, 16>(
    ${list(8, (k) => `i8x4(funnel(v[${k}], v[${k + 1}])) * da`)},
    ${list(8, (k) => `i8x4(v[${k + 9}]) * db`)});
}
`;

// ---- Q4_0: f16 d, 16 bytes; byte j holds value j (low nibble) and j + 16 (high); value = (q - 8) * d ----

const Q4_0 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 8> {
  let o = rowByte + u * 18u;
  let d = half_at(o);
  let q = words_at(o + 2u);
  return array<vec4f, 8>(
    ${list(4, (k) => `(lo4(q[${k}]) - 8.0) * d`)},
    ${list(4, (k) => `(hi4(q[${k}]) - 8.0) * d`)});
}
`;
// Two blocks = 36 bytes = words 0..8: A's d in the low half of word 0, its nibbles 2 bytes into
// words 0..4; B's d in the high half of word 4, its nibbles words 5..8.
const Q4_0_PAIR = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let i = (rowByte >> 2u) + u * 9u;
  let v = array<u32, 9>(${Array.from({ length: 9 }, (_, k) => `w[i + ${k}u]`).join(', ')});
  let da = unpack2x16float(v[0]).x;
  let db = unpack2x16float(v[4]).y;
  let qa = vec4u(funnel(v[0], v[1]), funnel(v[1], v[2]), funnel(v[2], v[3]), funnel(v[3], v[4]));
  return array<vec4f, 16>(
    ${list(4, (k) => `(lo4(qa[${k}]) - 8.0) * da`)},
    ${list(4, (k) => `(hi4(qa[${k}]) - 8.0) * da`)},
    ${list(4, (k) => `(lo4(v[${k + 5}]) - 8.0) * db`)},
    ${list(4, (k) => `(hi4(v[${k + 5}]) - 8.0) * db`)});
}
`;

// ---- Q4_K (144 bytes, always 4-byte aligned): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins
// for 8 sub-blocks of 32, 128 bytes of nibbles. A unit is quarter c of a block: 32 bytes whose low
// nibbles are sub-block 2c and high nibbles sub-block 2c + 1. value = d * sc * q - dmin * m
// Scale bytes (ggml's get_scale_min_k4), for j < 4: sc = s[j] & 63, m = s[j + 4] & 63; for j >= 4:
// sc = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4, m = (s[j + 4] >> 4) | (s[j] >> 6) << 4. Sub-blocks
// 2c and 2c + 1 use the same two bytes of each scale word, so both come out of 16-bit halves at once.
const Q4_K = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let i = (rowByte >> 2u) + (u >> 2u) * 36u;
  let c = u & 3u;
  let dm = unpack2x16float(w[i]);
  let h = (c & 1u) * 16u;
  let a = (w[i + 1u] >> h) & 0xffffu; // bytes 2(c&1) .. +1 of s[0..3]
  let b = (w[i + 2u] >> h) & 0xffffu; // of s[4..7]
  let e = (w[i + 3u] >> h) & 0xffffu; // of s[8..11]
  let sc = select((e & 0x0f0fu) | ((a >> 2u) & 0x3030u), a & 0x3f3fu, c < 2u);        // scales of sub-blocks 2c, 2c + 1
  let mn = select(((e >> 4u) & 0x0f0fu) | ((b >> 2u) & 0x3030u), b & 0x3f3fu, c < 2u); // their mins
  let d1 = dm.x * f32(sc & 255u);
  let m1 = dm.y * f32(mn & 255u);
  let d2 = dm.x * f32(sc >> 8u);
  let m2 = dm.y * f32(mn >> 8u);
  let q = i + 4u + 8u * c;
  let v = array<u32, 8>(${Array.from({ length: 8 }, (_, k) => `w[q + ${k}u]`).join(', ')});
  return array<vec4f, 16>(
    ${list(8, (k) => `d1 * lo4(v[${k}]) - m1`)},
    ${list(8, (k) => `d2 * hi4(v[${k}]) - m2`)});
}
`;

// ---- Q6_K (210 bytes): ql[128] low 4 bits, qh[64] high 2 bits, int8 scales[16], f16 d.
// Value e = 128n + 32g + l (half n, group g, lane l): low bits in ql[64n + 32(g & 1) + l]
// (nibble g >> 1), high bits in qh[32n + l] (bits 2g), scale sc[e / 16]; value = d * sc * (q - 32).
// A unit is half n, lanes 16h .. 16h + 15 of all four groups: 64 values, not contiguous in the row.
const Q6_K = /* wgsl */ `
fn i8_at(o: u32) -> f32 { return f32(bitcast<i32>(w[o >> 2u] << (24u - (o & 3u) * 8u)) >> 24u); }
fn q6(lo: vec4f, hi: vec4u, shift: u32) -> vec4f { return lo + vec4f((hi >> vec4u(shift)) & vec4u(3u)) * 16.0 - 32.0; }
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let o = rowByte + (u >> 2u) * 210u;
  let n = (u >> 1u) & 1u;
  let h = u & 1u;
  let a = words_at(o + 64u * n + 16u * h);        // groups 0 (low nibbles) and 2 (high)
  let b = words_at(o + 64u * n + 32u + 16u * h);  // groups 1 and 3
  let qh = words_at(o + 128u + 32u * n + 16u * h);
  let d = half_at(o + 208u);
  let sc = o + 192u + 8u * n + h;
  let d0 = d * i8_at(sc);
  let d1 = d * i8_at(sc + 2u);
  let d2 = d * i8_at(sc + 4u);
  let d3 = d * i8_at(sc + 6u);
  let hb = array<vec4u, 4>(${Array.from({ length: 4 }, (_, k) => `vec4u(qh[${k}]) >> vec4u(0u, 8u, 16u, 24u)`).join(', ')});
  return array<vec4f, 16>(
    ${list(4, (k) => `d0 * q6(lo4(a[${k}]), hb[${k}], 0u)`)},
    ${list(4, (k) => `d1 * q6(lo4(b[${k}]), hb[${k}], 2u)`)},
    ${list(4, (k) => `d2 * q6(hi4(a[${k}]), hb[${k}], 4u)`)},
    ${list(4, (k) => `d3 * q6(hi4(b[${k}]), hb[${k}], 6u)`)});
}
`;
const Q6_K_XOFF = /* wgsl */ `
fn xoff(u: u32, i: u32) -> u32 { return (u >> 2u) * 256u + ((u >> 1u) & 1u) * 128u + (i >> 2u) * 32u + (u & 1u) * 16u + (i & 3u) * 4u; }
`;
