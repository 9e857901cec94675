// Real models and reference outputs live in ../shared/models (beside the checkout, never in the repo).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { skipUnlessCI } from './skip.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_MODELS = process.env.TLC_SHARED_MODELS ?? path.resolve(repoRoot, '../shared/models');

/** Path of a file in ../shared/models, or undefined when the folder is absent (a user's fresh clone). */
export function sharedModel(rel: string): string | undefined {
  const p = path.join(SHARED_MODELS, rel);
  return existsSync(p) ? p : undefined;
}

/**
 * The path of a shared file. When it is missing, skips the current mocha test (or suite, from a
 * before hook): a clone without ../shared/models. On CI, which always has it, that is a failure.
 */
export function requireShared(ctx: Mocha.Context, rel: string): string {
  const p = sharedModel(rel);
  if (!p) skipUnlessCI(ctx, `${path.join(SHARED_MODELS, rel)} is absent; the real-model tests need ../shared/models`);
  return p;
}
