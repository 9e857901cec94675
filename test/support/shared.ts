// Real models and reference outputs live in ../shared/models (beside the checkout, never in the repo).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_MODELS = process.env.TLC_SHARED_MODELS ?? path.resolve(repoRoot, '../shared/models');

/** Path of a file in ../shared/models, or undefined when the folder is absent (a user's fresh clone). */
export function sharedModel(rel: string): string | undefined {
  const p = path.join(SHARED_MODELS, rel);
  return existsSync(p) ? p : undefined;
}

/** Skips the current mocha test (or suite, from a before hook) when a shared file is missing. */
export function requireShared(ctx: Mocha.Context, rel: string): string {
  const p = sharedModel(rel);
  if (!p) {
    console.log(`      (skipped: ${path.join(SHARED_MODELS, rel)} is absent; the real-model tests need ../shared/models)`);
    ctx.skip();
  }
  return p!;
}
