// WGSL decoders for GGUF weight rows, shared by the matmul and embedding kernels.
// A row of K values is read as `units`: groups of 16 to 64 values that one thread decodes together
// from u32 (for F32/F16: vec4<u32>) loads of the raw bytes, from a `w: array<word>` binding that
// the kernel declares. A codec gives, as WGSL text:
//   load(rowByte, u)   statements reading unit u of the row starting at byte rowByte into lets
//   value(i)           after load: the i-th vec4 of the unit's dequantized values
//   dot(x)             after load: Σ_i value(i) · x(i) as f32 (the kernel defines hsum), with per-block scales factored out
//                      where that is exact enough (Q8_0, Q4_0)
//   wgsl               helper functions, xoff(u, i) (the row index of value(i)'s first value) and
//                      decode(rowByte, u) -> array<vec4f, UNIT / 4>
// Kernels inline load + dot: the values are used as soon as they are made (on lavapipe, where each
// f32 lane value takes a SIMD register, a whole unit held at once spills).
// Dequantization is exact (the same products as runtime/quant.ts); only sums may round differently.
//
// Q8_0 and Q4_0 blocks (34 and 18 bytes) and Q6_K blocks (210) start on 2-byte boundaries. When K
// allows, a unit is two Q8_0/Q4_0 blocks, which start 4-byte aligned, so every shift is a constant;
// otherwise words_at reads 16 bytes at any even offset with one extra load and a funnel shift.
// Q8_0/Q4_0 rows of a multiple of 256 values are not in the GGUF order on the GPU but split, quants
// then scales (runtime/weight-layout.ts; SPLIT below), so their quants are aligned vec4<u32> loads.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { GgmlType } from '../runtime/weights.ts';
import { TlcError } from '../runtime/errors.ts';
import { tensorBytes, typeName } from '../runtime/quant.ts';
import { isSplit } from '../runtime/weight-layout.ts';

export interface Codec {
  type: GgmlType;
  unit: number;     // values per unit, a multiple of 4
  rowBytes: number; // bytes of one row of K values
  word: 'u32' | 'vec4u';
  load(rowByte: string, u: string): string;
  value(i: number): string;
  dot(x: (i: number) => string): string;
  wgsl: string;
  readers: string; // the part of wgsl that reads w: decode and the byte readers
}

interface Layout {
  unit: number;
  word: Codec['word'];
  load(rowByte: string, u: string): string;
  value(i: number): string;
  dot?(x: (i: number) => string): string;
  xoff?: string; // WGSL, when the unit's values are not contiguous in the row
}

/** The decoder for rows of K values of `type`. */
export function codec(type: GgmlType, K: number, what = 'weight'): Codec {
  if (K % 4 !== 0) throw new TlcError(`${what}: rows of ${K} values are not supported (the kernels need a multiple of 4)`);
  const rowBytes = tensorBytes(type, K); // throws for unsupported types and partial blocks
  const layout = isSplit(type, K) ? SPLIT[type]?.(K) : LAYOUTS[type]?.(K);
  if (!layout) throw new TlcError(`${what}: GGML type ${typeName(type)} has no GPU kernel`);
  const u4 = layout.unit / 4;
  const dot = layout.dot ?? ((x: (i: number) => string) => hsum(u4, (i) => `${layout.value(i)} * ${x(i)}`));
  const readers = `${layout.word === 'u32' ? READERS : ''}
fn decode(rowByte: u32, u: u32) -> array<vec4f, ${u4}> {
${layout.load('rowByte', 'u')}
  return array<vec4f, ${u4}>(${seq(u4, layout.value, ', ')});
}
`;
  const wgsl = `${HELPERS}
${layout.xoff ?? `fn xoff(u: u32, i: u32) -> u32 { return u * ${layout.unit}u + 4u * i; }`}
${readers}`;
  return { type, unit: layout.unit, rowBytes, word: layout.word, load: layout.load, value: layout.value, dot, wgsl, readers };
}

