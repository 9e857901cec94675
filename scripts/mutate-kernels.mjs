#!/usr/bin/env node
// Mutation testing of the WGSL kernels, by hand: each entry below is a typical kernel bug, applied
// to the generated WGSL of the kernels whose name matches `kernel` (through TLC_MUTATE, read by
// runtime/node/gpu.ts, applied by runtime/kernels.ts when it compiles a pipeline). The entry's kernel tests are run with it and
// must fail. Every edit of an entry must apply to at least one compiled kernel, so the list cannot
// rot silently when a template changes: an edit that matches nothing is an error of this script.
// Mutated runs stop at the first failing test (--bail: each mutated kernel is a fresh lavapipe
// compile, about a second), so an entry's edits must all apply to the kernels its first failing
// test compiles; an edit for another kernel variant goes into an entry of its own.
//
//   node scripts/mutate-kernels.mjs            every mutation
//   node scripts/mutate-kernels.mjs rope attn  those whose name contains one of the words
//
// Exit code 0 when every mutation was caught, 1 otherwise (survived, not applied, or the
// unmutated tests failed).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t = (name) => `test/kernels/${name}.test.ts`;
/** Swaps every `a` with `b` (three edits through a placeholder). */
const swap = (a, b) => [[a, '\u0001'], [b, a], ['\u0001', b]];

const MUTATIONS = [
  // off-by-one bounds
  { name: 'matmul: output row bound < N -> <= N', kernel: '^matmul_', edits: [['if (row + 0u < N)', 'if (row + 0u <= N)']], files: [t('matmul')] },
  { name: 'matmul: unit loop < UNITS -> <= UNITS', kernel: '^matmul_', edits: [['u < UNITS;', 'u <= UNITS;']], files: [t('matmul')] },
  { name: 'attention: causal length pos0 + i + 1 -> + 2', kernel: '^attention_h', edits: [['let len = p.pos0 + i + 1u;', 'let len = p.pos0 + i + 2u;']], files: [t('attention')] },
  { name: 'attention (f16): softmax sum loop < len -> <= len', kernel: '^attention_h.*_f16_', edits: [['< len; s++) { sl +=', '<= len; s++) { sl +=']], files: [t('attention')] },
  // quantized decoders
  { name: 'Q4_0 (single blocks): low and high nibbles swapped', kernel: '^matmul_q4_0', edits: swap('lo4(q.', 'hi4(q.'), files: [t('matmul')] },
  { name: 'Q4_0 (block pairs): low and high nibbles swapped', kernel: '^matmul_q4_0', edits: [['- 4u * hi)', '- 4u * (1u - hi))']], files: [t('matmul')] },
  { name: 'Q4_0: block scales da and db swapped', kernel: '^matmul_q4_0', edits: swap('let da =', 'let db ='), files: [t('matmul')] },
  { name: 'Q8_0: block scales da and db swapped', kernel: '^matmul_q8_0', edits: swap('let da =', 'let db ='), files: [t('matmul')] },
  { name: 'Q4_0 split rows: the two blocks\' scales swapped', kernel: '^matmul_q4_0', edits: swap('sd.x', 'sd.y'), files: [t('matmul')] },
  { name: 'Q8_0 split rows: scale word of the unit one off', kernel: '^matmul_q8_0', edits: [['select(sl.x, sl.y, sc == 1u)', 'select(sl.y, sl.x, sc == 1u)']], files: [t('matmul')] },
  { name: 'Q8_0 split rows: stride of a unit 4 lines -> 3', kernel: '^matmul_q8_0', edits: [['+ u * 4u;', '+ u * 3u;']], files: [t('matmul')] },
  { name: 'Q4_0: stride of a block pair 9 words -> 8', kernel: '^matmul_q4_0', edits: [['u * 9u;', 'u * 8u;']], files: [t('matmul')] },
  { name: 'Q8_0: stride of a block 34 bytes -> 32', kernel: '^matmul_q8_0', edits: [['u * 34u;', 'u * 32u;']], files: [t('matmul')] },
  // dropped barriers
  { name: 'softmax: barrier before red is reused dropped', kernel: '^softmax', edits: [['workgroupBarrier(); // all have read the max', '// all have read the max']], files: [t('softmax')] },
  { name: 'attention: barrier between key tiles dropped', kernel: '^attention_h', edits: [['workgroupBarrier(); // the tile\'s weights are read', '// the tile\'s weights are read']], files: [t('attention')] },
  // sampling cuts
  { name: 'sample: top-p mass >= goal -> > goal', kernel: '^sample$', edits: [['reduce(lid, w, false) >= goal', 'reduce(lid, w, false) > goal']], files: [t('sample')] },
  { name: 'sample: top-k count >= k -> > k', kernel: '^sample$', edits: [['reduce(lid, c, false) >= f32(p.top_k)', 'reduce(lid, c, false) > f32(p.top_k)']], files: [t('sample')] },
  // formulas and offsets
  { name: 'rope: angle sign flipped', kernel: '^rope_', edits: [['cos_sin(theta', 'cos_sin(-theta']], files: [t('rope')] },
  { name: 'rms_norm: eps dropped', kernel: '^rms_norm', edits: [[' + p.eps)', ')']], files: [t('rms_norm')] },
  { name: 'kv_write (f32): destination offset dropped', kernel: '^kv_write', edits: [['cache[p.dst_off + i]', 'cache[i]']], files: [t('attention')] },
  { name: 'kv_write (packed f16): destination off by one pair', kernel: '^kv_write_f16packed$', edits: [['cache[p.dst_off / 2u + i]', 'cache[p.dst_off / 2u + i + 1u]']], files: [t('attention')] },
];

