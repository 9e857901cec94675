// Hand-built K-quant blocks with chosen scales, laid out from the block descriptions in
// ggml-common.h (independently of runtime/quant.ts), and the values they must decode to.

/**
 * Q4_K: d = 1, dmin = 0.5; sub-block j (32 values) has 6-bit scale sc[j] and min m[j], chosen so
 * that the high 2 bits of sub-blocks 4..7 are used; q(e) = (7e + 3) mod 16.
 * value(e) = d * sc[j] * q(e) - dmin * m[j], j = e / 32.
 */
export function q4kBlock(): { bytes: Uint8Array; values: number[] } {
  const sc = [1, 2, 3, 4, 17, 33, 50, 63], m = [0, 5, 10, 15, 20, 40, 60, 63];
  const q = (e: number) => (7 * e + 3) % 16;
  const bytes = new Uint8Array(144);
  bytes.set([0x00, 0x3c, 0x00, 0x38]); // d = 1.0, dmin = 0.5 (f16, little endian)
  for (let j = 0; j < 4; j++) {
    bytes[4 + j] = sc[j] | ((sc[j + 4] >> 4) << 6);         // scales 0..3, top bits of scales 4..7
    bytes[4 + j + 4] = m[j] | ((m[j + 4] >> 4) << 6);       // mins 0..3, top bits of mins 4..7
    bytes[4 + j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4); // low 4 bits of scale and min 4..7
  }
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) bytes[16 + 32 * c + l] = q(64 * c + l) | (q(64 * c + 32 + l) << 4);
  }
  const values = Array.from({ length: 256 }, (_, e) => 1 * sc[e >> 5] * q(e) - 0.5 * m[e >> 5]);
  return { bytes, values };
}

/**
 * Q6_K: d = 0.25, int8 scales sc[j] = 17j - 128 (one per 16 values, -128 .. 127),
 * q(e) = (5e + 1) mod 64. value(e) = d * sc[e / 16] * (q(e) - 32).
 */
export function q6kBlock(): { bytes: Uint8Array; values: number[] } {
  const sc = Array.from({ length: 16 }, (_, j) => 17 * j - 128);
  const q = (e: number) => (5 * e + 1) % 64;
  const bytes = new Uint8Array(210); // ql[128], qh[64], scales[16], d
  for (let n = 0; n < 2; n++) {
    for (let l = 0; l < 32; l++) {
      const e = 128 * n + l;
      bytes[64 * n + l] = (q(e) & 15) | ((q(e + 64) & 15) << 4);
      bytes[64 * n + 32 + l] = (q(e + 32) & 15) | ((q(e + 96) & 15) << 4);
      bytes[128 + 32 * n + l] = (q(e) >> 4) | ((q(e + 32) >> 4) << 2) | ((q(e + 64) >> 4) << 4) | ((q(e + 96) >> 4) << 6);
    }
  }
  sc.forEach((s, j) => (bytes[192 + j] = s & 255));
  bytes.set([0x00, 0x34], 208); // d = 0.25
  const values = Array.from({ length: 256 }, (_, e) => 0.25 * sc[e >> 4] * (q(e) - 32));
  return { bytes, values };
}
