// StrykerJS over the host-side core, one module at a time (docs/testing.md, "Mutation testing").
// Run it through `npm run mutate` (scripts/mutate.mjs), which picks the module(s), sets
// TLC_MUTATE_MODULE for each run and preloads scripts/stryker-mocha12.cjs (without that preload the
// mocha runner cannot load Mocha 12). Without TLC_MUTATE_MODULE the config mutates every module
// against the union of their specs, in one run.
//
// Each module lists the files it mutates and the mocha spec files that test it: only fast, host-only
// tests (no GPU kernels, no Chromium, no child processes, whose coverage Stryker cannot see). A spec
// file that also holds such a test names it in `skip` (a regular expression on mocha's full test
// title): the run leaves those tests out (mocha's grep with a negative lookahead).

/** @type {Record<string, { mutate: string[]; spec: string[]; skip?: string[] }>} */
export const MODULES = {
  quant: { mutate: ['runtime/quant.ts'], spec: ['test/quant.test.ts', 'test/gguf-writer.test.ts'] },
  'run-params': { mutate: ['runtime/run-params.ts'], spec: ['test/run-params.test.ts'] },
  hparams: { mutate: ['runtime/hparams.ts'], spec: ['test/hparams.test.ts', 'test/gguf.test.ts', 'test/gguf-writer.test.ts'] },
  tokenizer: {
    mutate: ['runtime/tokenizer/bpe.ts', 'runtime/tokenizer/spm.ts'],
    spec: ['test/tokenizer-rules.test.ts', 'test/tokenizer-hf.test.ts', 'test/tokenizer.test.ts'],
    skip: ['\\./bin/tlc\\.js'], // tlc tokenize through the binary: a child process
  },
  gguf: { mutate: ['runtime/gguf.ts'], spec: ['test/gguf.test.ts', 'test/gguf-writer.test.ts'] },
  host: { mutate: ['runtime/host.ts'], spec: ['test/host.test.ts'] },
  passes: {
    mutate: ['compiler/passes/check-limits.ts', 'compiler/passes/fuse-attention.ts', 'compiler/passes/fuse-elementwise.ts',
      'compiler/passes/fuse-linear.ts', 'compiler/passes/graph-utils.ts', 'compiler/passes/kv-cache.ts'],
    spec: ['test/passes.test.ts', 'test/lower.test.ts'],
  },
  // Leaves of the lowering (compiler/lower/): number types, indexing and slicing, operators. The rest
  // of compiler/lower is reached only through whole programs, too slow to mutate here.
  lower: {
    mutate: ['compiler/lower/numbers.ts', 'compiler/lower/slicing.ts', 'compiler/lower/operators.ts'],
    spec: ['test/lower-values.test.ts', 'test/lower.test.ts', 'test/frontend/examples.test.ts'],
  },
};

const name = process.env.TLC_MUTATE_MODULE;
if (name !== undefined && !MODULES[name]) throw new Error(`TLC_MUTATE_MODULE=${name}: not one of ${Object.keys(MODULES).join(', ')}`);
const chosen = name ? [MODULES[name]] : Object.values(MODULES);
const dir = `reports/mutation/${name ?? 'all'}`;
const skip = chosen.flatMap((m) => m.skip ?? []);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'mocha',
  mochaOptions: {
    config: '.mocharc.json',
    spec: [...new Set(chosen.flatMap((m) => m.spec))],
    ...(skip.length ? { grep: `^(?!.*(?:${skip.join('|')}))` } : {}),
  },
  // The mocha runner loads the tests in its own worker (not through mocha's CLI, so .mocharc's
  // node-option does not apply): tsx goes in as a node argument there.
  testRunnerNodeArgs: ['--import', 'tsx'],
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `${dir}/incremental.json`,
  mutate: chosen.flatMap((m) => m.mutate),
  concurrency: 2,
  timeoutMS: 10000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `${dir}/mutation.json` },
  htmlReporter: { fileName: `${dir}/mutation.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  ignorePatterns: ['dist', 'build', 'test-output', 'reports', '.tmp', 'scratch_*', '*.tgz', '*.log'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
