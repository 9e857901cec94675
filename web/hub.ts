// hf: model references in the page (runtime/hub-ref.ts): the hub serves files with CORS, so the page
// reads a model straight from its resolve URL, by Range requests like any other URL. hf:OWNER/REPO
// (with :QUANT) is looked up in the repository's file listing first.
import { urlSource, type UrlSource } from './lib.ts';
import { chooseGguf, DEFAULT_ENDPOINT, formatHubRef, parseHubRef, resolveUrl } from '../runtime/hub-ref.ts';

export { isHubRef } from '../runtime/hub-ref.ts';

/** The model an hf: reference names, read from its resolve URL (`url`), named by the reference. */
export async function hubSource(text: string, endpoint = DEFAULT_ENDPOINT): Promise<UrlSource & { url: string }> {
  const ref = parseHubRef(text);
  let file = ref.file;
  if (!file) {
    const listing = `${endpoint}/api/models/${ref.repo}/tree/main?recursive=true`;
    const r = await fetch(listing).catch((e: Error) => {
      throw new Error(`${text}: cannot reach the hub at ${listing} (${e.message})`);
    });
    if (!r.ok) throw new Error(`${text}: the hub answered ${r.status} listing ${ref.repo}${r.status === 401 || r.status === 404 ? ' (no such repository, or a private one)' : ''}`);
    const entries = (await r.json()) as { type: string; path: string }[];
    file = chooseGguf(ref, entries.filter((e) => e.type === 'file').map((e) => e.path));
  }
  const url = resolveUrl(endpoint, ref.repo, file);
  const source = await urlSource(url).catch((e: Error) => {
    // A gated repository needs a token, which the page does not hold.
    throw new Error(/HTTP 40[13]/.test(e.message) ? `${text}: the repository is gated or private; download it with \`tlc pull\` and serve it with \`tlc serve-web --model\`.` : e.message);
  });
  return { ...source, name: formatHubRef({ repo: ref.repo, file }), url };
}