/**
 * The same decoder reading the binding `name` instead of `w` (a kernel with a second weight of
 * the same type and shape, such as the up projection beside the gate). Its `wgsl` holds only the
 * functions that read the buffer, renamed; the rest (xoff, the bit helpers) comes from the first.
 */
export function codecFor(c: Codec, name: string): Codec {
  const rename = (text: string) =>
    text.replace(/\bw\[/g, `${name}[`).replace(/\b(words_at|half_at|i8_at|decode)\(/g, `$1_${name}(`);
  return {
    ...c,
    load: (rb, u) => rename(c.load(rb, u)),
    value: (i) => rename(c.value(i)),
    dot: (x) => rename(c.dot(x)),
    wgsl: rename(c.readers),
    readers: rename(c.readers),
  };
}

const seq = (n: number, f: (i: number) => string, sep: string, from = 0) => Array.from({ length: n }, (_, i) => f(from + i)).join(sep);
/** hsum(Σ terms): sums of vec4 products, then the four lanes. */
const hsum = (n: number, term: (i: number) => string, from = 0) => `hsum(${seq(n, term, ' + ', from)})`;
/** hsum(Σ_i a(i) * b(i)) as a chain of fma (one instruction a product where the CPU has FMA). */
const fmaSum = (n: number, a: (i: number) => string, b: (i: number) => string, from = 0): string => {
  let e = `${a(from)} * ${b(from)}`;
  for (let i = from + 1; i < from + n; i++) e = `fma(${a(i)}, ${b(i)}, ${e})`;
  return `hsum(${e})`;
};
const words = (base: string, n: number) => seq(n, (k) => `  let v${k} = w[${base} + ${k}u];`, '\n');
const xyzw = (k: number) => 'xyzw'[k];

// Functions that read the weight buffer w (renamed by codecFor for a second one).
const READERS = /* wgsl */ `
fn words_at(o: u32) -> vec4u { // 16 bytes at the even byte offset o
  let i = o >> 2u;
  let a = vec4u(w[i], w[i + 1u], w[i + 2u], w[i + 3u]);
  let b = vec4u(a.yzw, w[i + 4u]);
  return select(a, (a >> vec4u(16u)) | (b << vec4u(16u)), (o & 2u) != 0u);
}
fn half_at(o: u32) -> f32 { // f16 at the even byte offset o
  return unpack2x16float(w[o >> 2u] >> ((o & 2u) * 8u)).x;
}
fn i8_at(o: u32) -> f32 { return f32(bitcast<i32>(w[o >> 2u] << (24u - (o & 3u) * 8u)) >> 24u); }
`;

const HELPERS = /* wgsl */ `
fn funnel(lo: u32, hi: u32) -> u32 { return (lo >> 16u) | (hi << 16u); } // bytes 2..5 of lo, hi
fn i8x4(v: u32) -> vec4f { // four int8s, little endian
  return vec4f((vec4i(bitcast<i32>(v)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u));
}
fn lo4(v: u32) -> vec4f { return vec4f((vec4u(v) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(15u)); }
fn s4x4(v: u32, hi: u32) -> vec4f { // the signed nibbles of bytes 0..3, low (hi = 0) or high (hi = 1)
  return vec4f((vec4i(bitcast<i32>(v)) << (vec4u(28u, 20u, 12u, 4u) - 4u * hi)) >> vec4u(28u));
}
fn hi4(v: u32) -> vec4f { return vec4f((vec4u(v) >> vec4u(4u, 12u, 20u, 28u)) & vec4u(15u)); }
fn i6x4(v: u32) -> vec4f { // four 6-bit signed ints, one in the low bits of each byte
  return vec4f((vec4i(bitcast<i32>(v)) << vec4u(26u, 18u, 10u, 2u)) >> vec4u(26u));
}
`;

const LAYOUTS: Partial<Record<GgmlType, (K: number) => Layout>> = {
  // F32 rows are 16-byte multiples: vec4<u32> loads, 16 values (or 4) per unit.
  [T.F32]: (K) => {
    const n = K % 16 === 0 ? 4 : 1;
    return {
      unit: 4 * n, word: 'vec4u',
      load: (rb, u) => `  let i = (${rb} >> 4u) + ${u} * ${n}u;`,
      value: (k) => `bitcast<vec4f>(w[i + ${k}u])`,
    };
  },

  // F16: vec4<u32> loads (8 values each) when rows are 16-byte multiples, else pairs of u32.
  [T.F16]: (K) => {
    if (K % 8 !== 0) {
      return { unit: 4, word: 'u32', load: (rb, u) => `  let i = (${rb} >> 2u) + ${u} * 2u;`, value: () => 'vec4f(unpack2x16float(w[i]), unpack2x16float(w[i + 1u]))' };
    }
    const n = K % 16 === 0 ? 2 : 1;
    return {
      unit: 8 * n, word: 'vec4u',
      load: (rb, u) => `  let i = (${rb} >> 4u) + ${u} * ${n}u;\n${seq(n, (k) => `  let v${k} = w[i + ${k}u];`, '\n')}`,
      value: (k) => `vec4f(unpack2x16float(v${k >> 1}.${xyzw(2 * (k & 1))}), unpack2x16float(v${k >> 1}.${xyzw(2 * (k & 1) + 1)}))`,
    };
  },

  // Q8_0: f16 d, int8 q[32]; value = q * d.
  // Two blocks = 68 bytes = words 0..16: block A's d is the low half of word 0 and its quants sit
  // 2 bytes into words 0..8; block B's d is the high half of word 8 and its quants are words 9..16.
  [T.Q8_0]: (K) => {
    if (K % 64 !== 0) {
      const q = (k: number) => `i8x4(${k < 4 ? 'a' : 'b'}.${xyzw(k & 3)})`;
      return {
        unit: 32, word: 'u32',
        load: (rb, u) => `  let o = ${rb} + ${u} * 34u;\n  let d = half_at(o);\n  let a = words_at(o + 2u);\n  let b = words_at(o + 18u);`,
        value: (k) => `${q(k)} * d`,
        dot: (x) => `d * ${hsum(8, (k) => `${q(k)} * ${x(k)}`)}`,
      };
    }
    const q = (k: number) => (k < 8 ? `i8x4(funnel(v${k}, v${k + 1}))` : `i8x4(v${k + 1})`);
    return {
      unit: 64, word: 'u32',
      load: (rb, u) => `  let i = (${rb} >> 2u) + ${u} * 17u;\n${words('i', 17)}\n  let da = unpack2x16float(v0).x;\n  let db = unpack2x16float(v8).y;`,
      value: (k) => `${q(k)} * ${k < 8 ? 'da' : 'db'}`,
      dot: (x) => `da * ${fmaSum(8, q, x)} + db * ${fmaSum(8, q, x, 8)}`,
    };
  },

  // Q4_0: f16 d, 16 bytes; byte j holds value j (low nibble) and j + 16 (high); value = (q - 8) * d.
  // Two blocks = 36 bytes = words 0..8: A's d is the low half of word 0 and its nibbles sit 2 bytes
  // into words 0..4; B's d is the high half of word 4 and its nibbles are words 5..8.
  [T.Q4_0]: (K) => {
    const nib = (k: number, word: (j: number) => string) => `(${k < 4 ? 'lo4' : 'hi4'}(${word(k & 3)}) - 8.0)`;
    if (K % 64 !== 0) {
      const q = (k: number) => nib(k, (j) => `q.${xyzw(j)}`);
      return {
        unit: 32, word: 'u32',
        load: (rb, u) => `  let o = ${rb} + ${u} * 18u;\n  let d = half_at(o);\n  let q = words_at(o + 2u);`,
        value: (k) => `${q(k)} * d`,
        dot: (x) => `d * ${hsum(8, (k) => `${q(k)} * ${x(k)}`)}`,
      };
    }
    // The nibble words are XORed with 0x88888888: each nibble n becomes n ^ 8, whose value as a
    // signed 4-bit number is n - 8, so a left and an arithmetic right shift give q - 8 directly.
    const sq = (k: number) => (k < 8 ? `s4x4(s${k & 3}, ${k >> 2}u)` : `s4x4(s${(k & 3) + 4}, ${(k - 8) >> 2}u)`);
    return {
      unit: 64, word: 'u32',
      load: (rb, u) => `  let i = (${rb} >> 2u) + ${u} * 9u;\n${words('i', 9)}\n  let da = unpack2x16float(v0).x;\n  let db = unpack2x16float(v4).y;
${seq(4, (j) => `  let s${j} = funnel(v${j}, v${j + 1}) ^ 0x88888888u;`, '\n')}
${seq(4, (j) => `  let s${j + 4} = v${j + 5} ^ 0x88888888u;`, '\n')}`,
      value: (k) => `${sq(k)} * ${k < 8 ? 'da' : 'db'}`,
      dot: (x) => `da * ${fmaSum(8, sq, x)} + db * ${fmaSum(8, sq, x, 8)}`,
    };
  },

  // Q4_K (144 bytes, always 4-byte aligned): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for
  // 8 sub-blocks of 32, 128 bytes of nibbles. A unit is quarter c of a block: 32 bytes whose low
  // nibbles are sub-block 2c and high nibbles sub-block 2c + 1. value = d * sc * q - dmin * m.
  // Scale bytes s (ggml's get_scale_min_k4), for j < 4: sc = s[j] & 63, m = s[j + 4] & 63; else
  // sc = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4, m = (s[j + 4] >> 4) | (s[j] >> 6) << 4.
  // Sub-blocks 2c and 2c + 1 use the same two bytes of each scale word: both come from 16-bit halves.
  [T.Q4_K]: () => ({
    unit: 64, word: 'u32',
    load: (rb, u) => /* wgsl */ `  let i = (${rb} >> 2u) + (${u} >> 2u) * 36u;
  let c = ${u} & 3u;
  let dm = unpack2x16float(w[i]);
  let h = (c & 1u) * 16u;
  let sa = (w[i + 1u] >> h) & 0xffffu; // bytes 2(c & 1), +1 of s[0..3]
  let sb = (w[i + 2u] >> h) & 0xffffu; // of s[4..7]
  let se = (w[i + 3u] >> h) & 0xffffu; // of s[8..11]
  let sc = select((se & 0x0f0fu) | ((sa >> 2u) & 0x3030u), sa & 0x3f3fu, c < 2u);        // scales of sub-blocks 2c, 2c + 1
  let mn = select(((se >> 4u) & 0x0f0fu) | ((sb >> 2u) & 0x3030u), sb & 0x3f3fu, c < 2u); // their mins
  let d1 = dm.x * f32(sc & 255u);
  let m1 = dm.y * f32(mn & 255u);
  let d2 = dm.x * f32(sc >> 8u);
  let m2 = dm.y * f32(mn >> 8u);
${words('i + 4u + 8u * c', 8)}`,
    value: (k) => (k < 8 ? `(d1 * lo4(v${k}) - m1)` : `(d2 * hi4(v${k - 8}) - m2)`),
  }),

  // Q6_K (210 bytes): ql[128] low 4 bits, qh[64] high 2 bits, int8 scales[16], f16 d. Value
  // e = 128n + 32g + l (half n, group g, lane l): low bits in ql[64n + 32(g & 1) + l] (nibble g >> 1),
  // high bits in qh[32n + l] (bits 2g), scale sc[e / 16]; value = d * sc * (q - 32).
  // A unit is half n, lanes 16h .. 16h + 15 of all four groups: 64 values, not contiguous in the row.
  [T.Q6_K]: () => ({
    unit: 64, word: 'u32',
    load: (rb, u) => /* wgsl */ `  let o = ${rb} + (${u} >> 2u) * 210u;
  let n = (${u} >> 1u) & 1u;
  let h = ${u} & 1u;
  let qa = words_at(o + 64u * n + 16u * h);        // groups 0 (low nibbles) and 2 (high)
  let qb = words_at(o + 64u * n + 32u + 16u * h);  // groups 1 and 3
  let qh = words_at(o + 128u + 32u * n + 16u * h);
  let d = half_at(o + 208u);
  let s = o + 192u + 8u * n + h;
  let ds = d * vec4f(i8_at(s), i8_at(s + 2u), i8_at(s + 4u), i8_at(s + 6u)); // scales of groups 0..3`,
    // q - 32 for 4 values at once: the 6-bit q of each byte, bit 5 flipped, is q - 32 as a 6-bit
    // two's complement number, which i6x4 sign-extends.
    value: (k) => {
      const g = k >> 2, j = k & 3;
      const low = `(q${g & 1 ? 'b' : 'a'}.${xyzw(j)} >> ${4 * (g >> 1)}u) & 0x0f0f0f0fu`;
      const high = `((qh.${xyzw(j)} >> ${2 * g}u) & 0x03030303u) << 4u`;
      return `ds.${xyzw(g)} * i6x4(((${low}) | (${high})) ^ 0x20202020u)`;
    },
    xoff: 'fn xoff(u: u32, i: u32) -> u32 { return (u >> 2u) * 256u + ((u >> 1u) & 1u) * 128u + (i >> 2u) * 32u + (u & 1u) * 16u + (i & 3u) * 4u; }',
  }),
};

// Q4_0 and Q8_0 rows stored split (runtime/weight-layout.ts): the row's quants as 16-byte lines,
// then its f16 scales; rowByte is a multiple of 16 (K % 256 = 0). A unit is two blocks: their quants
// are aligned vec4<u32> loads (one a block for Q4_0, two for Q8_0) and their two scales one word of
// a line of scales. (Measured on lavapipe: units of four or eight blocks, which would read whole
// lines of scales, are slower; their values do not fit in registers.)
function splitLayout(K: number, lines: number, q: (k: number) => string): Layout {
  const scaleLine = (rb: string) => `((${rb} + ${(K / 32) * lines * 16}u) >> 4u)`; // the row's first line of scales
  const d = (b: number) => `sd.${'xy'[b]}`; // block b's scale
  return {
    unit: 64, word: 'vec4u',
    load: (rb, u) => `  let i = (${rb} >> 4u) + ${u} * ${2 * lines}u;
${seq(2 * lines, (k) => `  let q${k} = w[i + ${k}u];`, '\n')}
  let sl = w[${scaleLine(rb)} + (${u} >> 2u)];
  let sc = ${u} & 3u;
  let sd = unpack2x16float(select(select(sl.x, sl.y, sc == 1u), select(sl.z, sl.w, sc == 3u), sc >= 2u));`,
    value: (k) => `${q(k)} * ${d(k >> 3)}`,
    dot: (x) => `${d(0)} * ${fmaSum(8, q, x)} + ${d(1)} * ${fmaSum(8, q, x, 8)}`,
  };
}
const SPLIT: Partial<Record<GgmlType, (K: number) => Layout>> = {
  // Value vec4 k of the unit: block k >> 3, the low nibbles (k & 4 = 0) or high ones of its quant
  // word k & 3. The XOR makes each nibble n the signed 4-bit n - 8 (as in LAYOUTS).
  [T.Q4_0]: (K) => splitLayout(K, 1, (k) => `s4x4(q${k >> 3}.${xyzw(k & 3)} ^ 0x88888888u, ${(k >> 2) & 1}u)`),
  // Value vec4 k: bytes 4k .. 4k + 3 of the unit's quants, of line k >> 2.
  [T.Q8_0]: (K) => splitLayout(K, 2, (k) => `i8x4(q${k >> 2}.${xyzw(k & 3)})`),
};
