#!/usr/bin/env node
// Runs the TypeScript CLI straight from source through tsx: no separate build step.
import { register } from 'tsx/esm/api';
register();
await import('../cli/tlc.ts');
