#!/usr/bin/env node
// In a checkout: runs the TypeScript CLI straight from source through tsx (no build step). In the npm
// package, which holds no sources: runs the JavaScript scripts/build-package.mjs compiled into dist/js/.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../cli/tlc.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/tlc.ts');
} else {
  await import('../dist/js/cli/tlc.js');
}
