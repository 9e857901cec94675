import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { blockInfo, tensorBytes, quantize, dequantize, f32ToF16, f16ToF32, fitAffine, fitSymmetric } from '../runtime/quant.ts';
import { TlcError } from '../runtime/errors.ts';
import { Rng } from '../runtime/rng.ts';
import { q4kBlock, q6kBlock } from './reference/blocks.ts';
import { refDequantize } from './reference/quant.ts';
import { refFitAffine, refFitSymmetric } from './reference/kquant-fit.ts';

describe('quant: block formats', () => {
  const blocks: [string, T, number, number][] = [
    ['F32', T.F32, 1, 4], ['F16', T.F16, 1, 2], ['Q8_0', T.Q8_0, 32, 34],
    ['Q4_0', T.Q4_0, 32, 18], ['Q4_K', T.Q4_K, 256, 144], ['Q6_K', T.Q6_K, 256, 210],
  ];
  for (const [name, type, blockSize, bytesPerBlock] of blocks) {
    it(`${name}: ${blockSize} values in ${bytesPerBlock} bytes`, () => {
      assert.deepEqual(blockInfo(type), { blockSize, bytesPerBlock });
      assert.equal(tensorBytes(type, 512 * 3), (512 * 3 / blockSize) * bytesPerBlock);
    });
  }

  it('unsupported types and partial blocks are TlcErrors that name the type', () => {
    assert.throws(() => blockInfo(T.Q5_K), (e: Error) => e instanceof TlcError && /Q5_K/.test(e.message));
    assert.throws(() => quantize(T.IQ2_XS, new Float32Array(256)), (e: Error) => e instanceof TlcError && /IQ2_XS/.test(e.message));
    assert.throws(() => tensorBytes(T.Q4_K, 300), (e: Error) => e instanceof TlcError && /Q4_K.*256.*300/.test(e.message));
    assert.throws(() => dequantize(T.Q8_0, new Uint8Array(33), 32), (e: Error) => e instanceof TlcError && /Q8_0/.test(e.message));
  });

  it('the error lists the supported types; a number with no GGML name is shown as "type N"', () => {
    assert.throws(() => blockInfo(T.Q5_K), (e: Error) => e.message.endsWith('(supported: F32, F16, Q4_0, Q8_0, Q4_K, Q6_K)'));
    assert.throws(() => blockInfo(999 as T), (e: Error) => e instanceof TlcError && e.message.startsWith('GGML type type 999 is not supported'));
  });

  it('a negative or fractional count is not a whole number of blocks, even a multiple of the block size', () => {
    for (const [type, count] of [[T.Q8_0, -32], [T.F32, -1], [T.Q4_K, -256], [T.F16, 0.5]] as const) {
      assert.throws(() => tensorBytes(type, count), (e: Error) => e instanceof TlcError && e.message.includes(`${count} values is not a whole number of blocks`), `${T[type]} ${count}`);
    }
    assert.equal(tensorBytes(T.Q8_0, 0), 0);
  });
});

