// A local HTTP server that answers like the Hugging Face hub, for tests without internet: the two
// endpoints @huggingface/hub and tlc use (HF_ENDPOINT points here):
//
//   GET /api/models/OWNER/REPO/tree/REV?recursive=..   the file listing (size, oid, lfs {oid, size})
//   GET /OWNER/REPO/resolve/REV/PATH                   the file: an LFS file redirects (302, with
//       X-Linked-Size and X-Linked-ETag = its SHA-256) to /cdn/SHA256, which honours Range (206)
//
// and what can go wrong: a missing repository (401, as the hub answers without a token) or file (404),
// a gated repository (401 without a token, 403 with one it does not accept), a connection dropped
// after some bytes, and bytes that do not match their checksum.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeFile { path: string; bytes: Uint8Array; lfs?: boolean }
export interface FakeRepo { files: FakeFile[]; gated?: boolean }

export interface FakeHub {
  url: string;
  repos: Map<string, FakeRepo>;
  /** Every request: method, path and query, and its Range header. */
  log: { url: string; range?: string; auth?: string }[];
  /** Each file response ends (the socket is destroyed) after this many bytes; undefined: never. */
  dropAfter?: number;
  /** Serves these bytes for the file whose SHA-256 is the key, instead of its own (a corrupt CDN). */
  corrupt: Map<string, Uint8Array>;
  close(): Promise<void>;
}

export const GOOD_TOKEN = 'hf_good';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const hub: FakeHub = { url: '', repos: new Map(Object.entries(repos)), log: [], corrupt: new Map(), close: async () => {} };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hub.log.push({ url: url.pathname + url.search, range: req.headers.range, auth: req.headers.authorization });
    // CORS, as the hub sends it, so the page (on another port) can read models from here.
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'content-length, content-range, etag, x-linked-size, x-linked-etag');
    if (req.method === 'OPTIONS') return void res.writeHead(204, { 'access-control-allow-headers': 'range, authorization, accept', 'access-control-allow-methods': 'GET, HEAD' }).end();
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    // the listing
    if (parts[0] === 'api' && parts[1] === 'models' && parts[4] === 'tree') {
      const repo = hub.repos.get(`${parts[2]}/${parts[3]}`);
      if (!repo) return json(res, 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      const dirs = new Set(repo.files.flatMap((f) => f.path.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
      return json(res, 200, [
        ...[...dirs].map((d) => ({ type: 'directory', path: d, oid: gitOid(new TextEncoder().encode(d)), size: 0 })),
        ...repo.files.map((f) => ({
          type: 'file', path: f.path, size: f.lfs ? 134 : f.bytes.length, oid: gitOid(f.bytes),
          ...(f.lfs ? { lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: 134 } } : {}),
        })),
      ]);
    }

    // the file, through resolve (and the "CDN" for LFS files)
    if (parts[2] === 'resolve') {
      const repo = hub.repos.get(`${parts[0]}/${parts[1]}`);
      if (!repo) return json(res, 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      if (repo.gated && req.headers.authorization !== `Bearer ${GOOD_TOKEN}`) {
        const status = req.headers.authorization ? 403 : 401;
        return json(res, status, { error: `Access to model ${parts[0]}/${parts[1]} is restricted.` }, { 'x-error-code': 'GatedRepo' });
      }
      const file = repo.files.find((f) => f.path === parts.slice(4).join('/'));
      if (!file) return json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      if (file.lfs) {
        const oid = sha256(file.bytes);
        return void res.writeHead(302, { location: `/cdn/${oid}`, 'x-linked-size': file.bytes.length, 'x-linked-etag': `"${oid}"`, etag: `"${gitOid(file.bytes)}"` }).end();
      }
      return send(req, res, file.bytes, `"${gitOid(file.bytes)}"`);
    }
    if (parts[0] === 'cdn') {
      const file = [...hub.repos.values()].flatMap((r) => r.files).find((f) => f.lfs && sha256(f.bytes) === parts[1]);
      if (!file) return json(res, 404, { error: 'not found' });
      return send(req, res, hub.corrupt.get(parts[1]) ?? file.bytes, `"${parts[1]}"`);
    }
    json(res, 404, { error: 'not found' });
  });

  /** A file with Range support; dropAfter cuts the connection after that many bytes of body. */
  function send(req: http.IncomingMessage, res: http.ServerResponse, bytes: Uint8Array, etag: string) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0, end = m && m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
    if (m && start >= bytes.length) return void res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
    const body = bytes.subarray(start, end + 1);
    res.writeHead(m ? 206 : 200, {
      'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag, 'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    });
    if (hub.dropAfter === undefined || body.length <= hub.dropAfter) return void res.end(body);
    res.write(body.subarray(0, hub.dropAfter), () => setTimeout(() => res.destroy(), 20));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return hub;
}
