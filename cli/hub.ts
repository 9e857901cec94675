// hf: model references (runtime/hub-ref.ts) to files in the cache (cli/cache.ts), downloading them
// when missing (cli/download.ts). A reference the cache can answer needs no network: a second run is
// offline. The endpoint is $HF_ENDPOINT (as in the Hugging Face tools), the token $HF_TOKEN.
import { existsSync } from 'node:fs';
import type { ListFileEntry } from '@huggingface/hub';
import { TlcError } from '../runtime/errors.ts';
import { chooseGguf, DEFAULT_ENDPOINT, formatHubRef, hasQuant, isHubRef, parseHubRef, resolveUrl, type HubRef } from '../runtime/hub-ref.ts';
import { cachedFor, cachedPath } from './cache.ts';
import { download, httpWords, netWords } from './download.ts';
import { UsageError } from './report.ts';

export { isHubRef };

export const hubEndpoint = (): string => (process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');

function hubToken(): string | undefined {
  const t = process.env.HF_TOKEN;
  if (!t) return undefined;
  // @huggingface/hub refuses any other token with a TypeError; say it in words before it does.
  if (!t.startsWith('hf_')) throw new TlcError('HF_TOKEN is not a Hugging Face access token (those start with hf_); see huggingface.co/settings/tokens.');
  return t;
}

const stderrSay = (m: string) => process.stderr.write(`${m}\n`);

/**
 * The local file of a model reference: from the cache when it is there, else looked up on the hub
 * and downloaded into the cache first. `hf:OWNER/REPO[:QUANT]` takes the one matching file already
 * in the cache, else the one matching file of the repository.
 */
export async function modelFromHub(text: string, say: (m: string) => void = stderrSay): Promise<string> {
  const ref = parseHubRef(text);
  const cached = cachedFor(ref, hasQuant);
  if (cached.length === 1) return cached[0].path;
  if (cached.length > 1) chooseGguf(ref, cached.map((c) => c.file)); // several in the cache: the error lists them

  const endpoint = hubEndpoint(), token = hubToken();
  const files = await listRepo(ref, endpoint, token);
  const file = ref.file ?? chooseGguf(ref, files.map((f) => f.path));
  const entry = files.find((f) => f.path === file);
  if (!entry) {
    const ggufs = files.map((f) => f.path).filter((p) => p.toLowerCase().endsWith('.gguf'));
    throw new TlcError(`${text}: ${ref.repo} has no file ${file}${ggufs.length ? `; its GGUF files are ${ggufs.join(', ')}` : ' (and no GGUF files)'}.`);
  }
  const dest = cachedPath(ref.repo, file);
  if (existsSync(dest)) return dest;
  const size = entry.lfs?.size ?? entry.size;
  await download({
    url: resolveUrl(endpoint, ref.repo, file),
    dest,
    size,
    sha256: entry.lfs?.oid, // the LFS oid is the file's SHA-256; a small file kept in git has none
    version: entry.lfs?.oid ?? entry.oid ?? String(size),
    token,
    label: formatHubRef({ repo: ref.repo, file }),
  }, say);
  return dest;
}

/** The files of the repository (all folders), through @huggingface/hub's listFiles (the tree API). */
async function listRepo(ref: HubRef, endpoint: string, token: string | undefined): Promise<ListFileEntry[]> {
  const name = formatHubRef(ref);
  // Loaded here, not at the top: most commands never reach the hub, and each start should stay quick.
  const { listFiles, HubApiError } = await import('@huggingface/hub');
  const out: ListFileEntry[] = [];
  try {
    for await (const f of listFiles({ repo: ref.repo, recursive: true, hubUrl: endpoint, accessToken: token })) if (f.type === 'file') out.push(f);
  } catch (e) {
    if (e instanceof HubApiError) {
      // The hub answers 401 for a private repository and for one that does not exist alike.
      if (e.statusCode === 404 || e.statusCode === 401) {
        throw new TlcError(`${name}: ${endpoint} has no repository ${ref.repo} (${e.statusCode})${token ? '' : ', or it is private (then set HF_TOKEN)'}; check the name.`);
      }
      throw new TlcError(httpWords(e.statusCode, name, !!token));
    }
    if (e instanceof TypeError) throw new TlcError(`cannot reach ${endpoint} to look up ${name}: ${netWords(e)}.`);
    throw e;
  }
  return out;
}

/**
 * `--quant Q` applied to a model reference: hf:OWNER/REPO becomes hf:OWNER/REPO:Q. With anything
 * else (a file, a reference that names its file) it is a usage error.
 */
export function withQuant(model: string | undefined, quant: string | undefined): string | undefined {
  if (quant === undefined) return model;
  if (quant === '') throw new UsageError('--quant: expected a quantization such as Q4_0, got ""');
  if (!isHubRef(model)) throw new UsageError(`--quant chooses among the GGUF files of a repository on the hub (--model hf:OWNER/REPO --quant ${quant}); ${model ?? 'no model'} is not one.`);
  const ref = parseHubRef(model);
  if (ref.file) throw new UsageError(`--quant ${quant}: ${model} already names its file.`);
  if (ref.quant && ref.quant.toLowerCase() !== quant.toLowerCase()) throw new UsageError(`--quant ${quant}: ${model} already asks for ${ref.quant}.`);
  return formatHubRef({ repo: ref.repo, quant });
}

/** The option every command that takes a model adds. */
export const QUANT_OPTION = { type: 'string', describe: 'With an hf:OWNER/REPO model: the GGUF file of this quantization (Q4_0, Q8_0, ...)' } as const;
