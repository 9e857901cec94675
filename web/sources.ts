// Where the page's model bytes come from: a URL or an hf: reference, through the copy kept in this
// browser (web/model-cache.ts) when there is one and the server still has the same file.
import { message } from './dom.ts';
import { hubSource, isHubRef } from './hub.ts';
import { TlcError, urlSource, type ByteSource, type UrlSource } from './lib.ts';
import { cacheAvailable, findSaved, noRoomFor, openSaved, save, type SavedModel } from './model-cache.ts';

export interface OpenedModel {
  source: ByteSource;
  /** saved: read from this browser's copy; downloaded: fetched into it now; server: read from the server by Range requests. */
  from: 'saved' | 'downloaded' | 'server' | 'file';
  /** Something the user should know about where it came from. */
  note?: string;
}

export interface OpenOptions {
  hfEndpoint?: string;
  /** Keep the model in this browser (and use a kept copy). */
  keep: boolean;
  onDownload(done: number, total: number): void;
}

/**
 * Opens the model at `text`. The server is asked for the file's size and version first (a HEAD
 * request, no download): a kept copy of the same file is read from disk; a changed or new file is
 * downloaded into the cache; when the server cannot be reached, a kept copy is used all the same.
 */
export async function openModelUrl(text: string, o: OpenOptions): Promise<OpenedModel> {
  const hub = isHubRef(text);
  let remote: (UrlSource & { url: string }) | undefined, failure: unknown;
  try {
    remote = hub ? await hubSource(text, o.hfEndpoint) : { ...(await urlSource(text)), url: new URL(text, location.href).href };
  } catch (e) {
    failure = e;
  }
  const caching = o.keep && cacheAvailable();
  if (caching) {
    const saved = await findSaved({ url: remote?.url ?? (hub ? undefined : new URL(text, location.href).href), ref: text }).catch(() => undefined);
    const source = saved && (!remote || sameFile(saved, remote)) ? await openSaved(saved, remote?.name ?? saved.name) : undefined;
    if (source) {
      const note = remote ? undefined : `The server did not answer (${message(failure)}); this is the copy saved in this browser.`;
      return { source, from: 'saved', note };
    }
  }
  if (!remote) throw failure;
  if (!o.keep) return { source: remote, from: 'server' };
  const noRoom = await noRoomFor(remote.size);
  if (noRoom) return { source: remote, from: 'server', note: `Not saved in this browser: ${noRoom}.` };
  try {
    return { source: await save(remote, { url: remote.url, ref: text }, o.onDownload), from: 'downloaded' };
  } catch (e) {
    // The server's failures (TlcErrors from urlSource) are the load's; the browser's storage failing
    // (a full disk, a private window) only means reading from the server instead.
    if (e instanceof TlcError) throw e;
    return { source: remote, from: 'server', note: `Not saved in this browser: ${message(e)}` };
  }
}

function sameFile(saved: SavedModel, remote: UrlSource): boolean {
  return saved.size === remote.size && (!saved.version || !remote.version || saved.version === remote.version);
}
