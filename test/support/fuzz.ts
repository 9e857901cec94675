// How many cases a fuzz test runs: its own number in `npm test`, that many times FUZZ_SCALE in the
// long run (`npm run fuzz`).
export function fuzzRuns(n: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
