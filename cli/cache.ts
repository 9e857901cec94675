// The model cache every command shares: $TLC_CACHE, else $XDG_CACHE_HOME/tlc, else ~/.cache/tlc.
// A hub file hf:OWNER/REPO/PATH lives at <cache>/hf/OWNER/REPO/PATH, so the cache is plain files a
// user can read. Downloads in progress are hidden beside it (.NAME.*.partial, .NAME.lock, see
// cli/download.ts) and are never taken for a model.
import { readdirSync, rmdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { formatHubRef, type HubRef } from '../runtime/hub-ref.ts';

export function cacheRoot(): string {
  if (process.env.TLC_CACHE) return path.resolve(process.env.TLC_CACHE);
  if (process.env.XDG_CACHE_HOME) return path.resolve(process.env.XDG_CACHE_HOME, 'tlc');
  return path.join(homedir(), '.cache', 'tlc');
}

const hubDir = () => path.join(cacheRoot(), 'hf');

/** Where hf:REPO/FILE is (or will be) in the cache. */
export const cachedPath = (repo: string, file: string): string => path.join(hubDir(), ...repo.split('/'), ...file.split('/'));

export interface CachedModel {
  ref: string; // hf:OWNER/REPO/FILE
  repo: string;
  file: string;
  path: string;
  bytes: number;
}

/** The complete model files in the cache (of one repository, when `repo` is given), sorted by reference. */
export function cachedModels(repo?: string): CachedModel[] {
  const out: CachedModel[] = [];
  const walk = (dir: string, rel: string[]) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no cache yet
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // a download in progress, or its lock
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, [...rel, e.name]);
      else if (e.isFile() && rel.length >= 2 && e.name.toLowerCase().endsWith('.gguf')) {
        const r = { repo: `${rel[0]}/${rel[1]}`, file: [...rel.slice(2), e.name].join('/') };
        out.push({ ...r, ref: formatHubRef(r), path: p, bytes: statSync(p).size });
      }
    }
  };
  walk(repo ? path.join(hubDir(), ...repo.split('/')) : hubDir(), repo ? repo.split('/') : []);
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}

/** The cached files `ref` names: its file, or the repository's files (of its quantization). */
export function cachedFor(ref: HubRef, hasQuant: (file: string, quant: string) => boolean): CachedModel[] {
  return cachedModels(ref.repo).filter((m) => (ref.file ? m.file === ref.file : !ref.quant || hasQuant(m.file, ref.quant)));
}

/** Removes the empty folders from `file`'s folder up to the cache's hf/ folder. */
export function pruneEmptyDirs(file: string): void {
  const top = hubDir();
  for (let d = path.dirname(file); d.startsWith(top + path.sep); d = path.dirname(d)) {
    try {
      rmdirSync(d); // fails, and stops, at the first folder that is not empty
    } catch {
      return;
    }
  }
}