describe('quant: f16', () => {
  const toHalf: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [65520, 0x7c00],                      // rounds up past the largest half: inf
    [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400],                   // smallest normal
    [2 ** -24, 0x0001],                   // smallest subnormal
    [2 ** -25, 0x0000],                   // half of it: a tie, to even (zero)
    [3 * 2 ** -25, 0x0002],               // 1.5 units: a tie, to even (2)
    [1 + 2 ** -11, 0x3c00],               // tie between 1 and 1 + 2^-10: to even
    [1 + 3 * 2 ** -11, 0x3c02],           // tie: to even (up)
    [0.1, 0x2e66],
    [98304, 0x7c00], [-131008, 0xfc00],   // f32 exponent 16 (past the largest half): inf, not a NaN pattern
    [1e10, 0x7c00],
    [1.5 * 2 ** -25, 0x0001],             // f32 exponent -25: rounds up to the smallest subnormal
    [-1.5 * 2 ** -25, 0x8001],
    [2 ** -26, 0x0000], [2 ** -30, 0x0000], [-1e-10, 0x8000], // below: signed zero
  ];
  for (const [x, h] of toHalf) {
    it(`f32ToF16(${Object.is(x, -0) ? '-0' : x}) = 0x${h.toString(16).padStart(4, '0')}`, () => assert.equal(f32ToF16(x), h));
  }
  const fromHalf: [number, number][] = [
    [0x3c00, 1], [0x8000, -0], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x7bff, 65504],
    [0xfc00, -Infinity], [0x2e66, 0.0999755859375], [0x3555, 0.333251953125],
    [0x0000, 0], [0x8001, -(2 ** -24)], [0x83ff, -1023 * 2 ** -24], [0x0400, 2 ** -14], [0xbc00, -1],
    [0x7c00, Infinity], [0xc000, -2], [0x5640, 100], [0xfbff, -65504], [0x1e00, 0.005859375],
  ];
  for (const [h, x] of fromHalf) {
    it(`f16ToF32(0x${h.toString(16).padStart(4, '0')}) = ${Object.is(x, -0) ? '-0' : x}`, () => assert.ok(Object.is(f16ToF32(h), x)));
  }

  it('every finite half survives f16 -> f32 -> f16, and NaN stays NaN', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
        assert.ok(Number.isNaN(f16ToF32(h)));
        continue;
      }
      assert.equal(f32ToF16(f16ToF32(h)), h, `0x${h.toString(16)}`);
    }
    assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  });
});

describe('quant: quantize -> dequantize', () => {
  // Bounds, for each block: Q8_0 rounds x / d with d = amax / 127, and d is stored as f16 (relative
  // error 2^-11, times |q| <= 127): |err| <= (0.5 + 127 * 2^-11) d. Q4_0 maps the largest |x| to
  // q = 0 (-8 d) and clamps the far side at q = 15 (+7 d): |err| <= d (1 + 8 * 2^-10) with
  // d = amax / 8. F16 is within half an f16 ulp. Q4_K and Q6_K (our own scale search, not llama.cpp's)
  // must do at least as well as plain rounding to their grid: rms error <= step / sqrt(12), with
  // step = range / 15 (4-bit) or range / 63 (6-bit).
  const rng = new Rng(7);
  const data = {
    uniform: rng.floats(2048),
    normal: Float32Array.from({ length: 2048 }, () => rng.normal() * 0.02), // weights look like this
    spiky: Float32Array.from({ length: 2048 }, (_, i) => (i % 97 === 0 ? 4 : 0.01 * rng.normal())),
  };
  const blockMax = (x: Float32Array, start: number, n: number) => Math.max(...x.subarray(start, start + n).map(Math.abs));

  for (const [name, x] of Object.entries(data)) {
    it(`F32 is exact, F16 within half an ulp (${name})`, () => {
      assert.deepEqual(dequantize(T.F32, quantize(T.F32, x), x.length), x);
      const y = dequantize(T.F16, quantize(T.F16, x), x.length);
      x.forEach((v, i) => assert.ok(Math.abs(y[i] - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `[${i}] ${v} -> ${y[i]}`));
    });

    for (const [type, bound] of [[T.Q8_0, 0.5 + 127 * 2 ** -11], [T.Q4_0, 1 + 8 * 2 ** -10]] as const) {
      it(`${T[type]}: |error| <= ${bound.toFixed(3)} d per block (${name})`, () => {
        const y = dequantize(type, quantize(type, x), x.length);
        for (let b = 0; b < x.length; b += 32) {
          const d = blockMax(x, b, 32) / (type === T.Q8_0 ? 127 : 8);
          for (let i = b; i < b + 32; i++) assert.ok(Math.abs(y[i] - x[i]) <= bound * d * (1 + 1e-6), `[${i}] ${x[i]} -> ${y[i]} (d ${d})`);
        }
      });
    }

    for (const [type, levels] of [[T.Q4_K, 15], [T.Q6_K, 63]] as const) {
      it(`${T[type]}: rms error within plain rounding to ${levels + 1} levels (${name})`, () => {
        const y = dequantize(type, quantize(type, x), x.length);
        for (let b = 0; b < x.length; b += 256) {
          const blk = x.subarray(b, b + 256);
          const range = type === T.Q4_K ? Math.max(...blk) - Math.min(0, ...blk) : 2 * blockMax(x, b, 256);
          let se = 0;
          for (let i = b; i < b + 256; i++) se += (y[i] - x[i]) ** 2;
          const rms = Math.sqrt(se / 256), bound = range / levels / Math.sqrt(12);
          assert.ok(rms <= bound, `block ${b / 256}: rms ${rms} > ${bound}`);
        }
      });
    }
  }

  it('Q8_0 and Q4_0 are llama.cpp\'s reference quantizers: f32 math, roundf, and Q4_0\'s signed max', () => {
    // One block of x = k - 16, k = 0..31: amax 16, d = 16 / 127 (f16 0x3008), id = 127 / 16 in f32,
    // q = roundf(x * id), ties away from zero: x = 8 -> 63.5 -> 64.
    const x = Float32Array.from({ length: 32 }, (_, k) => k - 16);
    const q8 = quantize(T.Q8_0, x);
    assert.equal(q8[0] | (q8[1] << 8), f32ToF16(Math.fround(16 / 127)));
    const id = Math.fround(1 / Math.fround(16 / 127));
    const q = Array.from(new Int8Array(q8.buffer, 2, 32));
    assert.deepEqual(q, Array.from(x, (v) => Math.sign(v) * Math.round(Math.abs(Math.fround(v * id)))));
    assert.equal(q[24], 64);
    // Q4_0: the value of largest magnitude is -16, d = -16 / -8 = 2, q = min(15, trunc(x / d + 8.5)).
    const q4 = quantize(T.Q4_0, x);
    assert.equal(q4[0] | (q4[1] << 8), 0x4000); // d = 2
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(15, Math.trunc(x[j] / 2 + 8.5)), hi = Math.min(15, Math.trunc(x[j + 16] / 2 + 8.5));
      assert.equal(q4[2 + j], lo | (hi << 4), `byte ${j}`);
    }
  });
});

