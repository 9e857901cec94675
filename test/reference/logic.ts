// Plain TypeScript references for the logic kernels (runtime/ops/logic.ts, logic_bits.ts).
export type JoinSide = 'left' | 'right';

/** The boolean product: left S (m, k) @ d (k, n), right d (m, k) @ S (k, n); 0 where exclude > 0. */
export function refJoin(side: JoinSide, s: Float32Array, d: Float32Array, m: number, k: number, n: number, exclude?: Float32Array): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    if (exclude && exclude[i * n + j] > 0) continue;
    for (let kk = 0; kk < k; kk++) {
      const hit = side === 'left' ? s[i * k + kk] > 0 && d[kk * n + j] > 0 : d[i * k + kk] > 0 && s[kk * n + j] > 0;
      if (hit) { out[i * n + j] = 1; break; }
    }
  }
  return out;
}
