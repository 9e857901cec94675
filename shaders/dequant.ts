// WGSL decoders for GGUF weight rows, shared by the matmul and embedding kernels.
// A row of K values is read as `units`: small groups of values that one thread decodes together
// from u32 loads of the raw bytes (32 values for Q8_0/Q4_0, 64 for Q4_K/Q6_K, 4 to 16 for F32/F16).
// Each codec's WGSL defines, over a `w: array<u32>` binding that the kernel declares:
//   fn decode(rowByte: u32, u: u32) -> array<vec4f, UNIT / 4>   the dequantized values of unit u
//   fn xoff(u: u32, i: u32) -> u32      where in the row (value index) vec4 i of unit u sits
// Dequantization is exact (the same products as runtime/quant.ts); only sums may round differently.
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
  wgsl: string;
}

/** The decoder for rows of K values of `type`. */
export function codec(type: GgmlType, K: number, what = 'weight'): Codec {
  if (K % 4 !== 0) throw new TlcError(`${what}: rows of ${K} values are not supported (the kernels need a multiple of 4)`);
  const rowBytes = tensorBytes(type, K); // throws for unsupported types and partial blocks
  const make = (unit: number, body: string, xoff = contiguous(unit)): Codec => ({ type, unit, rowBytes, wgsl: HELPERS + body + xoff });
  switch (type) {
    case T.F32: return make(pick(K), f32Codec(pick(K)));
    case T.F16: return make(pick(K), f16Codec(pick(K)));
    case T.Q8_0: return make(32, Q8_0);
    case T.Q4_0: return make(32, Q4_0);
    case T.Q4_K: return make(64, Q4_K);
    case T.Q6_K: return make(64, Q6_K, Q6_K_XOFF);
    default: throw new TlcError(`${what}: GGML type ${typeName(type)} has no GPU kernel`);
  }
}

// F32/F16: the largest unit (16, 8 or 4 values) that divides K.
const pick = (K: number) => (K % 16 === 0 ? 16 : K % 8 === 0 ? 8 : 4);

const contiguous = (unit: number) => `
fn xoff(u: u32, i: u32) -> u32 { return u * ${unit}u + 4u * i; }
`;

