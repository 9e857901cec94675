// Headless Chromium with WebGPU (SwiftShader, on the CPU) driven by playwright-core, and the chat page
// built once and served by the same server code as `tlc serve-web`. See shared/recipes/chromium-webgpu.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildWeb, type WebBuild } from '../../web/node/build.ts';
import { startWebServer, type ServedRequest, type WebServer } from '../../web/node/server.ts';
import { SHARED_MODELS } from '../support/shared.ts';
import { skipUnlessCI } from '../support/skip.ts';

/** Debian's Chromium: the real binary, or its shell wrapper. */
export const CHROMIUM = [process.env.CHROME_EXE, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && existsSync(p));

const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--no-default-browser-check', '--disable-default-apps', '--disable-extensions'];
// --enable-unsafe-webgpu: without it Chromium refuses CPU adapters. Never --disable-software-rasterizer (no adapter).
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-webgpu-developer-features', '--use-webgpu-adapter=swiftshader'];

/** Skips the suite (from a before hook) when no Chromium is installed; a failure on CI, where scripts/setup.sh installs it. */
export function requireChromium(ctx: Mocha.Context): void {
  if (!CHROMIUM) skipUnlessCI(ctx, 'no Chromium found at /usr/lib/chromium/chromium or /usr/bin/chromium; `bash scripts/setup.sh` installs it, or set CHROME_EXE');
}

export function launchChromium({ webgpu = true } = {}): Promise<Browser> {
  const asRoot = process.getuid?.() === 0; // Chromium will not start as root with its sandbox
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(asRoot ? ['--no-sandbox'] : []), ...(webgpu ? WEBGPU : []), ...QUIET],
    timeout: 60_000,
  });
}

let built: Promise<WebBuild> | undefined;

/** The page, built once per test run into a temporary folder (dist/web is left alone). */
export function builtPage(): Promise<WebBuild> {
  built ??= mkdtemp(path.join(os.tmpdir(), 'tlc-web-')).then((dir) => buildWeb(dir));
  return built;
}

/**
 * Serves the built page, with the .gguf files of `modelsDir` (default: the shared models, when there) under
 * /models/; `onRequest` hears of every request (which model bytes the page fetched).
 */
export async function servePage(modelsDir = existsSync(SHARED_MODELS) ? SHARED_MODELS : undefined, onRequest?: (r: ServedRequest) => void): Promise<WebServer> {
  const { outDir } = await builtPage();
  return startWebServer({ root: outDir, modelsDir, onRequest });
}

export async function removeBuiltPage(): Promise<void> {
  if (built) await rm((await built).outDir, { recursive: true, force: true });
  built = undefined;
}

export const TEST_OUTPUT = path.resolve(import.meta.dirname, '../../test-output/browser');

/** A port on 127.0.0.1 that nothing listens on (one just closed): for "the server is not there". */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
