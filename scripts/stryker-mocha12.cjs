// Preloaded (NODE_OPTIONS=--require) by scripts/mutate.mjs into Stryker and its test runners.
// @stryker-mutator/mocha-runner (9.x and 10.x alike) requires Mocha's cli internals without an
// extension (`mocha/lib/cli/run-helpers`, `options`, `collect-files`); Mocha 12 renamed them to
// .cjs, so the plugin fails to load (stryker-js PR #6205, open). This retries exactly those
// requests with `.cjs`; every other resolution is untouched. Remove once the runner handles Mocha 12.
'use strict';
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  try {
    return resolve.call(this, request, ...rest);
  } catch (err) {
    if (/[\\/]mocha[\\/]lib[\\/]cli[\\/][\w-]+$/.test(request)) return resolve.call(this, `${request}.cjs`, ...rest);
    throw err;
  }
};
