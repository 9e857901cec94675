// A small static server for the browser page: dist/web/ at /, and the .gguf files of a folder under
// /models/ (with HEAD and HTTP Range requests, which urlSource uses to read a model piece by piece).
// It binds to loopback unless told otherwise: 127.0.0.1 is also a secure context, so WebGPU is allowed.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TlcError } from '../../runtime/errors.ts';

export interface WebServerOptions {
  root: string;        // the built page (dist/web)
  modelsDir?: string;  // served as /models/<name>.gguf; GET /models/ lists them as JSON
  port?: number;       // 0 (default): any free port
  host?: string;       // default 127.0.0.1
  /** Hears of each request once answered (the tests read which model bytes the page fetched). */
  onRequest?(r: ServedRequest): void;
}

export interface ServedRequest {
  method: string;
  path: string;
  range?: string;
  status: number;
}

export interface WebServer {
  url: string;         // "http://127.0.0.1:8080/"
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.tl': 'text/plain; charset=utf-8',
  '.gguf': 'application/octet-stream',
};

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    if (opts.onRequest) {
      res.on('finish', () => opts.onRequest!({ method: req.method ?? '', path: req.url ?? '', range: req.headers.range, status: res.statusCode }));
    }
    handle(opts, req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${host}:${opts.port ?? 0}`;
      if (e.code === 'EADDRINUSE') reject(new TlcError(`Port ${opts.port} on ${host} is in use: choose another with --port.`));
      else if (e.code === 'EACCES') reject(new TlcError(`Not allowed to listen on ${where}: choose a port above 1023 with --port.`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new TlcError(`Cannot listen on ${where}: ${host} is not an address of this machine.`));
      else reject(e);
    });
    server.listen(opts.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handle(opts: WebServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return void res.writeHead(400).end();
  }
  if (pathname === '/favicon.ico') return void res.writeHead(204).end();

  if (pathname === '/models' || pathname.startsWith('/models/')) {
    const name = pathname.slice('/models/'.length);
    if (!opts.modelsDir) return notFound(res, 'this server was started without --models');
    if (name === '') {
      const names = (await readdir(opts.modelsDir)).filter((n) => n.endsWith('.gguf')).sort();
      return void res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(JSON.stringify(names));
    }
    // Only plain .gguf names in the folder itself: nothing else of the disk is reachable.
    if (name.includes('/') || name.includes('\\') || !name.endsWith('.gguf')) return notFound(res, name);
    return sendFile(req, res, path.join(opts.modelsDir, name));
  }

  const root = path.resolve(opts.root);
  const file = path.resolve(root, '.' + (pathname.endsWith('/') ? pathname + 'index.html' : pathname));
  if (!file.startsWith(root + path.sep)) return notFound(res, pathname);
  return sendFile(req, res, file);
}

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return notFound(res, path.basename(file));
  const headers: http.OutgoingHttpHeaders = {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    // The page keeps models in the browser; this tells it when the file here changed.
    'last-modified': st.mtime.toUTCString(),
  };
  const range = parseRange(req.headers.range, st.size);
  if (range === 'unsatisfiable') {
    return void res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
  }
  const [start, end] = range ?? [0, st.size - 1]; // inclusive
  if (range) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  headers['content-length'] = Math.max(0, end - start + 1);
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || st.size === 0) return void res.end();
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/**
 * The one byte range of a `Range: bytes=...` header as [start, end] inclusive; undefined to send the whole
 * file (no header, a malformed one, or several ranges, which we need not honour); 'unsatisfiable' past the end.
 */
export function parseRange(header: string | undefined, size: number): [number, number] | undefined | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') { // bytes=-N: the last N bytes
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // malformed: ignored, as RFC 9110 says
  if (start >= size) return 'unsatisfiable';
  return [start, m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)];
}

function notFound(res: http.ServerResponse, what: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${what}\n`);
}