// Q8_0, Q4_0 and Q6_K blocks (34, 18, 210 bytes) start on 2-byte boundaries, so their fields are
// read with words_at: four u32 loads (plus one) and a 16-bit funnel shift when misaligned.
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
fn byte_at(o: u32) -> u32 {
  return (w[o >> 2u] >> ((o & 3u) * 8u)) & 255u;
}
fn i8x4(v: u32) -> vec4f { // four int8s, little endian
  return vec4f((vec4i(bitcast<i32>(v)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u));
}
fn lo4(v: u32) -> vec4u { return (vec4u(v) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(15u); }
fn hi4(v: u32) -> vec4u { return (vec4u(v) >> vec4u(4u, 12u, 20u, 28u)) & vec4u(15u); }
`;

const list = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(', ');

function f32Codec(unit: number): string {
  return /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, ${unit / 4}> {
  let i = (rowByte >> 2u) + u * ${unit}u;
  return array<vec4f, ${unit / 4}>(${list(unit / 4, (k) => `bitcast<vec4f>(vec4u(w[i + ${4 * k}u], w[i + ${4 * k + 1}u], w[i + ${4 * k + 2}u], w[i + ${4 * k + 3}u]))`)});
}
`;
}

function f16Codec(unit: number): string {
  const h = (k: number) => `unpack2x16float(w[i + ${k}u])`;
  return /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, ${unit / 4}> {
  let i = (rowByte >> 2u) + u * ${unit / 2}u;
  return array<vec4f, ${unit / 4}>(${list(unit / 4, (k) => `vec4f(${h(2 * k)}, ${h(2 * k + 1)})`)});
}
`;
}

// block_q8_0: f16 d, int8 q[32]; value = q * d
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

// block_q4_0: f16 d, 16 bytes: byte j holds value j (low nibble) and value j + 16 (high); value = (q - 8) * d
const Q4_0 = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 8> {
  let o = rowByte + u * 18u;
  let d = half_at(o);
  let q = words_at(o + 2u);
  return array<vec4f, 8>(
    (vec4f(lo4(q.x)) - 8.0) * d, (vec4f(lo4(q.y)) - 8.0) * d, (vec4f(lo4(q.z)) - 8.0) * d, (vec4f(lo4(q.w)) - 8.0) * d,
    (vec4f(hi4(q.x)) - 8.0) * d, (vec4f(hi4(q.y)) - 8.0) * d, (vec4f(hi4(q.z)) - 8.0) * d, (vec4f(hi4(q.w)) - 8.0) * d);
}
`;

// block_q4_K (144 bytes, so always 4-byte aligned): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins
// for 8 sub-blocks of 32, 128 bytes of nibbles. A unit is one quarter c: 32 bytes whose low nibbles
// are sub-block 2c and high nibbles sub-block 2c + 1. value = d * sc * q - dmin * m
const Q4_K = /* wgsl */ `
fn k4_byte(s: vec3u, k: u32) -> u32 { return (s[k >> 2u] >> ((k & 3u) * 8u)) & 255u; }
fn k4_scale_min(s: vec3u, j: u32) -> vec2f { // ggml's get_scale_min_k4
  if (j < 4u) { return vec2f(f32(k4_byte(s, j) & 63u), f32(k4_byte(s, j + 4u) & 63u)); }
  let b = k4_byte(s, j + 4u);
  return vec2f(f32((b & 15u) | ((k4_byte(s, j - 4u) >> 6u) << 4u)), f32((b >> 4u) | ((k4_byte(s, j) >> 6u) << 4u)));
}
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let i = (rowByte + (u >> 2u) * 144u) >> 2u;
  let c = u & 3u;
  let dm = unpack2x16float(w[i]);
  let s = vec3u(w[i + 1u], w[i + 2u], w[i + 3u]);
  let lo = k4_scale_min(s, 2u * c) * dm;      // (d1, m1)
  let hi = k4_scale_min(s, 2u * c + 1u) * dm; // (d2, m2)
  let q = i + 4u + 8u * c;
  let b0 = w[q]; let b1 = w[q + 1u]; let b2 = w[q + 2u]; let b3 = w[q + 3u]; let b4 = w[q + 4u]; let b5 = w[q + 5u]; let b6 = w[q + 6u]; let b7 = w[q + 7u];
  return array<vec4f, 16>(lo.x * vec4f(lo4(b0)) - lo.y, lo.x * vec4f(lo4(b1)) - lo.y, lo.x * vec4f(lo4(b2)) - lo.y, lo.x * vec4f(lo4(b3)) - lo.y,
    lo.x * vec4f(lo4(b4)) - lo.y, lo.x * vec4f(lo4(b5)) - lo.y, lo.x * vec4f(lo4(b6)) - lo.y, lo.x * vec4f(lo4(b7)) - lo.y,
    hi.x * vec4f(hi4(b0)) - hi.y, hi.x * vec4f(hi4(b1)) - hi.y, hi.x * vec4f(hi4(b2)) - hi.y, hi.x * vec4f(hi4(b3)) - hi.y,
    hi.x * vec4f(hi4(b4)) - hi.y, hi.x * vec4f(hi4(b5)) - hi.y, hi.x * vec4f(hi4(b6)) - hi.y, hi.x * vec4f(hi4(b7)) - hi.y);
}
`;

// block_q6_K (210 bytes): ql[128] low 4 bits, qh[64] high 2 bits, int8 scales[16], f16 d.
// Value e = 128n + 32g + l (half n, group g, lane l): low bits in ql[64n + 32(g&1) + l] (nibble g>>1),
// high bits in qh[32n + l] (bits 2g), scale sc[e / 16]; value = d * sc * (q - 32).
// A unit is half n, lanes 16h..16h+15 of all four groups: 64 values, not contiguous in the row.
const Q6_K = /* wgsl */ `
fn decode(rowByte: u32, u: u32) -> array<vec4f, 16> {
  let o = rowByte + (u >> 2u) * 210u;
  let n = (u >> 1u) & 1u;
  let h = u & 1u;
  let a = words_at(o + 64u * n + 16u * h);        // groups 0 (low nibbles) and 2 (high)
  let b = words_at(o + 64u * n + 32u + 16u * h);  // groups 1 and 3
  let qh = words_at(o + 128u + 32u * n + 16u * h);
  let d = half_at(o + 208u);
  let sc = o + 192u + 8u * n + h;
  let ds = d * vec4f(f32(i32(byte_at(sc) << 24u) >> 24u), f32(i32(byte_at(sc + 2u) << 24u) >> 24u),
                     f32(i32(byte_at(sc + 4u) << 24u) >> 24u), f32(i32(byte_at(sc + 6u) << 24u) >> 24u));
  var v: array<vec4f, 16>;
  for (var k = 0u; k < 4u; k++) {
    let hb = vec4u(qh[k]) >> vec4u(0u, 8u, 16u, 24u);
    v[k]       = ds.x * (vec4f(lo4(a[k]) | (((hb     ) & vec4u(3u)) << vec4u(4u))) - 32.0);
    v[k + 4u]  = ds.y * (vec4f(lo4(b[k]) | (((hb >> vec4u(2u)) & vec4u(3u)) << vec4u(4u))) - 32.0);
    v[k + 8u]  = ds.z * (vec4f(hi4(a[k]) | (((hb >> vec4u(4u)) & vec4u(3u)) << vec4u(4u))) - 32.0);
    v[k + 12u] = ds.w * (vec4f(hi4(b[k]) | (((hb >> vec4u(6u)) & vec4u(3u)) << vec4u(4u))) - 32.0);
  }
  return v;
}
`;
const Q6_K_XOFF = /* wgsl */ `
fn xoff(u: u32, i: u32) -> u32 { return (u >> 2u) * 256u + ((u >> 1u) & 1u) * 128u + (i >> 2u) * 32u + (u & 1u) * 16u + (i & 3u) * 4u; }
`;
