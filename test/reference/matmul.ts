// Plain TypeScript references for the weight kernels, on already-dequantized f32 weights.

/** y = x @ W^T. x: (M, K), w: (N, K) row-major (a GGUF [K, N] tensor), returns y: (M, N). Sums in f64. */
export function linearRef(x: Float32Array, w: Float32Array, M: number, K: number, N: number): Float32Array {
  const y = new Float32Array(M * N); // (M, N)
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
  }
  return y;
}

/** Σ_k |x[m,k] · w[n,k]| for each output: the scale of the rounding error an f32 sum can make. (M, N) */
export function linearMagnitude(x: Float32Array, w: Float32Array, M: number, K: number, N: number): Float32Array {
  const y = new Float32Array(M * N); // (M, N)
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.abs(x[m * K + k] * w[n * K + k]);
      y[m * N + n] = s;
    }
  }
  return y;
}

/** Rows ids[s] of table (vocab, K); ids past the table give zeros. Returns (seq, K). */
export function embeddingRef(table: Float32Array, ids: Uint32Array, K: number): Float32Array {
  const vocab = table.length / K;
  const y = new Float32Array(ids.length * K); // (seq, K)
  ids.forEach((id, s) => {
    if (id < vocab) y.set(table.subarray(id * K, (id + 1) * K), s * K);
  });
  return y;
}
