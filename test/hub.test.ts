// Models by reference (hf:OWNER/REPO/FILE.gguf), without internet: a local server answers like the
// hub (test/support/fake-hub.ts) and HF_ENDPOINT points to it. Downloads (whole, resumed, corrupt,
// gated, missing), the cache (tlc pull, tlc models, tlc models rm), and `tlc run --model hf:...`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { chooseGguf, hasQuant, parseHubRef, resolveUrl } from '../runtime/hub-ref.ts';
import { modelFromHub, withQuant } from '../cli/hub.ts';
import { cachedPath } from '../cli/cache.ts';
import { formatBytes } from '../cli/progress.ts';
import { GOOD_TOKEN, startFakeHub, type FakeHub } from './support/fake-hub.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TLC = path.join(ROOT, 'bin/tlc.js');

interface Ran { code: number | null; stdout: string; stderr: string }

describe('models by reference: hf: and the model cache', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlc-hub-'));
  const cache = path.join(dir, 'cache');
  const small = synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 1 });
  const q8 = synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 2, type: T.Q8_0 });
  const big = synthLlama({ layers: 2, embd: 64, heads: 4, vocab: 600, ctx: 64, seed: 3 }); // ~500 kB: room to drop halfway
  const gated = synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 4 });
  let hub: FakeHub;
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, TLC_CACHE: process.env.TLC_CACHE, HF_TOKEN: process.env.HF_TOKEN };
  const said: string[] = [];
  const say = (m: string) => said.push(m);
  const partials = (repoDir: string) => (existsSync(repoDir) ? readdirSync(repoDir).filter((f) => f.endsWith('.partial')) : []);

  before(async () => {
    hub = await startFakeHub({
      'tlc-test/tiny': {
        files: [
          { path: 'README.md', bytes: new TextEncoder().encode('# tiny\n') },
          { path: 'tiny-F32.gguf', bytes: small, lfs: true },
          { path: 'quant/tiny-Q8_0.gguf', bytes: q8, lfs: true },
        ],
      },
      'tlc-test/one': { files: [{ path: 'model.gguf', bytes: small }] }, // a small file kept in git: no LFS oid
      'tlc-test/big': { files: [{ path: 'big.gguf', bytes: big, lfs: true }] },
      'tlc-test/gated': { files: [{ path: 'model.gguf', bytes: gated, lfs: true }], gated: true },
    });
    process.env.HF_ENDPOINT = hub.url;
    process.env.TLC_CACHE = cache;
    delete process.env.HF_TOKEN;
    writeFileSync(path.join(dir, 'chat.tl'), readFileSync(path.join(ROOT, 'examples/chat.tl'), 'utf8'));
    // The same program naming its model itself, by reference and quantization.
    writeFileSync(path.join(dir, 'named.tl'), readFileSync(path.join(ROOT, 'examples/chat.tl'), 'utf8').replace(/load_model\([^\n]*\)/, 'load_model("hf:tlc-test/tiny:Q8_0")'));
  });
  after(async () => {
    await hub.close();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    hub.dropAfter = undefined;
    hub.corrupt.clear();
    hub.log.length = 0;
    said.length = 0;
    delete process.env.HF_TOKEN;
    rmSync(cache, { recursive: true, force: true });
  });

  function tlc(args: string[], env: Record<string, string> = {}): Promise<Ran> {
    return new Promise((resolve) => {
      execFile(process.execPath, [TLC, ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  describe('references', () => {
    it('parses the three forms and refuses paths that would leave the cache', () => {
      assert.deepEqual(parseHubRef('hf:a/b/c/d.gguf'), { repo: 'a/b', file: 'c/d.gguf' });
      assert.deepEqual(parseHubRef('hf:a/b:Q4_0'), { repo: 'a/b', quant: 'Q4_0' });
      assert.deepEqual(parseHubRef('hf:a/b'), { repo: 'a/b', quant: undefined });
      for (const bad of ['hf:a', 'hf:a/b/../../x.gguf', 'hf:a/b/x.bin', 'hf:a/b/x.gguf:Q4_0', 'hf:/b/x.gguf', 'hf:a/b:Q4 0']) {
        assert.throws(() => parseHubRef(bad), /a model reference is hf:OWNER\/REPO\/FILE\.gguf/, bad);
      }
      assert.equal(resolveUrl('http://h/', 'a/b', 'c d/e.gguf'), 'http://h/a/b/resolve/main/c%20d/e.gguf');
    });
    it('chooses by quantization, and lists the files when it cannot', () => {
      const files = ['m-Q4_0.gguf', 'm-Q4_K_M.gguf', 'm.Q8_0.gguf', 'README.md'];
      assert.equal(chooseGguf({ repo: 'a/b', quant: 'q4_0' }, files), 'm-Q4_0.gguf');
      assert.equal(chooseGguf({ repo: 'a/b', quant: 'Q8_0' }, files), 'm.Q8_0.gguf');
      assert.ok(!hasQuant('m-Q4_K_M.gguf', 'Q4_K'));
      assert.throws(() => chooseGguf({ repo: 'a/b' }, files), /hf:a\/b: the repository has 3 GGUF files \(m-Q4_0\.gguf, m-Q4_K_M\.gguf, m\.Q8_0\.gguf\); choose with --quant/);
      assert.throws(() => chooseGguf({ repo: 'a/b', quant: 'F16' }, files), /no GGUF file of the repository is F16; it has m-Q4_0\.gguf/);
      assert.equal(withQuant('hf:a/b', 'Q4_0'), 'hf:a/b:Q4_0');
      assert.throws(() => withQuant('m.gguf', 'Q4_0'), /--quant chooses among the GGUF files of a repository/);
      assert.throws(() => withQuant('hf:a/b/m.gguf', 'Q4_0'), /already names its file/);
    });
  });

  describe('downloads', () => {
    it('downloads into the cache through the listing and resolve, then answers from the cache offline', async () => {
      const file = await modelFromHub('hf:tlc-test/tiny/tiny-F32.gguf', say);
      assert.equal(file, cachedPath('tlc-test/tiny', 'tiny-F32.gguf'));
      assert.deepEqual(readFileSync(file), Buffer.from(small));
      assert.ok(hub.log.some((r) => r.url.startsWith('/api/models/tlc-test/tiny/tree/main')), JSON.stringify(hub.log));
      assert.ok(hub.log.some((r) => r.url === '/tlc-test/tiny/resolve/main/tiny-F32.gguf'));
      assert.match(said.join('\n'), /downloaded hf:tlc-test\/tiny\/tiny-F32\.gguf .*SHA-256 checked/);
      assert.deepEqual(partials(path.dirname(file)), []);
      hub.log.length = 0;
      assert.equal(await modelFromHub('hf:tlc-test/tiny/tiny-F32.gguf', say), file);
      assert.deepEqual(hub.log, [], 'a cached model needs no request');
    });
    it('chooses a file of a repository by quantization, and refuses an ambiguous reference with the list', async () => {
      assert.equal(await modelFromHub('hf:tlc-test/tiny:Q8_0', say), cachedPath('tlc-test/tiny', 'quant/tiny-Q8_0.gguf'));
      rmSync(cache, { recursive: true, force: true });
      await assert.rejects(modelFromHub('hf:tlc-test/tiny', say), /hf:tlc-test\/tiny: the repository has 2 GGUF files \(quant\/tiny-Q8_0\.gguf, tiny-F32\.gguf\); choose with --quant/);
      await assert.rejects(modelFromHub('hf:tlc-test/tiny:Q4_K', say), /no GGUF file of the repository is Q4_K; it has quant\/tiny-Q8_0\.gguf, tiny-F32\.gguf/);
      assert.equal(await modelFromHub('hf:tlc-test/one', say), cachedPath('tlc-test/one', 'model.gguf')); // its only GGUF (in git: size checked, no SHA)
    });
    it('retries a dropped connection from where it stopped (Range)', async () => {
      hub.dropAfter = Math.ceil(big.length * 0.6);
      const file = await modelFromHub('hf:tlc-test/big/big.gguf', say);
      assert.deepEqual(readFileSync(file), Buffer.from(big));
      const ranges = hub.log.filter((r) => r.url.startsWith('/cdn/')).map((r) => r.range);
      assert.deepEqual(ranges, [undefined, `bytes=${hub.dropAfter}-`]);
    });
    it('keeps an interrupted download hidden, never as the model, and resumes it on the next run', async () => {
      hub.dropAfter = 50_000; // three tries of 50 kB each do not finish the file
      await assert.rejects(modelFromHub('hf:tlc-test/big/big.gguf', say), /the download of hf:tlc-test\/big\/big\.gguf was interrupted at 150 kB of .*; run the command again to resume it\./);
      const dest = cachedPath('tlc-test/big', 'big.gguf');
      assert.ok(!existsSync(dest), 'no model file until it is whole');
      assert.equal(partials(path.dirname(dest)).length, 1);
      hub.dropAfter = undefined;
      hub.log.length = 0;
      await modelFromHub('hf:tlc-test/big/big.gguf', say);
      assert.deepEqual(readFileSync(dest), Buffer.from(big));
      assert.deepEqual(hub.log.filter((r) => r.url.startsWith('/cdn/')).map((r) => r.range), ['bytes=150000-']);
      assert.match(said.join('\n'), /resuming hf:tlc-test\/big\/big\.gguf at 150 kB/);
      assert.deepEqual(partials(path.dirname(dest)), []);
    });
    it('refuses bytes whose SHA-256 is not the LFS oid, and leaves nothing behind', async () => {
      const bad = Uint8Array.from(small);
      bad[bad.length - 1] ^= 0xff;
      const { createHash } = await import('node:crypto');
      hub.corrupt.set(createHash('sha256').update(small).digest('hex'), bad);
      await assert.rejects(modelFromHub('hf:tlc-test/tiny/tiny-F32.gguf', say), /the download of hf:tlc-test\/tiny\/tiny-F32\.gguf is corrupt: its SHA-256 is [0-9a-f]{64}, the hub says [0-9a-f]{64}; it was removed/);
      const repoDir = path.dirname(cachedPath('tlc-test/tiny', 'tiny-F32.gguf'));
      assert.deepEqual(readdirSync(repoDir), []);
    });
    it('says to set HF_TOKEN for a gated repository, and downloads with a token it accepts', async () => {
      await assert.rejects(modelFromHub('hf:tlc-test/gated/model.gguf', say), /hf:tlc-test\/gated\/model\.gguf: the hub refused the download \(401\): the repository is gated or private; accept its terms on the hub and set HF_TOKEN/);
      process.env.HF_TOKEN = 'hf_wrong';
      await assert.rejects(modelFromHub('hf:tlc-test/gated/model.gguf', say), /\(403\): your HF_TOKEN has no access to it/);
      process.env.HF_TOKEN = 'nonsense';
      await assert.rejects(modelFromHub('hf:tlc-test/gated/model.gguf', say), /HF_TOKEN is not a Hugging Face access token/);
      process.env.HF_TOKEN = GOOD_TOKEN;
      assert.deepEqual(readFileSync(await modelFromHub('hf:tlc-test/gated/model.gguf', say)), Buffer.from(gated));
      assert.ok(hub.log.some((r) => r.auth === `Bearer ${GOOD_TOKEN}`));
    });
    it('names a missing file, a missing repository and an unreachable hub', async () => {
      await assert.rejects(modelFromHub('hf:tlc-test/tiny/nope.gguf', say), /hf:tlc-test\/tiny\/nope\.gguf: tlc-test\/tiny has no file nope\.gguf; its GGUF files are tiny-F32\.gguf, quant\/tiny-Q8_0\.gguf\./);
      await assert.rejects(modelFromHub('hf:tlc-test/nothing/x.gguf', say), new RegExp(`hf:tlc-test/nothing/x\\.gguf: ${hub.url.replace(/\./g, '\\.')} has no repository tlc-test/nothing \\(401\\), or it is private \\(then set HF_TOKEN\\); check the name\\.`));
      const gone = await startFakeHub({}); // a port where nothing listens any more
      await gone.close();
      process.env.HF_ENDPOINT = gone.url;
      try {
        await assert.rejects(modelFromHub('hf:tlc-test/tiny/tiny-F32.gguf', say), new RegExp(`cannot reach ${gone.url.replace(/\./g, '\\.')} to look up hf:tlc-test/tiny/tiny-F32\\.gguf: the connection was refused\\.`));
      } finally {
        process.env.HF_ENDPOINT = hub.url;
      }
    });
  });

  describe('the CLI', () => {
    it('tlc pull, tlc models and tlc models rm', async () => {
      const pulled = await tlc(['pull', 'hf:tlc-test/tiny', '--quant', 'Q8_0']);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(pulled.stdout.trim(), `${cachedPath('tlc-test/tiny', 'quant/tiny-Q8_0.gguf')} (${formatBytes(q8.length)})`);
      assert.match(pulled.stderr, /downloading hf:tlc-test\/tiny\/quant\/tiny-Q8_0\.gguf/);
      assert.equal((await tlc(['pull', 'hf:tlc-test/one/model.gguf'])).code, 0);
      const listed = await tlc(['models']);
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trim().split('\n');
      assert.equal(lines.length, 2, listed.stdout);
      assert.match(lines[0], /^hf:tlc-test\/one\/model\.gguf\s+[\d.]+ kB\s+F32\s+llama: 1 layers, embd 32, ff 64, heads 2, vocab 300, ctx 64 /);
      assert.match(lines[1], /^hf:tlc-test\/tiny\/quant\/tiny-Q8_0\.gguf\s+[\d.]+ kB\s+Q8_0\s+llama: 1 layers/);
      const removed = await tlc(['models', 'rm', 'hf:tlc-test/tiny:Q8_0']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /^removed hf:tlc-test\/tiny\/quant\/tiny-Q8_0\.gguf \(/);
      assert.ok(!existsSync(path.join(cache, 'hf/tlc-test/tiny')), 'empty folders go too');
      const again = await tlc(['models', 'rm', 'hf:tlc-test/tiny:Q8_0']);
      assert.equal(again.code, 1);
      assert.equal(again.stderr.trim(), `hf:tlc-test/tiny:Q8_0 is not in the cache (${cache}); \`tlc models\` lists what is.`);
    });
    it('tlc run --model hf:... downloads, runs, and a second run does not download', async () => {
      const args = ['run', 'chat.tl', '--model', 'hf:tlc-test/tiny/tiny-F32.gguf', '--prompt', 'hi', '--max-tokens', '3', '--temperature', '0'];
      const first = await tlc(args);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /tlc: downloading hf:tlc-test\/tiny\/tiny-F32\.gguf/);
      assert.match(first.stderr, /\d+ prompt tokens, 3 generated/);
      hub.log.length = 0;
      const second = await tlc(args);
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stderr, /download/);
      assert.deepEqual(hub.log, []);
      assert.equal(second.stdout, first.stdout, 'the same model gives the same greedy text');
    });
    it('a program that names its model by reference (load_model("hf:OWNER/REPO:Q8_0")), and an ambiguous --model', async () => {
      const ambiguous = await tlc(['build', 'chat.tl', '--model', 'hf:tlc-test/tiny']);
      assert.equal(ambiguous.code, 1);
      assert.equal(ambiguous.stderr.trim(), 'hf:tlc-test/tiny: the repository has 2 GGUF files (quant/tiny-Q8_0.gguf, tiny-F32.gguf); choose with --quant (like Q4_0) or name the file: hf:tlc-test/tiny/quant/tiny-Q8_0.gguf.');
      const named = await tlc(['run', 'named.tl', '--prompt', 'hi', '--max-tokens', '2']);
      assert.equal(named.code, 0, named.stderr);
      assert.match(named.stderr, /downloading hf:tlc-test\/tiny\/quant\/tiny-Q8_0\.gguf/);
      const quantOnFile = await tlc(['run', 'chat.tl', '--model', 'm.gguf', '--quant', 'Q4_0']);
      assert.equal(quantOnFile.code, 2);
    });
  });
});
