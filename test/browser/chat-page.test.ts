// The page as a chat, in headless Chromium (SwiftShader): a conversation in the model's chat template
// that gives Node's replies (runtime/conversation.ts in both), Regenerate, Copy and Clear; models kept in
// the browser, so a reload downloads nothing; the context meter and field; and the page's plain words
// when things fail (a failed load keeps the model, an unreachable URL is named, no stale status).
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import { CONVERSATION_TL, Conversation } from '../../runtime/conversation.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { Program } from '../../runtime/program.ts';
import type { ServedRequest, WebServer } from '../../web/node/server.ts';
import { testGpu } from '../support/gpu.ts';
import { requireShared, sharedModel } from '../support/shared.ts';
import { freePort, launchChromium, removeBuiltPage, requireChromium, servePage, TEST_OUTPUT } from './support.ts';

// A chat template of the usual shape: BOS, each message between role tags and EOS, then the assistant's tag.
const TEMPLATE = "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
const SYNTH = synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, seed: 21, chatTemplate: TEMPLATE });

/** What the page writes into #result after a reply. */
interface ReplyJson {
  error?: string;
  mode: 'chat' | 'text';
  prompt_tokens: number;
  prompt_read: number;
  tokens: number[];
  text: string;
  stopped_by: string;
  finish: string;
  dropped_turns: number;
  context: { used: number; size: number };
}

