// Where model bytes come from: a file in Node, a Blob or a URL in the browser. Read by range,
// so a 2 GB model never sits whole in JS memory.
import { TlcError } from './errors.ts';

export interface ByteSource {
  /** Shown in error messages: a path, a file name or a URL. */
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export function blobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

export function bytesSource(bytes: Uint8Array, name = 'memory'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      return bytes.subarray(offset, Math.min(offset + length, bytes.byteLength));
    },
  };
}

/** A model at a URL; `version` (its ETag or Last-Modified, when the server sends one) tells a changed file. */
export interface UrlSource extends ByteSource {
  readonly version?: string;
}

/** A URL read with HTTP Range requests; the size comes from a HEAD request. */
export async function urlSource(url: string): Promise<UrlSource> {
  const head = await fetchUrl(url, { method: 'HEAD' });
  if (!head.ok) throw new TlcError(`${url}: HTTP ${head.status}`);
  const size = Number(head.headers.get('content-length'));
  return {
    name: url,
    size,
    version: head.headers.get('etag') ?? head.headers.get('last-modified') ?? undefined,
    async read(offset, length) {
      const end = Math.min(offset + length, size) - 1;
      const r = await fetchUrl(url, { headers: { Range: `bytes=${offset}-${end}` } });
      if (!r.ok) throw new TlcError(`${url}: HTTP ${r.status} reading bytes ${offset}-${end}`);
      const buf = new Uint8Array(await r.arrayBuffer());
      // A server that ignores Range sends the whole file.
      return r.status === 206 ? buf : buf.subarray(offset, end + 1);
    },
  };
}

/**
 * fetch, saying which URL failed and why: a browser's own message ("Failed to fetch") names neither,
 * and Node's ("fetch failed") keeps the reason in its cause (ECONNREFUSED, ENOTFOUND, ...).
 */
async function fetchUrl(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = [(e as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
    const browser = typeof document !== 'undefined';
    throw new TlcError(`${url}: cannot reach it (${why}): the server is down or the address is wrong` +
      (browser ? ', or the server does not let pages of other sites read it (CORS)' : ''));
  }
}
