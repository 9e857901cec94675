// StrykerJS over the host-side core, one module at a time (docs/testing.md, "Mutation testing").
// Run it through `npm run mutate` (scripts/mutate.mjs), which picks the module(s), sets
// TLC_MUTATE_MODULE for each run and preloads scripts/stryker-mocha12.cjs (without that preload the
// mocha runner cannot load Mocha 12). Without TLC_MUTATE_MODULE the config mutates every module
// against the union of their specs, in one run.
//
// Each module lists the files it mutates and the mocha spec files that test it: only fast, host-only
// tests (no GPU kernels, no Chromium, no child processes, whose coverage Stryker cannot see).

/** @type {Record<string, { mutate: string[]; spec: string[] }>} */
export const MODULES = {
  quant: { mutate: ['runtime/quant.ts'], spec: ['test/quant.test.ts', 'test/gguf-writer.test.ts'] },
  'run-params': { mutate: ['runtime/run-params.ts'], spec: ['test/run-params.test.ts'] },
  hparams: { mutate: ['runtime/hparams.ts'], spec: ['test/hparams.test.ts', 'test/gguf.test.ts', 'test/gguf-writer.test.ts'] },
  tokenizer: {
    mutate: ['runtime/tokenizer/bpe.ts', 'runtime/tokenizer/spm.ts'],
    spec: ['test/tokenizer-rules.test.ts', 'test/tokenizer-hf.test.ts', 'test/tokenizer.test.ts'],
  },
  gguf: { mutate: ['runtime/gguf.ts'], spec: ['test/gguf.test.ts', 'test/gguf-writer.test.ts'] },
  host: { mutate: ['runtime/host.ts'], spec: ['test/host.test.ts'] },
};

const name = process.env.TLC_MUTATE_MODULE;
if (name !== undefined && !MODULES[name]) throw new Error(`TLC_MUTATE_MODULE=${name}: not one of ${Object.keys(MODULES).join(', ')}`);
const chosen = name ? [MODULES[name]] : Object.values(MODULES);
const dir = `reports/mutation/${name ?? 'all'}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'mocha',
  mochaOptions: {
    config: '.mocharc.json',
    spec: [...new Set(chosen.flatMap((m) => m.spec))],
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
