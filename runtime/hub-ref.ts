// Model references on the Hugging Face hub, shared by the CLI (cli/hub.ts) and the page (web/app.ts):
//
//   hf:OWNER/REPO/PATH/FILE.gguf   one file of a repository
//   hf:OWNER/REPO:Q4_0             the repository's one GGUF file of that quantization (--quant Q4_0)
//   hf:OWNER/REPO                  the repository's only GGUF file
//
// Nothing here touches the network or the file system: parsing, the resolve URL, and choosing a file
// among a repository's GGUFs.
import { TlcError } from './errors.ts';

export const HUB_PREFIX = 'hf:';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubRef {
  repo: string; // OWNER/REPO
  file?: string; // the file's path in the repository, when the reference names one
  quant?: string; // Q4_0, Q8_0, ... when it names a quantization instead
}

export const isHubRef = (s: unknown): s is string => typeof s === 'string' && s.startsWith(HUB_PREFIX);

// The hub's own rule for owner and repository names; a path segment may not climb out (`..`), since
// it becomes a path in the cache.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SEGMENT = /^(?!\.\.?$)[^\\/:*?"<>|\0]+$/;
const QUANT = /^[A-Za-z0-9_]+$/;

/** Parses `hf:...`; a TlcError saying what is wrong and how a reference looks otherwise. */
export function parseHubRef(ref: string): HubRef {
  const bad = (why: string) =>
    new TlcError(`${ref}: ${why}; a model reference is hf:OWNER/REPO/FILE.gguf, or hf:OWNER/REPO with --quant Q4_0.`);
  if (!ref.startsWith(HUB_PREFIX)) throw bad('not an hf: reference');
  let rest = ref.slice(HUB_PREFIX.length);
  let quant: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    quant = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!QUANT.test(quant)) throw bad(`"${quant}" is not a quantization name (like Q4_0)`);
  }
  const parts = rest.split('/');
  if (parts.length < 2 || !NAME.test(parts[0]) || !NAME.test(parts[1])) throw bad('it does not start with OWNER/REPO');
  const repo = `${parts[0]}/${parts[1]}`;
  if (parts.length === 2) return { repo, quant };
  if (quant) throw bad('it names a file and a quantization');
  const file = parts.slice(2).join('/');
  if (!parts.slice(2).every((p) => SEGMENT.test(p))) throw bad(`"${file}" is not a file path in a repository`);
  if (!file.toLowerCase().endsWith('.gguf')) throw bad(`${file} is not a .gguf file`);
  return { repo, file };
}

/** The reference as text: hf:OWNER/REPO/FILE, hf:OWNER/REPO:QUANT or hf:OWNER/REPO. */
export const formatHubRef = (r: HubRef): string => `${HUB_PREFIX}${r.repo}${r.file ? `/${r.file}` : r.quant ? `:${r.quant}` : ''}`;

/** Where the hub serves a file's bytes (as @huggingface/hub builds it: /{repo}/resolve/{revision}/{path}). */
export function resolveUrl(endpoint: string, repo: string, file: string, revision = 'main'): string {
  const quoted = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${quoted}`;
}

/** Does `file` carry the quantization `quant` in its name (model-Q4_0.gguf, model.q4_0.gguf, Q4_0/x.gguf)? */
export function hasQuant(file: string, quant: string): boolean {
  const esc = quant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Q4_K must not match Q4_K_M: the name may not go on with a letter, digit or underscore.
  return new RegExp(`(^|[-._/])${esc}(?![A-Za-z0-9_])`, 'i').test(file.replace(/\.gguf$/i, ''));
}

/**
 * The one GGUF file of `files` that `ref` means: the one with its quantization, or the only one.
 * None, or more than one, is a TlcError that lists them (and says how to choose).
 */
export function chooseGguf(ref: HubRef, files: string[]): string {
  const ggufs = files.filter((f) => f.toLowerCase().endsWith('.gguf')).sort();
  const name = formatHubRef(ref);
  if (!ggufs.length) throw new TlcError(`${name}: the repository has no .gguf files.`);
  const list = (fs: string[]) => fs.join(', ');
  const matching = ref.quant ? ggufs.filter((f) => hasQuant(f, ref.quant!)) : ggufs;
  if (matching.length === 1) return matching[0];
  if (!matching.length) throw new TlcError(`${name}: no GGUF file of the repository is ${ref.quant}; it has ${list(ggufs)}.`);
  const how = ref.quant ? 'name the file' : 'choose with --quant (like Q4_0) or name the file';
  throw new TlcError(`${name}: the repository has ${matching.length} GGUF files${ref.quant ? ` of ${ref.quant}` : ''} (${list(matching)}); ${how}: ${HUB_PREFIX}${ref.repo}/${matching[0]}.`);
}
