// The chat page in a real headless Chromium, WebGPU on SwiftShader: adapter, no-WebGPU messages, loading a
// real model by URL and by file, and generation in text mode: llama.cpp's tokens for stories260K, Node's
// for synthetic models. The chat itself (conversations, the model cache, the context) is chat-page.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { Browser, Page } from 'playwright-core';
import type { WebServer } from '../../web/node/server.ts';
import type { RunProfile } from '../../runtime/profile.ts';
import type { ModelBenchResult } from '../../runtime/bench-model.ts';
import { CONVERSATION_TL } from '../../runtime/conversation.ts';
import { synthLlama, type SynthOptions } from '../../runtime/gguf-writer.ts';
import { runProgram } from '../support/program.ts';
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

  it('shows the SwiftShader adapter, its features, and the program it runs (conversation.tl)', async () => {
    const page = await open();
    assert.equal(await state(page), 'ready', await text(page, '#no-webgpu'));
    assert.match(await text(page, '#adapter'), /swiftshader/i);
    // SwiftShader in Chromium 156: subgroups and timestamps, no f16 (shared/recipes/chromium-webgpu, section 5).
    const expected = { 'shader-f16': 'false', subgroups: 'true', 'timestamp-query': 'true' };
    const shown = await page.$$eval('#features .chip', (chips) => Object.fromEntries(chips.map((c) => [c.textContent, (c as HTMLElement).dataset.on])));
    assert.deepEqual(shown, expected);

    assert.equal(await page.locator('#program-text').textContent(), CONVERSATION_TL);
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

  async function assertLoaded(page: Page, from: RegExp): Promise<void> {
    assert.equal(await state(page), 'loaded', await text(page, '#error'));
    const [value, max] = await page.$eval('#progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]);
    assert.ok(max > 1000 && value === max, `progress ${value} of ${max}`);
    assert.match((await page.locator('#progress-text').textContent())!, /^loading onto the GPU: .* \(100%\)$/);
    assert.equal(await page.locator('#progress-row').isHidden(), true, 'the progress bar goes once the model is loaded');
    const info = await text(page, '#load-info');
    assert.match(info, /^conversation\.tl compiled for it in \d+ ms; weights and shaders loaded in [\d.]+ s\. /);
    assert.match(info, from);
    assert.match(info, /It has no chat template/);
    assert.equal(await page.locator('#mode').inputValue(), 'text', 'a model without a chat template starts in text mode');
    const shown = await hparamsShown(page);
    for (const [key, want] of Object.entries(STORIES_260K)) assert.equal(shown[key], want, key);
    assert.equal(await page.locator('#send').isDisabled(), false, 'Send is enabled once a model is loaded');
  }

  it('loads stories260K from ?model=URL: progress reaches 100%, the hyperparameters show', async function () {
    requireShared(this, 'stories260K.gguf');
    const page = await open('?model=models/stories260K.gguf');
    await assertLoaded(page, /Downloaded, and saved in this browser for next time\./);
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
    await assertLoaded(page, /Read from the file\./);
    assert.match(await text(page, '#model-name'), /^stories260K\.gguf /);
    await page.close();
  });

  it('a model URL that is not there ends in {"error"} in #result, not a hang', async () => {
    const page = await open('?model=models/absent.gguf&autorun=1');
    assert.equal(await state(page), 'error');
    assert.deepEqual(JSON.parse((await page.locator('#result').textContent()) ?? ''), { error: 'models/absent.gguf: HTTP 404' });
    assert.equal(await page.locator('#result').isHidden(), true, 'the JSON is for automation, never shown');
    assert.equal(await text(page, '#error'), 'models/absent.gguf: HTTP 404');
    assert.equal(await page.locator('#progress-row').isHidden(), true, 'no stale "0 B of 1 B" under the error');
    await page.close();
  });

  /** Opens the page in URL mode with autorun=1 and waits for the outcome in #result. */
  async function autorun(params: Record<string, string | number>, opts: { on?: WebServer; initScript?: string } = {}): Promise<{ page: Page; result: RunJson }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    if (opts.initScript) await page.addInitScript(opts.initScript);
    const q = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])), autorun: '1' });
    await page.goto(`${(opts.on ?? server).url}?${q}`);
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 240_000, polling: 100 });
    assert.deepEqual(problems, [], 'uncaught errors in the page');
    return { page, result: JSON.parse((await page.locator('#result').textContent())!) };
  }

  /** Sends `prompt` from the form (Enter) with the given inputs, then waits until the reply is done. */
  async function send(page: Page, prompt: string, inputs: Record<string, number>): Promise<void> {
    for (const [id, v] of Object.entries(inputs)) await page.locator(`#${id}`).fill(String(v));
    const replies = await page.locator('.message.assistant').count();
    await page.locator('#prompt').fill(prompt);
    await page.locator('#prompt').press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.message.assistant').length > n && document.body.dataset.state !== 'generating', replies, { timeout: 240_000, polling: 100 });
  }

  const transcript = (page: Page) => page.$$eval('.message', (ms) => ms.map((m) => [m.classList.contains('user') ? 'user' : 'assistant', m.textContent]));

  // Generation: the page compiles chat.tl for the model and runs it. At temperature 0 it must give the tokens
  // `tlc run` gives in Node, which are llama.cpp's (test/e2e/real-models.test.ts checks all 40 there).
  describe('generating with stories260K', function () {
    this.timeout(240_000); // the first run compiles every shader on SwiftShader, a CPU
    let page: Page;
    let ref: Reference;
    let first: RunJson;

    before(async function () {
      requireShared(this, 'stories260K.gguf');
      const refs: Reference[] = JSON.parse(readFileSync(requireShared(this, 'reference/generate_reference.json'), 'utf8'));
      ref = refs.find((r) => r.model === 'stories260K.gguf')!;
      ({ page, result: first } = await autorun({ model: 'models/stories260K.gguf', mode: 'text', prompt: ref.prompt, max_tokens: 20, temperature: 0, seed: 1 }));
    });
    after(() => page?.close());

    it('?autorun=1 at temperature 0: the first 20 tokens equal llama.cpp\'s, and the reply shows them', async () => {
      assert.equal(first.error, undefined);
      assert.equal(first.prompt_tokens, ref.llamacpp_default.input_tokens.length);
      assert.deepEqual(first.tokens, ref.llamacpp_default.tokens.slice(0, 20));
      assert.equal(first.stopped_by, 'max_tokens');
      assert.ok(ref.llamacpp_default.text.startsWith(first.text), first.text);
      // Text mode shows the prompt (dimmed) and its continuation, as `tlc run examples/chat.tl` prints them.
      assert.deepEqual(await transcript(page), [['user', ref.prompt], ['assistant', ref.prompt + first.text]]);
      assert.equal(await page.locator('.message.assistant .echo').textContent(), ref.prompt);
      const t = first.timings;
      assert.ok(t.decode_tok_s > 0 && t.prefill_tok_s > 0 && t.load_ms > 0, JSON.stringify(t));
      assert.match(await text(page, '#speed'), /^20 tokens \(max tokens\): prompt 5 tokens at [\d.]+ tok\/s, generation [\d.]+ tok\/s$/);
      console.log(`      stories260K in Chromium (SwiftShader): decode ${t.decode_tok_s} tok/s, prefill ${t.prefill_tok_s} tok/s, load ${t.load_ms} ms`);
    });

    it('a message sent from the form streams into a new reply: llama.cpp\'s 40 tokens (screenshot)', async () => {
      await send(page, ref.prompt, { 'max-tokens': 40, temperature: 0 });
      const result: RunJson = JSON.parse((await page.locator('#result').textContent())!);
      assert.deepEqual(result.tokens, ref.llamacpp_default.tokens);
      assert.equal((await transcript(page)).at(-1)![1], ref.prompt + ref.llamacpp_default.text);
      assert.match(await text(page, '#speed'), /^40 tokens \(max tokens\)/);
      assert.equal(await state(page), 'loaded');
      console.log(`      again, 40 tokens: decode ${result.timings.decode_tok_s} tok/s, prefill ${result.timings.prefill_tok_s} tok/s`);
      await page.setViewportSize({ width: 1000, height: 1000 });
      await page.screenshot({ path: await outputFile('chat.png'), fullPage: true });
    });

    it('Stop ends a long generation early: stopped_by "stopped", and the page can send again', async () => {
      const replies = await page.locator('.message.assistant').count();
      await page.locator('#max-tokens').fill('1000');
      await page.locator('#prompt').fill('The cat');
      await page.locator('#send').click();
      // Three tokens in (the echoed prompt is the reply's first child), press Stop.
      await page.waitForFunction((n) => (document.querySelectorAll('.message.assistant')[n]?.childNodes.length ?? 0) >= 4, replies, { timeout: 240_000, polling: 50 });
      await page.locator('#stop').click();
      await page.waitForFunction(() => document.body.dataset.state !== 'generating', null, { timeout: 60_000, polling: 50 });
      const result: RunJson = JSON.parse((await page.locator('#result').textContent())!);
      assert.equal(result.stopped_by, 'stopped');
      assert.ok(result.tokens.length >= 3 && result.tokens.length < 100, `${result.tokens.length} tokens`);
      assert.match(await text(page, '#speed'), /\(stopped\)/);
      assert.equal(await page.locator('.reply-meta').last().locator('.marker').textContent(), '■ stopped', 'a stopped reply says so');
      assert.equal(await state(page), 'loaded');
      assert.equal(await page.locator('#send').isDisabled(), false);
      assert.equal(await page.locator('#stop').isDisabled(), true);
    });

    it('with "profile" ticked: the same tokens, a profile in #result, and its table under the reply', async () => {
      await page.locator('#profile').check();
      await send(page, ref.prompt, { 'max-tokens': 20, temperature: 0 });
      const result: RunJson = JSON.parse((await page.locator('#result').textContent())!);
      assert.deepEqual(result.tokens, first.tokens);
      const p = result.profile!;
      assert.equal(p.timestamps, true, 'SwiftShader has timestamp-query');
      assert.equal(p.graph_runs, 20);
      assert.ok(p.gpu_ms! > 0 && p.gpu_ms! <= p.wall_ms, JSON.stringify(p));
      assert.ok(p.ops.some((r) => r.name === 'linear' && r.dispatches > 0));
      const table = await text(page, '#profile-table');
      assert.match(table, /^profile: 20 graph runs, \d+ dispatches/);
      assert.match(table, /^ {2}linear +\d+ +[\d.]+ +[\d.]+%$/m);
      await page.locator('#profile').uncheck();
      await send(page, ref.prompt, { 'max-tokens': 3, temperature: 0 });
      assert.equal(JSON.parse((await page.locator('#result').textContent())!).profile, undefined);
      assert.equal(await page.locator('#profile-table').isHidden(), true);
    });
  });

  it('?bench=1: the bench table, and its JSON in #bench-json (decode beside the roofline)', async function () {
    this.timeout(240_000);
    requireShared(this, 'stories260K.gguf');
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${server.url}?model=models/stories260K.gguf&bench=1&bench_prompt=12&bench_tokens=3`);
    await page.waitForFunction(() => document.querySelector('#bench-json')?.textContent || document.querySelector('#result')?.textContent, null, { timeout: 240_000, polling: 100 });
    assert.deepEqual(problems, [], 'uncaught errors in the page');
    const r: ModelBenchResult = JSON.parse((await page.locator('#bench-json').textContent()) || (await page.locator('#result').textContent())!);
    assert.equal((r as { error?: string }).error, undefined);
    assert.equal(r.tokens, 2, 'the first of 3 tokens comes from the prefill');
    assert.ok(r.prompt_tokens > 1 && r.prompt_tokens <= 12, `prompt ${r.prompt_tokens} tokens`);
    for (const k of ['prefill_tok_s', 'decode_tok_s', 'decode_ms_per_token', 'weight_bytes_per_token', 'decode_gb_s', 'roofline_gb_s', 'roofline_pct', 'prefill_x_decode'] as const) {
      assert.ok(r[k] > 0, `${k} ${r[k]}`);
    }
    assert.ok(r.roofline_kernel.length > 0);
    // Each number is rounded to 0.01, so the percentage is only that close to the ratio of the rounded ones.
    const pct = (100 * r.decode_gb_s) / r.roofline_gb_s;
    const slack = (100 * 0.005 * (1 + r.decode_gb_s / r.roofline_gb_s)) / r.roofline_gb_s + 0.006;
    assert.ok(Math.abs(r.roofline_pct - pct) <= slack, `roofline_pct ${r.roofline_pct}, 100 * decode/roofline ${pct}`);
    assert.equal(await state(page), 'loaded');
    assert.equal(await page.locator('#bench').isDisabled(), false);
    const table = await text(page, '#bench-table');
    assert.match(table, /of roofline\s+[\d.]+%/);
    console.log(table.split('\n').map((l) => `      ${l}`).join('\n'));
    await page.screenshot({ path: await outputFile('bench.png'), fullPage: true });
    await page.close();
  });

  it('TinyStories-656K-Q8_0 (quantized weights, no shader-f16 here) at temperature 0: the first 20 tokens equal llama.cpp\'s', async function () {
    this.timeout(240_000);
    requireShared(this, 'TinyStories-656K-Q8_0.gguf');
    const refs: Reference[] = JSON.parse(readFileSync(requireShared(this, 'reference/generate_reference.json'), 'utf8'));
    const ref = refs.find((r) => r.model === 'TinyStories-656K-Q8_0.gguf')!;
    const { page, result } = await autorun({ model: 'models/TinyStories-656K-Q8_0.gguf', mode: 'text', prompt: ref.prompt, max_tokens: 20, temperature: 0 });
    assert.equal(result.error, undefined);
    assert.deepEqual(result.tokens, ref.llamacpp_default.tokens.slice(0, 20));
    await page.close();
  });

  // A model made by the project's GGUF writer, served like any other: the page must give the tokens that
  // the same program gives in Node (lavapipe) on the same file. Greedy, and sampled with a seed.
  describe('a synthetic model from runtime/gguf-writer.ts gives in the page what it gives in Node', function () {
    this.timeout(240_000); // the first run compiles every shader on SwiftShader, a CPU
    const cases: { file: string; synth: SynthOptions; args: { prompt: string; max_tokens: number; temperature: number; seed?: number } }[] = [
      { file: 'synth-f32-tied.gguf', synth: { tied: true, seed: 11 }, args: { prompt: 'Once upon a time', max_tokens: 10, temperature: 0 } },
      { file: 'synth-q8_0-gqa.gguf', synth: { type: T.Q8_0, kvHeads: 2, seed: 12 }, args: { prompt: 'the little dog', max_tokens: 10, temperature: 0.9, seed: 7 } },
    ];
    const bytes: Record<string, Uint8Array> = {};
    let dir: string;
    let synthServer: WebServer;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'tlc-synth-'));
      for (const c of cases) await writeFile(path.join(dir, c.file), (bytes[c.file] = synthLlama(c.synth)));
      synthServer = await servePage(dir);
    });
    after(async () => {
      await synthServer?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const c of cases) {
      it(`${c.file}: ${JSON.stringify(c.args)}`, async () => {
        const node = await runProgram({ file: path.join(REPO, 'examples/chat.tl') }, bytes[c.file], c.args);
        node.program.destroy();
        const { page, result } = await autorun({ model: `models/${c.file}`, mode: 'text', ...c.args }, { on: synthServer });
        assert.equal(result.error, undefined);
        assert.equal(result.tokens.length, c.args.max_tokens);
        assert.deepEqual(result.tokens, node.tokens);
        assert.equal(result.text, node.text);
        await page.close();
      });
    }
  });

  it('a model too big for the browser\'s GPU memory: a clear message in the page, not a hang', async function () {
    requireShared(this, 'stories260K.gguf');
    // Make WebGPU report out-of-memory for any buffer over 64 KiB, as a browser does when the memory runs out.
    const { page, result } = await autorun({ model: 'models/stories260K.gguf', prompt: 'x' }, { initScript: `(${fakeOutOfMemory})(65536)` });
    assert.match(result.error!, /^Out of memory while loading models\/stories260K\.gguf: the model does not fit in the memory this browser gives WebGPU \(Out of GPU memory while allocating \d+ bytes for tensor [\w.]+: .*\)\. Try a smaller or more quantized model\.$/);
    assert.equal(await state(page), 'error');
    assert.equal(await text(page, '#error'), result.error);
    await page.close();
  });
});

/** Runs in the page: buffers over `limit` bytes make the innermost 'out-of-memory' error scope report an error. */
function fakeOutOfMemory(limit: number): void {
  const proto = GPUDevice.prototype;
  const { pushErrorScope, popErrorScope, createBuffer } = proto;
  const scopes: { filter: GPUErrorFilter; oom: boolean }[] = [];
  proto.pushErrorScope = function (filter) {
    scopes.push({ filter, oom: false });
    return pushErrorScope.call(this, filter);
  };
  proto.createBuffer = function (desc) {
    const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
    if (desc.size > limit && scope) scope.oom = true;
    return createBuffer.call(this, desc);
  };
  proto.popErrorScope = async function () {
    const scope = scopes.pop();
    const real = await popErrorScope.call(this);
    return scope?.oom ? new GPUOutOfMemoryError('Not enough memory left.') : real;
  };
}

interface Reference {
  model: string;
  prompt: string;
  llamacpp_default: { input_tokens: number[]; tokens: number[]; text: string };
}

/** What the page writes into #result. */
interface RunJson {
  error?: string;
  prompt_tokens: number;
  tokens: number[];
  text: string;
  stopped_by: string;
  timings: { load_ms: number; prefill_ms: number; decode_ms: number; prefill_tok_s: number; decode_tok_s: number };
  profile?: RunProfile;
}

async function outputFile(name: string): Promise<string> {
  await mkdir(TEST_OUTPUT, { recursive: true });
  return path.join(TEST_OUTPUT, name);
}
