// The server behind `tlc serve-web`: static files, and models by HTTP Range (what urlSource reads with).
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { urlSource } from '../../runtime/bytes.ts';
import { parseRange, startWebServer, type ServedRequest, type WebServer } from '../../web/node/server.ts';
import { freePort } from './support.ts';

describe('web server: parseRange', () => {
  const SIZE = 100;
  const cases: [header: string | undefined, expected: ReturnType<typeof parseRange>][] = [
    [undefined, undefined],
    ['bytes=0-9', [0, 9]],
    ['bytes=90-', [90, 99]],
    ['bytes=-10', [90, 99]],
    ['bytes=-500', [0, 99]],
    ['bytes=95-200', [95, 99]],          // an end past the file is cut to it
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=9-0', undefined],            // malformed: ignored, the whole file
    ['bytes=0-1,5-6', undefined],        // several ranges: the whole file
    ['items=0-9', undefined],
  ];
  for (const [header, expected] of cases) {
    it(`${header ?? '(no header)'} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(parseRange(header, SIZE), expected));
  }
});

describe('web server: HTTP', () => {
  let dir: string;
  let server: WebServer;
  const model = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tlc-serve-'));
    await mkdir(path.join(dir, 'page'));
    await mkdir(path.join(dir, 'models'));
    await writeFile(path.join(dir, 'page/index.html'), '<p>page</p>');
    await writeFile(path.join(dir, 'secret.txt'), 'outside the served folders');
    await writeFile(path.join(dir, 'models/tiny.gguf'), model);
    await writeFile(path.join(dir, 'models/notes.txt'), 'not a model');
    server = await startWebServer({ root: path.join(dir, 'page'), modelsDir: path.join(dir, 'models') });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: { what: string; path: string; method?: string; range?: string; status: number; headers?: Record<string, string>; body?: string | Uint8Array }[] = [
    { what: 'the page', path: '/', status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>page</p>' },
    { what: 'the favicon Chromium asks for', path: '/favicon.ico', status: 204 },
    { what: 'the model list', path: '/models/', status: 200, body: '["tiny.gguf"]' },
    { what: 'HEAD of a model: its size, no body', path: '/models/tiny.gguf', method: 'HEAD', status: 200, headers: { 'content-length': '1000', 'accept-ranges': 'bytes' }, body: '' },
    { what: 'a whole model', path: '/models/tiny.gguf', status: 200, body: model },
    { what: 'a byte range', path: '/models/tiny.gguf', range: 'bytes=10-19', status: 206, headers: { 'content-range': 'bytes 10-19/1000', 'content-length': '10' }, body: model.subarray(10, 20) },
    { what: 'the last bytes', path: '/models/tiny.gguf', range: 'bytes=-5', status: 206, body: model.subarray(995) },
    { what: 'a range past the end', path: '/models/tiny.gguf', range: 'bytes=1000-', status: 416, headers: { 'content-range': 'bytes */1000' } },
    { what: 'a file of the models folder that is not .gguf', path: '/models/notes.txt', status: 404 },
    { what: 'a path out of the models folder', path: '/models/..%2Fsecret.txt', status: 404 },
    { what: 'a path out of the page folder', path: '/..%2Fsecret.txt', status: 404 },
    { what: 'a missing file', path: '/nothing.js', status: 404 },
    { what: 'a POST', path: '/', method: 'POST', status: 405 },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.method ?? 'GET'} ${c.path}${c.range ? ` (${c.range})` : ''} -> ${c.status}`, async () => {
      const r = await fetch(new URL(c.path, server.url), { method: c.method, headers: c.range ? { range: c.range } : {} });
      assert.equal(r.status, c.status);
      for (const [k, v] of Object.entries(c.headers ?? {})) assert.equal(r.headers.get(k), v, k);
      if (typeof c.body === 'string') assert.equal(await r.text(), c.body);
      else if (c.body) assert.deepEqual(new Uint8Array(await r.arrayBuffer()), c.body);
    });
  }

  it('urlSource reads a served model piece by piece, byte for byte', async () => {
    const src = await urlSource(new URL('/models/tiny.gguf', server.url).href);
    assert.equal(src.size, model.length);
    for (const [offset, length] of [[0, 4], [123, 456], [990, 10], [999, 1]]) {
      assert.deepEqual(await src.read(offset, length), model.subarray(offset, offset + length), `${offset}+${length}`);
    }
  });

  it("urlSource: the file's version (Last-Modified), and a server that is not there named with the cause", async () => {
    const src = await urlSource(new URL('/models/tiny.gguf', server.url).href);
    assert.match(src.version ?? '', /GMT$/);
    const closed = new URL(server.url);
    closed.port = String(await freePort());
    const url = new URL('/models/tiny.gguf', closed).href;
    await assert.rejects(urlSource(url), { name: 'TlcError', message: `${url}: cannot reach it (fetch failed: ECONNREFUSED): the server is down or the address is wrong` });
  });

  it('tells onRequest of each request: method, path, range, status', async () => {
    const seen: ServedRequest[] = [];
    const logged = await startWebServer({ root: path.join(dir, 'page'), modelsDir: path.join(dir, 'models'), onRequest: (r) => seen.push(r) });
    try {
      await (await fetch(new URL('/models/tiny.gguf', logged.url), { headers: { range: 'bytes=0-3' } })).arrayBuffer();
      await fetch(new URL('/nothing.js', logged.url), { method: 'HEAD' });
      await new Promise((resolve) => setTimeout(resolve, 50)); // 'finish' comes after the client has the answer
      assert.deepEqual(seen, [
        { method: 'GET', path: '/models/tiny.gguf', range: 'bytes=0-3', status: 206 },
        { method: 'HEAD', path: '/nothing.js', range: undefined, status: 404 },
      ]);
    } finally {
      await logged.close();
    }
  });

  it('a port in use is a clear error', async () => {
    const port = Number(new URL(server.url).port);
    await assert.rejects(startWebServer({ root: dir, port }), { name: 'TlcError', message: `Port ${port} on 127.0.0.1 is in use: choose another with --port.` });
  });
});
