// `tlc models`: the models in the cache, one line each; `tlc models rm REF` removes them.
import type { CommandModule } from 'yargs';
import { readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { cachedFor, cachedModels, cacheRoot, pruneEmptyDirs, type CachedModel } from '../cache.ts';
import { formatBytes } from '../progress.ts';
import { openGguf } from '../../runtime/node/gguf.ts';
import { ggmlTypeName } from '../../runtime/gguf.ts';
import { llamaHParams } from '../../runtime/hparams.ts';
import { TlcError } from '../../runtime/errors.ts';
import { hasQuant, isHubRef, parseHubRef } from '../../runtime/hub-ref.ts';
import { errnoWords } from '../files.ts';
import { UsageError } from '../report.ts';

const rmCommand: CommandModule<{}, { ref: string }> = {
  command: 'rm <ref>',
  describe: 'Remove a cached model (hf:OWNER/REPO/FILE.gguf), or every cached model of hf:OWNER/REPO',
  builder: (y) => y.positional('ref', { type: 'string', demandOption: true, describe: 'hf:OWNER/REPO/FILE.gguf, hf:OWNER/REPO:QUANT or hf:OWNER/REPO' }),
  handler: (argv) => {
    if (!isHubRef(argv.ref)) throw new UsageError(`models rm: ${argv.ref || '""'} is not a model reference; \`tlc models\` lists the cached ones.`);
    const found = cachedFor(parseHubRef(argv.ref), hasQuant);
    if (!found.length) throw new TlcError(`${argv.ref} is not in the cache (${cacheRoot()}); \`tlc models\` lists what is.`);
    for (const m of found) {
      remove(m);
      console.log(`removed ${m.ref} (${formatBytes(m.bytes)})`);
    }
  },
};

export const modelsCommand: CommandModule<{}, { json?: boolean }> = {
  command: 'models',
  describe: 'List the models in the cache (size, weight type, hyperparameters); `tlc models rm REF` removes one',
  builder: (y) =>
    y.command(rmCommand as CommandModule)
      .option('json', { type: 'boolean', describe: 'Print a JSON array instead' })
      .epilog('The cache is $TLC_CACHE, else $XDG_CACHE_HOME/tlc, else ~/.cache/tlc; `tlc pull` and any --model hf:... fill it.'),
  handler: async (argv) => {
    const rows = await Promise.all(cachedModels().map(describe));
    if (argv.json) return console.log(JSON.stringify(rows, null, 2));
    if (!rows.length) return console.log(`no models in ${cacheRoot()}; \`tlc pull hf:OWNER/REPO/FILE.gguf\` downloads one.`);
    const w = Math.max(...rows.map((r) => r.ref.length));
    for (const r of rows) console.log(`${r.ref.padEnd(w)}  ${formatBytes(r.bytes).padStart(8)}  ${(r.type ?? '?').padEnd(5)}  ${r.summary}`);
  },
};

interface Row { ref: string; path: string; bytes: number; type?: string; summary: string }

/** One cached model in a line: its weight type (the type of most weight bytes) and hyperparameters. */
async function describe(m: CachedModel): Promise<Row> {
  const row = { ref: m.ref, path: m.path, bytes: m.bytes };
  let file;
  try {
    file = await openGguf(m.path);
  } catch (e) {
    return { ...row, summary: `not a GGUF file tlc reads: ${(e as Error).message}` };
  }
  try {
    const bytesByType = new Map<string, number>();
    for (const t of file.tensors) bytesByType.set(ggmlTypeName(t.type), (bytesByType.get(ggmlTypeName(t.type)) ?? 0) + t.byteLength);
    const type = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0];
    try {
      const h = llamaHParams(file);
      const heads = h.n_head_kv !== h.n_head ? `${h.n_head}/${h.n_head_kv}` : `${h.n_head}`;
      return { ...row, type, summary: `${h.arch}: ${h.n_layer} layers, embd ${h.n_embd}, ff ${h.n_ff}, heads ${heads}, vocab ${h.n_vocab}, ctx ${h.n_ctx_train}${h.name ? ` (${h.name})` : ''}` };
    } catch (e) {
      return { ...row, type, summary: `not a model tlc runs: ${(e as Error).message}` };
    }
  } finally {
    await file.source.close?.();
  }
}

/** Removes a cached model with whatever its downloads left beside it (partials, a stale lock). */
function remove(m: CachedModel): void {
  const dir = path.dirname(m.path), name = path.basename(m.path);
  try {
    unlinkSync(m.path);
    for (const f of readdirSync(dir)) if (f.startsWith(`.${name}.`) && f.endsWith('.partial')) unlinkSync(path.join(dir, f));
  } catch (e) {
    throw new TlcError(`cannot remove ${m.path}: ${errnoWords(e)}.`);
  }
  pruneEmptyDirs(m.path);
}
