// Where model bytes come from: a file in Node, a Blob or a URL in the browser. Read by range,
// so a 2 GB model never sits whole in JS memory.

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

/** A URL read with HTTP Range requests; the size comes from a HEAD request. */
export async function urlSource(url: string): Promise<ByteSource> {
  const head = await fetch(url, { method: 'HEAD' });
  if (!head.ok) throw new Error(`${url}: HTTP ${head.status}`);
  const size = Number(head.headers.get('content-length'));
  return {
    name: url,
    size,
    async read(offset, length) {
      const end = Math.min(offset + length, size) - 1;
      const r = await fetch(url, { headers: { Range: `bytes=${offset}-${end}` } });
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status} reading bytes ${offset}-${end}`);
      const buf = new Uint8Array(await r.arrayBuffer());
      // A server that ignores Range sends the whole file.
      return r.status === 206 ? buf : buf.subarray(offset, end + 1);
    },
  };
}