// Our Q4_K / Q6_K scale search must beat plain rounding to the grid (the bound above): these are the
// error ratios it reaches on the seeded data, with a little room (without the search: uniform 0.94 /
// 0.98, normal 0.83 / 0.78, spiky 0.18 / 0.17; a sign-flipped Q6_K scale map gives spiky 0.20).
describe('quant: the Q4_K and Q6_K scale search beats plain rounding', () => {
  const rng = new Rng(7);
  const data = {
    uniform: rng.floats(2048),
    normal: Float32Array.from({ length: 2048 }, () => rng.normal() * 0.02),
    spiky: Float32Array.from({ length: 2048 }, (_, i) => (i % 97 === 0 ? 4 : 0.01 * rng.normal())),
    // all in (0, 2): every least-squares fit has a positive offset, which Q4_K must clamp to min 0
    // and refit (without that: 0.95)
    positive: Float32Array.from(new Rng(11).floats(2048), (v) => v + 1),
  };
  const limits: [keyof typeof data, T, number][] = [
    ['uniform', T.Q4_K, 0.9], ['normal', T.Q4_K, 0.78], ['spiky', T.Q4_K, 0.16], ['positive', T.Q4_K, 0.92],
    ['uniform', T.Q6_K, 0.9], ['normal', T.Q6_K, 0.76], ['spiky', T.Q6_K, 0.18],
  ];
  for (const [name, type, limit] of limits) {
    it(`${T[type]} (${name}): rms error <= ${limit} × plain rounding's in every block`, () => {
      const x = data[name], y = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < x.length; b += 256) {
        const blk = x.subarray(b, b + 256);
        const range = type === T.Q4_K ? Math.max(...blk) - Math.min(0, ...blk) : 2 * Math.max(...blk.map(Math.abs));
        let se = 0;
        for (let i = b; i < b + 256; i++) se += (y[i] - x[i]) ** 2;
        const ratio = Math.sqrt(se / 256) / (range / (type === T.Q4_K ? 15 : 63) / Math.sqrt(12));
        assert.ok(ratio <= limit, `block ${b / 256}: ${ratio.toFixed(3)} > ${limit}`);
      }
    });
  }
});

