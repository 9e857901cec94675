// hf: model references in the page (runtime/hub-ref.ts): the hub serves files with CORS, so the page
// reads a model straight from its resolve URL, by Range requests like any other URL. hf:OWNER/REPO
// (with :QUANT) is looked up in the repository's file listing first.
import { urlSource, type ByteSource } from './lib.ts';
import { chooseGguf, DEFAULT_ENDPOINT, formatHubRef, parseHubRef, resolveUrl } from '../runtime/hub-ref.ts';

export { isHubRef } from '../runtime/hub-ref.ts';

export async function hubSource(text: string, endpoint = DEFAULT_ENDPOINT): Promise<ByteSource> {
  const ref = parseHubRef(text);
  let file = ref.file;
  if (!file) {
    const r = await fetch(`${endpoint}/api/models/${ref.repo}/tree/main?recursive=true`);
    if (!r.ok) throw new Error(`${text}: the hub answered ${r.status} listing ${ref.repo}${r.status === 401 || r.status === 404 ? ' (no such repository, or a private one)' : ''}`);
    const entries = (await r.json()) as { type: string; path: string }[];
    file = chooseGguf(ref, entries.filter((e) => e.type === 'file').map((e) => e.path));
  }
  const source = await urlSource(resolveUrl(endpoint, ref.repo, file)).catch((e: Error) => {
    // A gated repository needs a token, which the page does not hold.
    throw new Error(/HTTP 40[13]/.test(e.message) ? `${text}: the repository is gated or private; download it with \`tlc pull\` and serve it with \`tlc serve-web --model\`.` : e.message);
  });
  return { ...source, name: formatHubRef({ repo: ref.repo, file }) };
}
