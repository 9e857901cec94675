#!/usr/bin/env node
// Builds what the npm package ships (`npm pack` runs it as prepack; package.json's "files" lists it):
//   dist/js/   the library (lib/index.ts, lib/browser.ts) and the CLI compiled by tsc
//              (tsconfig.build.json), with .d.ts files, and the data files the code reads beside itself
//   dist/web/  the browser bundle tlc-runtime.js (`tlc/web`) and the page `tlc serve-web` serves
// The package runs no TypeScript: bin/tlc.js runs dist/js/cli/tlc.js when the sources are absent.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/js');
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('build-package: tsc failed (see above)');
  process.exit(1);
}
// Files the compiled code reads relative to its own location (import.meta.url).
for (const f of ['grammar/tensorlogic.ohm', 'examples/chat.tl']) {
  mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
  copyFileSync(path.join(root, f), path.join(out, f));
}

register();
const { buildWeb } = await import('../web/node/build.ts');
const { outDir, files, warnings } = await buildWeb();
for (const w of warnings) console.warn(`warning: ${w}`);
console.log(`built ${path.relative(root, out)}/ and ${path.relative(root, outDir)}/ (${files.join(', ')})`);