// The search's every rule (the 13 grids, the clamps, the first of equal errors, the first of equal
// magnitudes) against test/reference/kquant-fit.ts, on sub-blocks of several kinds: small integers and
// quarters give equal errors and equal magnitudes often.
describe('quant: the Q4_K and Q6_K scale fits equal the reference search', () => {
  const rng = new Rng(5);
  const kinds: [string, () => number][] = [
    ['uniform', () => rng.floats(1)[0]],
    ['normal', () => rng.normal()],
    ['small integers', () => Math.round(rng.normal() * 2)],
    ['sparse integers', () => (rng.floats(1)[0] < 0.6 ? Math.round(rng.normal() * 3) : 0)],
    ['quarters in [0, 1]', () => Math.round(Math.abs(rng.floats(1)[0]) * 4) / 4],
  ];
  // Sub-blocks where two grids give exactly the same error (found by search): the earlier is kept.
  // A lone value fits every grid exactly: the first, 31.4 levels, maps -1 to -31 (scale 1/31).
  const ties: [string, number[]][] = [
    ['affine', [0, 0, 0, -2, 0, 0, 0, 0, 0, 0, 0, 0, -3, 0, 0, 0, 0, -1, 0, 6, 0, 3, 0, 0, 0, 0, 0, 0, 1, 0, -4, 0]],
    ['affine', [-4, 0, 0, 6, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3, 0, -3, 0, 0, -2, 0, 0, 0, 0, 0, 0]],
    ['symmetric', [0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['symmetric', [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [fit, values] of ties) {
    it(`ties, ${fit}: ${values.join(' ')}`, () => {
      const x = Float32Array.from(values);
      if (fit === 'affine') assert.deepEqual(fitAffine(x, 15), refFitAffine(x, 15));
      else assert.ok(Object.is(fitSymmetric(x, 32), refFitSymmetric(x, 32)));
    });
  }
  it('a lone -1 in a Q6_K sub-block: scale 1/31 (the first grid, 31.4 levels)', () => {
    const x = new Float32Array(16);
    x[6] = -1;
    assert.equal(fitSymmetric(x, 32), 1 / 31);
  });
  for (const [name, draw] of kinds) {
    it(`${name}: 400 sub-blocks each of Q4_K's affine fit (32 values, 0..15) and Q6_K's symmetric fit (16, -32..31)`, () => {
      for (let t = 0; t < 400; t++) {
        const a = Float32Array.from({ length: 32 }, draw), b = Float32Array.from({ length: 16 }, draw);
        assert.deepEqual(fitAffine(a, 15), refFitAffine(a, 15), `affine, sub-block ${t}: ${a.join(' ')}`);
        assert.ok(Object.is(fitSymmetric(b, 32), refFitSymmetric(b, 32)), `symmetric, sub-block ${t}: ${b.join(' ')}`);
      }
    });
  }
});

describe('quant: blocks whose quantization is known exactly', () => {
  it('Q4_0: of two values of equal magnitude the first sets the sign of d (as llama.cpp)', () => {
    // x = [2, -2, 0...]: max = 2, d = 2 / -8 = -0.25 (f16 0xb400), q = min(15, trunc(x / d + 8.5)).
    const x = new Float32Array(32);
    x[0] = 2; x[1] = -2;
    const expected = [0x00, 0xb4, 0x80, 0x8f, ...new Array(14).fill(0x88)];
    assert.deepEqual(Array.from(quantize(T.Q4_0, x)), expected);
  });

  it('Q4_K: a constant negative block is all min (scales 0, mins 63, dmin = f16(1/63))', () => {
    const x = new Float32Array(256).fill(-1);
    const bytes = quantize(T.Q4_K, x);
    // d = 0; dmin = f16(1/63) = 0x2410; 6-bit scales 0, mins 63 packed as in get_scale_min_k4; nibbles 0.
    assert.deepEqual(Array.from(bytes.subarray(0, 16)), [0, 0, 0x10, 0x24, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xf0, 0xf0, 0xf0, 0xf0]);
    assert.ok(bytes.subarray(16).every((b) => b === 0));
    assert.ok(dequantize(T.Q4_K, bytes, 256).every((v) => v === -0.999755859375)); // -63 × 0.015869140625
  });

  it('Q4_K: a constant positive block is all scale (no grid step can do better than plain rounding)', () => {
    // scale 1/15, min 0: d = f16(1/945) = 0x1456 = 1110 × 2^-20, dmin -0 (0x8000), scales 63, mins 0,
    // every nibble 15: value 15 × 63 × 1110 × 2^-20.
    const bytes = quantize(T.Q4_K, new Float32Array(256).fill(1));
    assert.deepEqual(Array.from(bytes.subarray(0, 16)), [0x56, 0x14, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x0f, 0x0f, 0x0f, 0x0f]);
    assert.ok(bytes.subarray(16).every((b) => b === 0xff));
    assert.ok(dequantize(T.Q4_K, bytes, 256).every((v) => v === 1048950 * 2 ** -20));
  });

  it('Q4_K: values on a grid that 6-bit scales and f16 d, dmin hold exactly come back exactly', () => {
    // x = (63/64) (L - 1), L = 0..15 in every sub-block: scale 63/64, min 63/64, d = dmin = 1/64 (0x2400).
    const x = Float32Array.from({ length: 256 }, (_, i) => (63 / 64) * (((i * 7) % 16) - 1));
    const bytes = quantize(T.Q4_K, x);
    assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x00, 0x24, 0x00, 0x24]);
    assert.deepEqual(Array.from(dequantize(T.Q4_K, bytes, 256)), Array.from(x));
  });

  it('Q6_K: values on a grid come back exactly, the largest scale at -128 (as llama.cpp)', () => {
    // Every sub-block of 16 holds -8 and quarters k / 4, k = -32..31: scale 1/4 = d × -128 with d = -2^-9 (0x9800).
    const x = Float32Array.from({ length: 256 }, (_, e) => (e % 16 === 0 ? -32 : ((e * 7) % 64) - 32) / 4);
    const bytes = quantize(T.Q6_K, x);
    assert.deepEqual(Array.from(bytes.subarray(192, 210)), [...new Array(16).fill(0x80), 0x00, 0x98]);
    assert.deepEqual(Array.from(dequantize(T.Q6_K, bytes, 256)), Array.from(x));
  });

  it('Q6_K: of two values of equal magnitude the first sets the sign (as llama.cpp\'s make_qx_quants)', () => {
    // x = [-1, 1, 0...]: max = -1, so the fit's scale is positive (the range -32..31 is one longer
    // below), stored as -128: d < 0 (f16 0x8c21), -1 -> q = 1 and 1 -> q = 63. Taking the last (1)
    // would give d > 0 (0x0c21) and the quants mirrored.
    const x = new Float32Array(256);
    x[0] = -1; x[1] = 1;
    const bytes = quantize(T.Q6_K, x);
    assert.deepEqual([bytes[0] & 15, bytes[1] & 15, bytes[128] & 3, bytes[129] & 3], [1, 15, 0, 3]); // ql, qh of q 1, 63
    assert.deepEqual(Array.from(bytes.subarray(192, 210)), [0x80, ...new Array(15).fill(0), 0x21, 0x8c]);
  });

  it('Q6_K: of two sub-block scales of equal magnitude the first maps to -128 (as llama.cpp)', () => {
    // Sub-block 0 is [-1, 1, 0...] (scale s > 0), sub-block 1 [1, -1, 0...] (scale -s): 0 takes -128,
    // 1 is then +128, clamped to 127.
    const x = new Float32Array(256);
    x[0] = -1; x[1] = 1; x[16] = 1; x[17] = -1;
    assert.deepEqual(Array.from(quantize(T.Q6_K, x).subarray(192, 194)), [0x80, 0x7f]);
  });

  it('all zeros quantize to all-zero bytes in every format', () => {
    for (const type of [T.F32, T.F16, T.Q8_0, T.Q4_0, T.Q4_K, T.Q6_K]) {
      const n = blockInfo(type).blockSize * 2;
      const bytes = quantize(type, new Float32Array(n));
      // Q4_0 stores 0 as q = 8, and d = 0 / -8 = -0 (f16 0x8000), as llama.cpp does; Q4_K's dmin is
      // -0 too (min = -lo with lo = 0)
      const q40 = [0x00, 0x80, ...new Array(16).fill(0x88)];
      const q4k = [0, 0, 0, 0x80, ...new Array(140).fill(0)];
      const want = type === T.Q4_0 ? [...q40, ...q40] : type === T.Q4_K ? [...q4k, ...q4k] : new Array(bytes.length).fill(0);
      assert.deepEqual(Array.from(bytes), want, T[type]);
      assert.ok(dequantize(type, bytes, n).every((v) => v === 0), T[type]);
    }
  });
});

describe('quant: hand-built blocks decode to known values', () => {
  it('Q8_0: q * d', () => {
    const q = Array.from({ length: 32 }, (_, k) => [-128, -1, 0, 1, 127][k % 5]);
    const bytes = new Uint8Array([0x00, 0x38, ...q.map((v) => v & 255)]); // d = 0.5
    assert.deepEqual(Array.from(dequantize(T.Q8_0, bytes, 32)), q.map((v) => v * 0.5));
  });

  it('Q4_0: low nibbles are values 0..15, high nibbles 16..31, (q - 8) * d', () => {
    const bytes = new Uint8Array([0x00, 0x40, ...Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4))]); // d = 2
    const expected = [...Array.from({ length: 16 }, (_, j) => (j - 8) * 2), ...Array.from({ length: 16 }, (_, j) => (7 - j) * 2)];
    assert.deepEqual(Array.from(dequantize(T.Q4_0, bytes, 32)), expected);
  });

  it('Q4_K: 6-bit scales and mins of all 8 sub-blocks, including their packed high bits', () => {
    const b = q4kBlock();
    assert.deepEqual(Array.from(dequantize(T.Q4_K, b.bytes, 256)), b.values);
  });

  it('Q6_K: ql, qh and signed scales', () => {
    const b = q6kBlock();
    assert.deepEqual(Array.from(dequantize(T.Q6_K, b.bytes, 256)), b.values);
  });
});