describe('browser: the page as a chat', function () {
  this.timeout(90_000);
  let dir: string;
  let server: WebServer;
  let browser: Browser;
  const requests: ServedRequest[] = [];

  before(async function () {
    requireChromium(this);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tlc-chat-page-'));
    await writeFile(path.join(dir, 'chat-synth.gguf'), SYNTH);
    const stories = sharedModel('stories260K.gguf');
    if (stories) await copyFile(stories, path.join(dir, 'stories260K.gguf'));
    server = await servePage(dir, (r) => requests.push(r));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await removeBuiltPage();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A page in a context of its own (its own browser storage), opened at `query`, settled. */
  async function open(query: string, opts: { context?: BrowserContext } = {}): Promise<Page> {
    const page = await (opts.context ?? (await browser.newContext())).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url + query);
    await settled(page);
    assert.deepEqual(problems, [], 'uncaught errors in the page');
    return page;
  }
  const settled = (page: Page) => page.waitForFunction(() => ['loaded', 'error', 'no-webgpu'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000, polling: 50 });
  const text = (page: Page, selector: string) => page.locator(selector).innerText();
  const result = async (page: Page): Promise<ReplyJson> => JSON.parse((await page.locator('#result').textContent())!);
  const transcript = (page: Page) => page.$$eval('.message', (ms) => ms.map((m) => [m.classList.contains('user') ? 'user' : 'assistant', m.textContent]));

  /** Sends `message` from the form (Enter), after filling `inputs`, and waits for the reply to end. */
  async function send(page: Page, message: string, inputs: Record<string, string | number> = {}): Promise<ReplyJson> {
    for (const [id, v] of Object.entries(inputs)) await page.locator(`#${id}`).fill(String(v));
    await page.locator('#prompt').fill(message);
    await page.locator('#prompt').press('Enter');
    return idle(page);
  }
  /** Waits until the page is no longer generating; the outcome in #result. */
  async function idle(page: Page): Promise<ReplyJson> {
    await page.waitForFunction(() => document.body.dataset.state !== 'generating', null, { timeout: 60_000, polling: 50 });
    return result(page);
  }

  it('a two-turn conversation in the chat template gives the replies Node gives, the second read from the KV cache; Regenerate, Copy, Clear', async () => {
    // The same conversation in Node, on the same file: what the page must give.
    const src = bytesSource(SYNTH, 'chat-synth.gguf');
    const file = await readGguf(src);
    const program = await Program.load(await testGpu(), build(CONVERSATION_TL, 'conversation.tl', modelInfo(file)), src, { file });
    const params = { max_tokens: 8, temperature: 0, top_k: 40, top_p: 0.95, seed: 42 };
    const node = new Conversation(program, { system: 'Be brief.' });
    const t1 = await node.say('Hello there.', { write: () => {} }, params);
    const t2 = await node.say('What is your name?', { write: () => {} }, params);
    const t3 = await node.regenerate({ write: () => {} }, { ...params, temperature: 0.9, seed: 43 });
    program.destroy();

    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await open('?model=models/chat-synth.gguf', { context });
    assert.equal(await page.locator('#mode').inputValue(), 'chat', 'a model with a chat template starts in chat mode');
    assert.equal(await page.locator('#model-details').getAttribute('open'), null, 'the model details are folded');
    await page.locator('#system').fill('Be brief.');

    const r1 = await send(page, 'Hello there.', { 'max-tokens': 8, temperature: 0 });
    assert.equal(r1.error, undefined);
    assert.deepEqual([r1.mode, r1.tokens, r1.text], ['chat', t1.tokens, t1.reply]);
    const shown = (reply: string) => reply.replace(/^\s+/, ''); // a reply shows from its first visible character
    const r2 = await send(page, 'What is your name?');
    assert.deepEqual(r2.tokens, t2.tokens);
    assert.equal(r2.prompt_tokens, t2.prompt_tokens);
    assert.equal(r2.prompt_read, t2.prompt_read, 'the page reads what Node reads: the new turn');
    assert.ok(r2.prompt_read < r2.prompt_tokens / 2, `read ${r2.prompt_read} of ${r2.prompt_tokens} prompt tokens`);
    assert.deepEqual(await transcript(page), [['user', 'Hello there.'], ['assistant', shown(t1.reply)], ['user', 'What is your name?'], ['assistant', shown(t2.reply)]]);

    // The context meter: what the conversation holds, of the context.
    const used = r2.prompt_tokens + r2.tokens.length;
    assert.deepEqual(r2.context, { used, size: 256 });
    assert.equal(await text(page, '#ctx-used'), String(used));
    assert.deepEqual(await page.$eval('#ctx-meter', (m) => [(m as HTMLMeterElement).value, (m as HTMLMeterElement).max]), [used, 256]);
    assert.equal(await page.locator('#ctx').inputValue(), '256');

    await page.locator('.reply-meta .copy').last().click();
    await page.waitForFunction(() => document.querySelectorAll('.reply-meta .copy')[1]?.textContent === 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown(t2.reply));

    // Regenerate: the last message answered again, with the next seed, in place of the last reply.
    await page.locator('#temperature').fill('0.9');
    await page.locator('#regenerate').click();
    const r3 = await idle(page);
    assert.equal(await page.locator('#seed').inputValue(), '43');
    assert.deepEqual(r3.tokens, t3.tokens);
    assert.deepEqual((await transcript(page)).map(([who]) => who), ['user', 'assistant', 'user', 'assistant']);
    assert.equal((await transcript(page))[3][1], shown(t3.reply));

    await page.locator('#clear').click();
    assert.deepEqual(await transcript(page), []);
    assert.equal(await text(page, '#ctx-used'), '0');
    assert.equal(await page.locator('#regenerate').isDisabled(), true);
    await page.setViewportSize({ width: 1000, height: 800 });
    await send(page, 'Hello again.', { temperature: 0 });
    assert.equal((await transcript(page)).length, 2);
    await page.screenshot({ path: await outputFile('chat-turns.png'), fullPage: true });
    await context.close();
  });

  it('keeps a model in the browser: a reload reads it from there, with no second download; "Remove all" forgets it', async function () {
    requireShared(this, 'stories260K.gguf');
    const q = '?model=models/stories260K.gguf&mode=text&prompt=Once%20upon%20a%20time&max_tokens=20&temperature=0&autorun=1';
    const modelGets = () => requests.filter((r) => r.path === '/models/stories260K.gguf' && r.method === 'GET');
    const context = await browser.newContext();
    requests.length = 0;
    const page = await open(q, { context });
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 60_000 });
    const first = await result(page);
    assert.match(await text(page, '#load-info'), /Downloaded, and saved in this browser for next time\./);
    assert.ok(modelGets().length > 0 && modelGets().every((r) => r.range), 'downloaded by Range requests');

    requests.length = 0;
    await page.reload();
    await settled(page);
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 60_000 });
    assert.match(await text(page, '#load-info'), /Read from the copy saved in this browser \(no download\)\./);
    assert.deepEqual(modelGets(), [], 'the reload downloads nothing');
    assert.ok(requests.some((r) => r.path === '/models/stories260K.gguf' && r.method === 'HEAD'), 'it only asks whether the file changed');
    assert.deepEqual((await result(page)).tokens, first.tokens, 'the saved copy gives the same tokens');

    // A server that does not answer: the saved copy all the same, and the page says why.
    await page.route('**/models/stories260K.gguf', (route) => route.abort('connectionrefused'));
    await page.reload();
    await settled(page);
    await page.waitForFunction(() => document.querySelector('#result')?.textContent, null, { timeout: 60_000 });
    assert.match(await text(page, '#load-info'), /The server did not answer \(.*models\/stories260K\.gguf: cannot reach it \(Failed to fetch\).*\); this is the copy saved in this browser\./);
    assert.deepEqual((await result(page)).tokens, first.tokens);
    await page.unroute('**/models/stories260K.gguf');

    // The saved models, under the (folded) model picker; "Remove all" empties the list.
    await page.locator('#model-picker > summary').click();
    assert.match(await text(page, '#saved-summary'), /^Saved in this browser: 1 model, 1\.1 MiB$/);
    assert.equal(await page.locator('#saved li').getAttribute('data-ref'), 'models/stories260K.gguf');
    await page.locator('#clear-cache').click();
    await page.waitForFunction(() => (document.querySelector('#saved-box') as HTMLElement).hidden);
    await context.close();
  });

  it('the context meter and field: a reply that fills the context says so, the next turn drops the oldest, a bigger context loads again and keeps the conversation', async function () {
    requireShared(this, 'stories260K.gguf');
    const page = await open('?model=models/stories260K.gguf&mode=chat&ctx=64&system=You%20tell%20stories.&temperature=0');
    assert.equal(await page.locator('#ctx').inputValue(), '64');
    assert.equal(await text(page, '#ctx-used'), '0');

    // stories260K at temperature 0 (runtime checked in Node): the reply runs until the context is full.
    const r1 = await send(page, 'Tell me a story.', { 'max-tokens': 200 });
    assert.deepEqual([r1.stopped_by, r1.finish, r1.prompt_tokens + r1.tokens.length], ['context', 'context', 65], JSON.stringify(r1));
    assert.equal(await page.locator('.reply-meta .marker').last().textContent(), 'context full');
    assert.deepEqual(r1.context, { used: 64, size: 64 });
    assert.equal(await text(page, '#ctx-used'), '64');

    // The next turn does not fit with it: the oldest turn goes (greyed), the system prompt stays, and the page says so.
    const r2 = await send(page, 'Another one.', { 'max-tokens': 20 });
    assert.equal(r2.error, undefined);
    assert.equal(r2.dropped_turns, 1);
    assert.match(await text(page, '#notice'), /^The conversation is longer than the context \(64 tokens\): dropped the oldest turn; the system prompt stays\.$/);
    assert.deepEqual(await page.$$eval('.message', (ms) => ms.map((m) => m.classList.contains('dropped'))), [true, true, false, false]);
    await page.screenshot({ path: await outputFile('context.png'), fullPage: true });

    // A bigger context: the model loads again (the KV cache is sized by it), and the conversation goes on.
    await page.locator('#ctx').fill('128');
    await page.locator('#ctx').press('Enter');
    await page.waitForFunction(() => document.body.dataset.state === 'loaded' && (document.querySelector('#ctx') as HTMLInputElement).value === '128', null, { timeout: 60_000 });
    assert.equal((await transcript(page)).length, 4);
    const r3 = await send(page, 'And a third.', { 'max-tokens': 20 });
    assert.equal(r3.context.size, 128);
    assert.equal(r3.dropped_turns, 0);
    assert.ok(r3.prompt_tokens > 40, 'the last turn is still in the prompt');

    // A message longer than the whole context: said plainly, with the page's way out.
    await send(page, 'once upon a time '.repeat(40));
    const failure = await page.locator('.message.failed .failure').last().textContent();
    assert.match(failure!, /^the message is too long: the conversation needs \d+ tokens and the context holds 128: shorten the message, or raise the context \(the field beside the meter\)\.$/);
    assert.equal(await text(page, '#speed'), '', 'no stale "reading the prompt…"');
    await page.context().close();
  });

  it('the live counter counts the tokens (40 for a 40-token reply); a text too long for the context fails plainly, leaving no stale status', async function () {
    requireShared(this, 'stories260K.gguf');
    const page = await open('?model=models/stories260K.gguf&mode=text&ctx=64');
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      new MutationObserver(() => seen.push(document.querySelector('#speed')!.textContent!)).observe(document.querySelector('#speed')!, { childList: true, characterData: true, subtree: true });
    });
    const r = await send(page, 'Once upon a time', { 'max-tokens': 40, temperature: 0 });
    assert.equal(r.tokens.length, 40);
    const counts = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen))
      .map((s) => /^(\d+) tokens so far/.exec(s)?.[1]).filter(Boolean).map(Number);
    assert.equal(Math.max(...counts), 40, `the counter said ${counts.join(', ')}`);
    assert.match(await text(page, '#speed'), /^40 tokens \(max tokens\)/);

    // A text longer than the context: no "raise --ctx" (a flag the page does not have), and no stale status.
    const bad = await send(page, 'once upon a time '.repeat(20));
    assert.match(bad.error!, /^The text is \d+ tokens and the context holds 64: shorten it, or raise the context \(the field beside the meter\)\.$/);
    assert.equal(await text(page, '#speed'), '', 'no stale "reading the prompt…"');
    assert.equal(await page.locator('.message.failed .failure').textContent(), bad.error);
    await page.context().close();
  });

  it('a failed load keeps the model in use; an unreachable URL says which one, and why', async function () {
    requireShared(this, 'stories260K.gguf');
    const page = await open('?model=models/stories260K.gguf&mode=text');
    await page.locator('#model-picker > summary').click();
    await page.locator('#url').fill('models/absent.gguf');
    await page.locator('#load').click();
    await settled(page);
    assert.equal(await text(page, '#error'), 'models/absent.gguf: HTTP 404 (models/stories260K.gguf is still loaded.)');
    assert.match(await text(page, '#model-name'), /^models\/stories260K\.gguf /);
    assert.equal(await page.locator('#progress-row').isHidden(), true, 'no stale progress');
    const r = await send(page, 'Once upon a time', { 'max-tokens': 5, temperature: 0 });
    assert.equal(r.tokens.length, 5, 'the model still answers');
    assert.equal(await page.locator('#error').isHidden(), true, 'a new action clears the old error');
    await page.context().close();

    // A port nothing listens on: the browser says only "Failed to fetch"; the page names the URL.
    const closed = await freePort();
    const url = `http://127.0.0.1:${closed}/x.gguf`;
    const other = await open(`?model=${encodeURIComponent(url)}&autorun=1`);
    const error = (await result(other)).error!;
    assert.equal(error, `${url}: cannot reach it (Failed to fetch): the server is down or the address is wrong, or the server does not let pages of other sites read it (CORS)`);
    assert.equal(await other.locator('#result').isHidden(), true);
    await other.context().close();
  });

  it('on a phone, the model details fold and the chat is on the first screen', async function () {
    requireShared(this, 'stories260K.gguf');
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await open('?model=models/stories260K.gguf', { context });
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'loaded');
    for (const id of ['model-picker', 'model-details']) assert.equal(await page.locator(`#${id}`).getAttribute('open'), null, `#${id} is folded`);
    for (const id of ['prompt', 'send']) {
      const box = (await page.locator(`#${id}`).boundingBox())!;
      assert.ok(box.y + box.height <= 844, `#${id} ends at ${box.y + box.height}px, below the first screen (844px)`);
    }
    await page.screenshot({ path: await outputFile('phone.png') });
    await context.close();
  });
});

async function outputFile(name: string): Promise<string> {
  await mkdir(TEST_OUTPUT, { recursive: true });
  return path.join(TEST_OUTPUT, name);
}
