// Transitive closure of a random graph: tlc on the device against the TypeScript semi-naive
// reference (test/reference/datalog.ts, evaluateEncoded: tuples as numbers, no strings built),
// same graph, same process, one after the other.
//
//   npm run bench:closure -- [N ...] [--edges D] [--seed S] [--left-linear] [--json]   (default: 1000 4000, D = 2)
//
// --left-linear states the recursion as Path(X, Z) <- Path(X, Y), Edge(Y, Z) (default: Edge first).
//
// The device time is a whole run of the compiled program (facts uploaded, the fixpoint loop with its
// read-back per round, sum(Path) read back), best of three after a warm-up that compiles the kernels.
import { build } from '../compiler/artifact.ts';
import { Program } from '../runtime/program.ts';
import { openNodeDevice } from '../runtime/node/gpu.ts';
import { evaluateEncoded, randomGraphProgram, type Program as RefProgram } from '../test/reference/datalog.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv.splice(i, 2)[1]) : dflt;
};
const leftLinear = argv.includes('--left-linear') ? (argv.splice(argv.indexOf('--left-linear'), 1), true) : false;
const json = argv.includes('--json') ? (argv.splice(argv.indexOf('--json'), 1), true) : false;
const edges = flag('--edges', 2);
const seed = flag('--seed', 1);
const sizes = argv.length ? argv.map(Number) : [1000, 4000];
if (sizes.some((n) => !Number.isInteger(n) || n < 2) || !(edges > 0)) {
  console.error('usage: npm run bench:closure -- [N ...] [--edges D] [--seed S] [--left-linear] [--json]   (N >= 2 entities, D > 0 edges per entity)');
  process.exit(2);
}

/** The same graph as a TensorLogic program that prints the closure's size. */
function source(p: RefProgram): string {
  return [
    `entity Node = { ${p.domains.Node.join(', ')} }`,
    'relation Edge(x: Node, y: Node)',
    'Path(X, Y) <- Edge(X, Y)',
    leftLinear ? 'Path(X, Z) <- Path(X, Y), Edge(Y, Z)' : 'Path(X, Z) <- Edge(X, Y), Path(Y, Z)',
    'main {',
    ...p.facts.Edge.map(([a, b]) => `  Edge(${a}, ${b})`),
    '  print(sum(Path))',
    '}',
  ].join('\n');
}

const gpu = await openNodeDevice();
const results = [];
for (const n of sizes) {
  const ref = randomGraphProgram(n, edges, seed);
  let t = performance.now();
  const tuples = evaluateEncoded(ref).get('Path')!.tuples.length;
  const refMs = performance.now() - t;

  t = performance.now();
  const artifact = build(source(ref), `closure-${n}.tl`);
  const buildMs = performance.now() - t;
  const program = await Program.load(gpu, artifact, undefined);
  const runs: number[] = [];
  let printed = '';
  for (let i = 0; i < 4; i++) {
    printed = '';
    t = performance.now();
    await program.run({}, { write: (s) => (printed += s) });
    runs.push(performance.now() - t);
  }
  program.destroy();
  const deviceMs = Math.min(...runs.slice(1));
  const found = Number(printed.trim());
  if (found !== tuples) throw new Error(`n=${n}: the device found ${found} paths, the reference ${tuples}`);
  results.push({ entities: n, edges: ref.facts.Edge.length, paths: tuples, reference_ms: Math.round(refMs), device_ms: Math.round(deviceMs), first_run_ms: Math.round(runs[0]), build_ms: Math.round(buildMs), speedup: +(refMs / deviceMs).toFixed(2) });
}

if (json) console.log(JSON.stringify({ adapter: gpu.info.adapter, results }, null, 2));
else {
  console.log(`transitive closure, ${leftLinear ? 'left' : 'right'}-linear, random graphs (${edges} edges per entity, seed ${seed}) on ${gpu.info.adapter}`);
  console.log('entities  edges     paths  reference ms  device ms  speedup  (first run ms, build ms)');
  for (const r of results) {
    console.log(`${String(r.entities).padStart(8)} ${String(r.edges).padStart(6)} ${String(r.paths).padStart(9)} ${String(r.reference_ms).padStart(13)} ${String(r.device_ms).padStart(10)} ${`${r.speedup}x`.padStart(8)}  (${r.first_run_ms}, ${r.build_ms})`);
  }
}
process.exit(0);