// runtime/quant.ts against the test's own dequantizer (test/reference/quant.ts, from llama.cpp's
// definitions): first the reference on the hand-built blocks, then both on random bytes (every bit
// pattern of scales, nibbles and high bits; finite halves only, so NaN never hides a difference).
describe('quant: dequantize equals the independent reference', () => {
  it('the reference decodes the hand-built blocks', () => {
    const k4 = q4kBlock(), k6 = q6kBlock();
    assert.deepEqual(Array.from(refDequantize(T.Q4_K, k4.bytes, 256)), k4.values);
    assert.deepEqual(Array.from(refDequantize(T.Q6_K, k6.bytes, 256)), k6.values);
    assert.deepEqual(Array.from(refDequantize(T.Q8_0, new Uint8Array([0x00, 0x38, 0x80, 0xff, 0x00, 0x01, 0x7f, ...new Array(27).fill(0)]), 32)).slice(0, 5), [-64, -0.5, 0, 0.5, 63.5]);
    assert.deepEqual(Array.from(refDequantize(T.F16, new Uint8Array([0x00, 0x3c, 0x01, 0x00, 0xff, 0x7b, 0x00, 0xfc]), 4)), [1, 2 ** -24, 65504, -Infinity]);
  });

  const types: [T, number][] = [[T.F16, 512], [T.Q8_0, 512], [T.Q4_0, 512], [T.Q4_K, 1024], [T.Q6_K, 1024]];
  for (const [type, count] of types) {
    it(`${T[type]}: random bytes decode to the same values, bit for bit`, () => {
      const rng = new Rng(type), bytes = new Uint8Array(tensorBytes(type, count));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      // halves (d, dmin, every F16 value) with an exponent below 31: finite
      const halves: Record<number, (block: number) => number[]> = {
        [T.F16]: (b) => [2 * b], [T.Q8_0]: (b) => [34 * b], [T.Q4_0]: (b) => [18 * b], [T.Q4_K]: (b) => [144 * b, 144 * b + 2], [T.Q6_K]: (b) => [210 * b + 208],
      };
      const { blockSize } = blockInfo(type);
      for (let b = 0; b < count / blockSize; b++) for (const o of halves[type](b)) bytes[o + 1] &= 0xfb; // exponent <= 30, sign kept
      assert.deepEqual(dequantize(type, bytes, count), refDequantize(type, bytes, count));
    });
  }
});
