import assert from 'node:assert/strict';
import { argmax, sample } from '../../runtime/ops/sample.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readU32 } from './support.ts';
import type { KernelRunner } from '../../runtime/kernels.ts';

const I = Infinity;

/** One dispatch per draw, all in one submission; token k lands in out[k]. */
async function draws(r: KernelRunner, logits: Float32Array, o: ref.SampleOptions, us: number[]): Promise<number[]> {
  const lb = r.storage(logits), out = r.storage(us.length * 4);
  await r.runAll(us.flatMap((u, k) => sample({ logits: lb, out, n: logits.length, ...o, u, outIndex: k })));
  return [...await readU32(r, out, us.length)];
}

describe('argmax kernel', () => {
  const cases = [
    { x: [0.5, 3, -1, 2], expected: 1 },
    { x: [1, 7, 7, 2, 7], expected: 1 },                 // ties: the lowest index
    { x: [-I, -I, -5, -I], expected: 2 },
    { x: [-I, -I, -I], expected: 0 },
    { x: [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4], expected: 0 },
  ];
  for (const { x, expected } of cases) {
    it(`[${x}] -> ${expected}`, async () => {
      const r = await gpuRunner(), out = r.storage(4);
      await r.runAll(argmax({ logits: r.storage(Float32Array.from(x)), out, n: x.length }));
      assert.equal((await readU32(r, out, 1))[0], expected);
      assert.equal(ref.argmax(x), expected);
    });
  }

  it('128k logits, the last row of (2, n), written at an index', async () => {
    const r = await gpuRunner(), n = 128 * 1024, x = new Rng(1).floats(2 * n, -10, 10);
    x[n + 77777] = 11; x[n + 99999] = 11; x[5] = 12; // row 0's larger value must not count
    const out = r.storage(16);
    await r.runAll(argmax({ logits: r.storage(x), out, n, offset: n, outIndex: 2 }));
    assert.equal((await readU32(r, out, 3))[2], 77777);
  });
});

