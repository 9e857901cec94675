// The chat page in a real headless Chromium, WebGPU on SwiftShader: adapter, no-WebGPU messages,
// loading a real model by URL and by file, and (phase 2) generation equal to llama.cpp's tokens.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { WebServer } from '../../web/node/server.ts';
import { requireShared } from '../support/shared.ts';
import { launchChromium, removeBuiltPage, requireChromium, servePage, TEST_OUTPUT } from './support.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('browser: the chat page in headless Chromium', function () {
  this.timeout(60_000);
  let server: WebServer;
  let browser: Browser;

  before(async function () {
    requireChromium(this);
    server = await servePage();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await removeBuiltPage();
  });

  /** Opens the page at `query` and waits until it has settled. */
  async function open(query = '', opts: { browser?: Browser; initScript?: string } = {}): Promise<Page> {
    const page = await (opts.browser ?? browser).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    if (opts.initScript) await page.addInitScript(opts.initScript);
    await page.goto(server.url + query);
    // With ?model= the page goes on from 'ready' to load, so wait for where the load ends.
    const states = (query.includes('model=') ? ['loaded', 'error', 'no-webgpu'] : ['ready', 'no-webgpu', 'error']);
    await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout: 50_000, polling: 50 });
    assert.deepEqual(problems, [], 'uncaught errors in the page');
    return page;
  }

  const state = (page: Page) => page.evaluate(() => document.body.dataset.state);
  const text = (page: Page, selector: string) => page.locator(selector).innerText();

  it('shows the SwiftShader adapter, its features, and the program it runs', async () => {
    const page = await open();
    assert.equal(await state(page), 'ready', await text(page, '#no-webgpu'));
    assert.match(await text(page, '#adapter'), /swiftshader/i);
    // SwiftShader in Chromium 156: subgroups and timestamps, no f16 (shared/recipes/chromium-webgpu, section 5).
    const expected = { 'shader-f16': 'false', subgroups: 'true', 'timestamp-query': 'true' };
    const shown = await page.$$eval('#features .chip', (chips) => Object.fromEntries(chips.map((c) => [c.textContent, (c as HTMLElement).dataset.on])));
    assert.deepEqual(shown, expected);

    const program = path.join(REPO, 'examples/chat.tl');
    const shownProgram = await page.locator('#program-text').textContent();
    if (existsSync(program)) assert.equal(shownProgram, readFileSync(program, 'utf8'));
    else assert.match(shownProgram ?? '', /examples\/chat\.tl was not there/);
    await page.close();
  });

  describe('says clearly when there is no usable WebGPU', () => {
    const cases = [
      {
        why: 'navigator.gpu is missing',
        initScript: 'delete Navigator.prototype.gpu',
        message: /This browser has no WebGPU \(navigator\.gpu is missing\)/,
      },
      {
        why: 'Chromium offers no adapter (started without --enable-unsafe-webgpu)',
        webgpu: false,
        message: /This browser offers no WebGPU adapter.*--enable-unsafe-webgpu/,
      },
      {
        why: 'the adapter lacks a limit the kernels need',
        initScript: `Object.defineProperty(GPUSupportedLimits.prototype, 'maxComputeInvocationsPerWorkgroup', { get: () => 64 })`,
        message: /too limited for tlc: maxComputeInvocationsPerWorkgroup is 64, tlc needs 256/,
      },
    ];
    for (const c of cases) {
      it(`${c.why} -> the message, and {"error"} in #result`, async () => {
        const other = c.webgpu === false ? await launchChromium({ webgpu: false }) : undefined;
        try {
          const page = await open('?model=models/stories260K.gguf&autorun=1', { browser: other, initScript: c.initScript });
          assert.equal(await state(page), 'no-webgpu');
          assert.match(await text(page, '#no-webgpu'), c.message);
          const result = JSON.parse((await page.locator('#result').textContent()) ?? '');
          assert.match(result.error, c.message);
          if (c.why === 'navigator.gpu is missing') await page.screenshot({ path: await outputFile('no-webgpu.png') });
          await page.close();
        } finally {
          await other?.close();
        }
      });
    }
  });

  // stories260K (shared/models/SOURCES.md): llama, 5 blocks, n_embd 64, n_ff 172, 8 heads, 4 KV heads, vocab 512, 48 F32 tensors.
  const STORIES_260K = {
    arch: 'llama', n_layer: '5', n_embd: '64', n_ff: '172', n_head: '8', n_head_kv: '4', head_dim: '8',
    n_vocab: '512', n_ctx_train: '2048', tokenizer_model: 'llama', bos_id: '1', eos_id: '2', tensors: '48',
  };
  const hparamsShown = (page: Page) => page.$$eval('#hparams > div', (divs) =>
    Object.fromEntries(divs.map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));

  async function assertLoaded(page: Page): Promise<void> {
    assert.equal(await state(page), 'loaded', await text(page, '#error'));
    const [value, max] = await page.$eval('#progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]);
    assert.ok(max > 1000 && value === max, `progress ${value} of ${max}`);
    assert.match(await text(page, '#progress-text'), /\(100%\)$/);
    const shown = await hparamsShown(page);
    for (const [key, want] of Object.entries(STORIES_260K)) assert.equal(shown[key], want, key);
    assert.equal(await page.locator('#send').isDisabled(), false, 'Send is enabled once a model is loaded');
  }

  it('loads stories260K from ?model=URL: progress reaches 100%, the hyperparameters show', async function () {
    requireShared(this, 'stories260K.gguf');
    const page = await open('?model=models/stories260K.gguf');
    await assertLoaded(page);
    assert.match(await text(page, '#model-name'), /^models\/stories260K\.gguf \(1\.1 MiB\)$/);
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.screenshot({ path: await outputFile('chat-page.png'), fullPage: true });
    await page.close();
  });

  it('loads stories260K from the file picker (a Blob)', async function () {
    const file = requireShared(this, 'stories260K.gguf');
    const page = await open();
    await page.locator('#file').setInputFiles(file);
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 50_000 });
    await assertLoaded(page);
    assert.match(await text(page, '#model-name'), /^stories260K\.gguf /);
    await page.close();
  });

  it('a model URL that is not there ends in {"error"} in #result, not a hang', async () => {
    const page = await open('?model=models/absent.gguf&autorun=1');
    assert.equal(await state(page), 'error');
    assert.deepEqual(JSON.parse((await page.locator('#result').textContent()) ?? ''), { error: 'models/absent.gguf: HTTP 404' });
    await page.close();
  });

  // Phase 2: turn on once runtime/program.ts exists and web/generate.ts calls Program.run. The page must
  // give, at temperature 0, the tokens `tlc run` gives in Node: llama.cpp's reference continuation.
  it.skip('generates stories260K at temperature 0: the first 20 tokens equal llama.cpp\'s', async function () {
    requireShared(this, 'stories260K.gguf');
    const refs = JSON.parse(readFileSync(requireShared(this, 'reference/generate_reference.json'), 'utf8'));
    const ref = refs.find((r: { model: string }) => r.model === 'stories260K.gguf');
    const want: number[] = ref.llamacpp_default.tokens.slice(0, 20);
    const q = new URLSearchParams({ model: 'models/stories260K.gguf', prompt: ref.prompt, max_tokens: '20', temperature: '0', seed: '1', autorun: '1' });
    const page = await browser.newPage();
    await page.goto(`${server.url}?${q}`);
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 50_000 });
    const result = JSON.parse((await page.locator('#result').textContent())!);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.tokens.slice(0, 20), want);
    assert.ok(result.timings.decode_tok_s > 0);
    await page.close();
  });
});

async function outputFile(name: string): Promise<string> {
  await mkdir(TEST_OUTPUT, { recursive: true });
  return path.join(TEST_OUTPUT, name);
}
