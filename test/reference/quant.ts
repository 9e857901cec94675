// An independent dequantizer for the GGML weight formats tlc reads, written from llama.cpp's
// definitions (ggml-common.h block structs, ggml-quants.c dequantize_row_*), not from
// runtime/quant.ts: what the kernel tests and the reference forward pass take as the true weights.
// Arithmetic is C float arithmetic (every product and difference rounded to f32), so the values
// are llama.cpp's bit for bit. Little endian throughout.
//
//   type  values/block  bytes  layout
//   F32        1          4    float
//   F16        1          2    IEEE half
//   Q4_0      32         18    half d; u8 qs[16]: x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
//   Q8_0      32         34    half d; i8 qs[32]: x[j] = d * qs[j]
//   Q4_K     256        144    half d, half dmin; u8 scales[12] (6-bit scale and min of 8 sub-blocks); u8 qs[128]
//   Q6_K     256        210    u8 ql[128] (low 4 bits); u8 qh[64] (high 2 bits); i8 scales[16]; half d

/** GGML type ids (ggml.h enum ggml_type). */
export const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14 } as const;

const LAYOUT: Record<number, [values: number, bytes: number]> = {
  [GGML.F32]: [1, 4], [GGML.F16]: [1, 2], [GGML.Q4_0]: [32, 18], [GGML.Q8_0]: [32, 34], [GGML.Q4_K]: [256, 144], [GGML.Q6_K]: [256, 210],
};

const f32 = Math.fround;

/** IEEE 754 binary16 -> number: sign, 5-bit exponent (bias 15), 10-bit fraction; subnormals, inf, NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Bytes of `count` values of `type`. */
export function refTensorBytes(type: number, count: number): number {
  const [values, bytes] = LAYOUT[type];
  if (count % values) throw new Error(`${count} values are not whole blocks of ${values}`);
  return (count / values) * bytes;
}

/** The `count` f32 values that `bytes` of GGML type `type` hold. */
export function refDequantize(type: number, bytes: Uint8Array, count: number): Float32Array {
  const layout = LAYOUT[type];
  if (!layout) throw new Error(`reference dequantizer: GGML type ${type} is not defined here`);
  const [n, size] = layout;
  if (bytes.length < refTensorBytes(type, count)) throw new Error(`${bytes.length} bytes hold fewer than ${count} values`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = (o: number) => halfToFloat(v.getUint16(o, true));
  const y = new Float32Array(count);
  for (let b = 0; b < count / n; b++) {
    const o = b * size, out = y.subarray(b * n, (b + 1) * n);
    switch (type) {
      case GGML.F32: out[0] = v.getFloat32(o, true); break;
      case GGML.F16: out[0] = half(o); break;
      case GGML.Q8_0: {
        const d = half(o);
        for (let j = 0; j < 32; j++) out[j] = f32(d * v.getInt8(o + 2 + j));
        break;
      }
      case GGML.Q4_0: {
        const d = half(o);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 2 + j];
          out[j] = f32(d * ((q & 15) - 8));
          out[j + 16] = f32(d * ((q >> 4) - 8));
        }
        break;
      }
      case GGML.Q4_K: {
        const d = half(o), dmin = half(o + 2), sc = bytes.subarray(o + 4, o + 16), qs = bytes.subarray(o + 16, o + 144);
        // get_scale_min_k4: sub-blocks 0..3 take the low 6 bits of bytes j and j + 4; 4..7 take a
        // nibble of byte j + 4 and the top 2 bits of bytes j - 4 (scale) and j (min).
        const scaleMin = (j: number): [number, number] => j < 4
          ? [sc[j] & 63, sc[j + 4] & 63]
          : [(sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4), (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4)];
        // 64 values at a time: 32 from the low nibbles of 32 bytes (sub-block 2i), 32 from their high nibbles (2i + 1)
        for (let i = 0; i < 4; i++) {
          const [s1, m1] = scaleMin(2 * i), [s2, m2] = scaleMin(2 * i + 1);
          const d1 = f32(d * s1), min1 = f32(dmin * m1), d2 = f32(d * s2), min2 = f32(dmin * m2);
          for (let l = 0; l < 32; l++) {
            const q = qs[32 * i + l];
            out[64 * i + l] = f32(f32(d1 * (q & 15)) - min1);
            out[64 * i + 32 + l] = f32(f32(d2 * (q >> 4)) - min2);
          }
        }
        break;
      }
      case GGML.Q6_K: {
        const ql = bytes.subarray(o, o + 128), qh = bytes.subarray(o + 128, o + 192), d = half(o + 208);
        const sc = (i: number) => v.getInt8(o + 192 + i);
        // two halves of 128 values; in each, value l + 32 t (t = 0..3) takes a nibble of ql and 2 bits of qh[l]
        for (let h = 0; h < 2; h++) {
          for (let l = 0; l < 32; l++) {
            const is = 8 * h + (l >> 4), a = ql[64 * h + l], b = ql[64 * h + l + 32], hi = qh[32 * h + l];
            const q = [(a & 15) | ((hi & 3) << 4), (b & 15) | (((hi >> 2) & 3) << 4), (a >> 4) | (((hi >> 4) & 3) << 4), (b >> 4) | (((hi >> 6) & 3) << 4)];
            for (let t = 0; t < 4; t++) out[128 * h + 32 * t + l] = f32(f32(d * sc(is + 2 * t)) * (q[t] - 32));
          }
        }
        break;
      }
    }
  }
  return y;
}