const words = process.argv.slice(2);
const chosen = MUTATIONS.filter((m) => words.length === 0 || words.some((w) => m.name.includes(w)));

function mocha(files, mutation) {
  const env = { ...process.env };
  delete env.TLC_MUTATE;
  if (mutation) env.TLC_MUTATE = JSON.stringify({ kernel: mutation.kernel, edits: mutation.edits });
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/mocha/bin/mocha.js'), '--reporter', 'dot', ...(mutation ? ['--bail'] : []), ...files],
    { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

// The tests must pass unmutated, or a failure below would mean nothing.
const files = [...new Set(chosen.flatMap((m) => m.files))];
const base = mocha(files);
if (base.status !== 0) {
  console.error(`The unmutated kernel tests fail (${files.join(' ')}):\n${base.out.slice(-4000)}`);
  process.exit(1);
}

const rows = [];
for (const m of chosen) {
  const started = Date.now();
  const r = mocha(m.files, m);
  const applied = m.edits.map(() => 0);
  const kernels = new Set();
  for (const [, name, counts] of r.out.matchAll(/^TLC_MUTATE (\S+) ([\d,]*)$/gm)) {
    counts.split(',').forEach((c, i) => { applied[i] += Number(c); });
    if (counts.split(',').some((c) => Number(c) > 0)) kernels.add(name);
  }
  const result = applied.some((n) => n === 0) ? 'NOT APPLIED' : r.status === 0 ? 'SURVIVED' : 'caught';
  const failing = r.out.match(/(\d+) failing/)?.[1];
  rows.push({ m, result, kernels: kernels.size, failing });
  console.log(`${result.padEnd(11)} ${m.name}  (${kernels.size} kernels mutated, edits applied ${applied.join('/')}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (result === 'NOT APPLIED') console.log(`            an edit matched no compiled kernel named /${m.kernel}/: update its search text`);
}

console.log('\n| mutation | kernels mutated | test file | result |\n|---|---|---|---|');
for (const { m, result, kernels } of rows) console.log(`| ${m.name} | ${kernels} | ${m.files.map((f) => path.basename(f)).join(', ')} | ${result} |`);
const bad = rows.filter((r) => r.result !== 'caught');
console.log(`\n${rows.length - bad.length} of ${rows.length} mutations caught.`);
process.exit(bad.length ? 1 : 0);
