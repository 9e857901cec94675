// The page takes hf: model references too (web/hub.ts): here from a local server that answers like
// the hub (test/support/fake-hub.ts), named by ?hf_endpoint=, with a repository and a quantization.
import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { Browser } from 'playwright-core';
import type { WebServer } from '../../web/node/server.ts';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { startFakeHub, type FakeHub } from '../support/fake-hub.ts';
import { launchChromium, removeBuiltPage, requireChromium, servePage } from './support.ts';

describe('browser: hf: model references in the page', function () {
  this.timeout(240_000); // the first run compiles every shader on SwiftShader, a CPU
  let server: WebServer, browser: Browser, hub: FakeHub;

  before(async function () {
    requireChromium(this);
    hub = await startFakeHub({
      'tlc-test/tiny': {
        files: [
          { path: 'tiny-F32.gguf', bytes: synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 1 }), lfs: true },
          { path: 'tiny-Q8_0.gguf', bytes: synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 2, type: T.Q8_0 }), lfs: true },
        ],
      },
    });
    server = await servePage();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await hub?.close();
    await removeBuiltPage();
  });

  async function result(model: string): Promise<{ tokens?: number[]; error?: string }> {
    const page = await browser.newPage();
    const q = new URLSearchParams({ model, hf_endpoint: hub.url, prompt: 'hi', max_tokens: '3', temperature: '0', autorun: '1' });
    await page.goto(`${server.url}?${q}`);
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 200_000, polling: 100 });
    const out = JSON.parse((await page.locator('#result').textContent())!);
    await page.close();
    return out;
  }

  it('?model=hf:OWNER/REPO:Q8_0 reads the listing, then the file from its resolve URL, and generates', async () => {
    const r = await result('hf:tlc-test/tiny:Q8_0');
    assert.equal(r.tokens?.length, 3, JSON.stringify(r));
    assert.ok(hub.log.some((l) => l.url.startsWith('/api/models/tlc-test/tiny/tree/main')));
    assert.ok(hub.log.some((l) => l.url === '/tlc-test/tiny/resolve/main/tiny-Q8_0.gguf' && l.range), 'read by Range requests through resolve');
  });
  it('an ambiguous reference ends in {"error"} that lists the files', async () => {
    const r = await result('hf:tlc-test/tiny');
    assert.match(r.error ?? '', /the repository has 2 GGUF files \(tiny-F32\.gguf, tiny-Q8_0\.gguf\); choose with --quant/);
  });
});