describe('sample kernel', () => {
  // The kernel's choice equals the reference's for every seed, except where u * mass falls within
  // rounding (1e-5 relative) of a boundary between two tokens' cumulative weights: there the kernel
  // must pick what the reference picks for u - 1e-5 or u + 1e-5.
  const configs = [
    { n: 1000, temperature: 0.8 },
    { n: 1000, temperature: 1.0, topK: 40 },
    { n: 1000, temperature: 1.2, topP: 0.9 },
    { n: 1000, temperature: 0.7, topK: 50, topP: 0.5 },
    { n: 1000, temperature: 1.0, topK: 1 },                          // top-k 1 is greedy
    { n: 128 * 1024, temperature: 0.9, topK: 40, topP: 0.95 },        // a llama 3 vocabulary
  ];
  for (const { n, ...o } of configs) {
    const seeds = n > 10000 ? 6 : 24; // a 128k draw takes ~0.4 s on lavapipe (one workgroup: one core)
    it(`n ${n}, ${JSON.stringify(o)}: the reference's token for ${seeds} seeds`, async () => {
      const r = await gpuRunner(), rng = new Rng(n + (o.topK ?? 0));
      const logits = Float32Array.from({ length: n }, () => 3 * rng.normal());
      const us = Array.from({ length: seeds }, (_, s) => new Rng(s).next());
      const got = await draws(r, logits, o, us);
      got.forEach((tok, k) => {
        const expected = ref.sample(logits, o, us[k]);
        if (tok !== expected) {
          const near = [ref.sample(logits, o, Math.max(0, us[k] - 1e-5)), ref.sample(logits, o, Math.min(0.9999999, us[k] + 1e-5))];
          assert.ok(near.includes(tok), `seed ${k} (u ${us[k]}): kernel ${tok}, reference ${expected}`);
        }
      });
      if (o.topK === 1) assert.deepEqual(got, us.map(() => ref.argmax(logits)));
    });
  }

  // Small vocabularies: the empirical distribution of 1000 draws against the expected
  // probabilities (softmax of the kept tokens' logits / temperature), by a chi-square bound
  // at p = 0.001; tokens outside the kept set never come up.
  const CHI2_999 = [0, 10.83, 13.82, 16.27, 18.47, 20.52]; // by degrees of freedom
  const vocabs = [
    { logits: [2, 1, 0.5, 0, -1, -3], temperature: 1, kept: [0, 1, 2, 3, 4, 5] },
    { logits: [2, 1, 0.5, 0, -1, -3], temperature: 0.5, topK: 3, kept: [0, 1, 2] },
    // top-k 4 keeps 0..3 (probabilities .58 .21 .13 .08); top-p 0.8 needs three of them
    { logits: [2, 1, 0.5, 0, -1, -3], temperature: 1, topK: 4, topP: 0.8, kept: [0, 1, 2] },
    { logits: [0, 0, 0, 1, 1], temperature: 2, topK: 2, kept: [3, 4] },
    // ties at the k-th value are all kept
    { logits: [3, 1, 1, 1, 0], temperature: 1, topK: 2, kept: [0, 1, 2, 3] },
  ];
  for (const { logits, kept, ...o } of vocabs) {
    it(`[${logits}] ${JSON.stringify(o)}: 1000 draws follow softmax over tokens ${kept}`, async () => {
      const r = await gpuRunner(), rng = new Rng(kept.length * 7 + (o.topK ?? 0));
      const N = 1000, us = Array.from({ length: N }, () => rng.next());
      const got = await draws(r, Float32Array.from(logits), o, us);
      const counts = new Array(logits.length).fill(0);
      for (const t of got) counts[t]++;
      const w = logits.map((l, i) => (kept.includes(i) ? Math.exp(l / o.temperature) : 0));
      const total = w.reduce((a, b) => a + b);
      let chi2 = 0;
      logits.forEach((_, i) => {
        if (!kept.includes(i)) assert.equal(counts[i], 0, `token ${i} is not kept but came up ${counts[i]} times`);
        else chi2 += (counts[i] - (N * w[i]) / total) ** 2 / ((N * w[i]) / total);
      });
      assert.ok(chi2 < CHI2_999[kept.length - 1], `chi-square ${chi2.toFixed(2)} for counts [${counts}]`);
      // the reference draws the same tokens from the same u
      assert.deepEqual(got.slice(0, 200), us.slice(0, 200).map((u) => ref.sample(Float32Array.from(logits), o, u)));
    });
  }

  // Exactly which tokens top-p keeps, from draws spread evenly over [0, 1): every kept token comes
  // up, no other does. Logits within 2^-28 of each other have weight exp(z - max) = 1 in f32, so the
  // top tokens' mass is a whole number and can equal top_p times the kept mass exactly.
  const e = 2 ** -30;
  const cuts = [
    // mass exactly top_p is enough: "reaches" is >=, not >
    { what: 'a mass of exactly top_p (1 of 4) keeps one token', logits: [0, -e, -2 * e, -3 * e], topP: 0.25, kept: [0] },
    { what: 'a mass of exactly top_p (2 of 4) keeps two tokens', logits: [-e, 0, -3 * e, -2 * e], topP: 0.5, kept: [0, 1] },
    { what: 'a mass of exactly top_p (3 of 4) keeps three tokens', logits: [0, -e, -2 * e, -3 * e], topP: 0.75, kept: [0, 1, 2] },
    { what: 'just over a whole token keeps the next one', logits: [0, -e, -2 * e, -3 * e], topP: 0.2501, kept: [0, 1] },
    // top-p's share is of the top-k mass (e^2 + e^1.5 + e^1 = 14.6; 0.7 of it needs two tokens), not
    // of the whole vocabulary's (34.6 with the twenty tokens at 0: all three top-k tokens)
    { what: 'top-p takes its share of the top-k mass, not the vocabulary\'s', logits: [2, 1.5, 1, ...new Array(20).fill(0)], topK: 3, topP: 0.7, kept: [0, 1] },
    { what: 'top-k 2 of a long tail, top-p 0.7: the top token alone', logits: [...new Array(30).fill(0), 1, 2], topK: 2, topP: 0.7, kept: [31] },
  ];
  for (const { what, logits, kept, ...o } of cuts) {
    it(`${what}: ${JSON.stringify(o)} keeps tokens ${kept}`, async () => {
      const r = await gpuRunner(), opts = { temperature: 1, ...o }, N = 64;
      const us = Array.from({ length: N }, (_, i) => (i + 0.5) / N);
      const got = await draws(r, Float32Array.from(logits), opts, us);
      assert.deepEqual([...new Set(got)].sort((a, b) => a - b), kept, `drawn: [${got}]`);
      assert.deepEqual(got, us.map((u) => ref.sample(Float32Array.from(logits), opts, u)));
    });
  }

  it('temperature 0 is argmax; the same seed gives the same tokens', async () => {
    const r = await gpuRunner(), logits = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i));
    assert.deepEqual(await draws(r, logits, { temperature: 0 }, [0.3, 0.9]), [ref.argmax(logits), ref.argmax(logits)]);
    const run = (seed: number) => { const g = new Rng(seed); return draws(r, logits, { temperature: 1.5, topP: 0.95 }, Array.from({ length: 16 }, () => g.next())); };
    const [a, b, c] = [await run(42), await run(42), await run(43)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});
