// `tlc` on bad input, bad paths, failed writes, Ctrl-C and closed pipes: a clear one-line message and
// the right exit code, never a stack trace or a hang. Most cases spawn `node bin/tlc.js` as a user
// runs it (several at a time: each start takes about a second), on tiny synthetic models.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicWrite } from '../cli/files.ts';
import { Program } from '../runtime/program.ts';
import { checkRunParam } from '../runtime/run-params.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf } from '../runtime/gguf.ts';
import { build } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import { TlcError } from '../runtime/errors.ts';
import { testGpu } from './support/gpu.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TLC = path.join(ROOT, 'bin/tlc.js');

interface Ran { code: number | null; signal: string | null; stdout: string; stderr: string }

function tlc(cwd: string, args: string[], timeout = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TLC, ...args], { cwd, timeout }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

/** Runs `jobs` at most `n` at a time (each spawn is a second of start-up). */
async function pool<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

/** What Dawn prints on some adapters; not tlc's. */
const quiet = (stderr: string) => stderr.split('\n').filter((l) => !/^Warning: max\w+ artificially reduced/.test(l)).join('\n');

describe('tlc hardening: bad input, paths, writes, signals, pipes', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlc-hard-'));
  const at = (...p: string[]) => path.join(dir, ...p);
  before(async () => {
    writeFileSync(at('m.gguf'), synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 1 }));
    writeFileSync(at('long.gguf'), synthLlama({ layers: 2, embd: 64, heads: 4, vocab: 300, ctx: 4096, seed: 2 }));
    copyFileSync(path.join(ROOT, 'examples/chat.tl'), at('chat.tl'));
    writeFileSync(at('file.txt'), 'a regular file\n');
    mkdirSync(at('dir'));
    execFileSync('mkfifo', [at('fifo')]);
    const [a, b] = await Promise.all([
      tlc(dir, ['build', 'chat.tl', '--model', 'm.gguf', '-o', 'a.json']),
      tlc(dir, ['build', 'chat.tl', '--model', 'long.gguf', '-o', 'long.json']),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // ---------------------------------------------------------------------------------------------
  // input -> expected message (the whole of stderr, one line) and exit code

  const R = (...a: string[]) => ['run', 'a.json', ...a];
  const cases: [string[], number, string][] = [
    // one rule per run parameter (runtime/program.ts RUN_PARAMS)
    [R('--ctx', 'abc'), 2, '--ctx: expected a whole number >= 1, got "abc"'],
    [R('--ctx', '7.5'), 2, '--ctx: expected a whole number >= 1, got "7.5"'],
    [R('--ctx', '0'), 2, '--ctx: expected a whole number >= 1, got "0"'],
    [R('--ctx', '100'), 2, "--ctx 100: more than the model's context (64 tokens); give at most 64."],
    [R('--top-p', '2'), 2, '--top-p: expected a number in (0, 1], got "2"'],
    [R('--top-p', '0'), 2, '--top-p: expected a number in (0, 1], got "0"'],
    [R('--seed', 'abc'), 2, '--seed: expected a whole number from 0 to 4294967295, got "abc"'],
    [R('--seed', '-1'), 2, '--seed: expected a whole number from 0 to 4294967295, got "-1"'],
    [R('--seed', '4294967296'), 2, '--seed: expected a whole number from 0 to 4294967295, got "4294967296"'],
    [R('--max-tokens', '-1'), 2, '--max-tokens: expected a whole number >= 0, got "-1"'],
    [R('--max-tokens', '2.5'), 2, '--max-tokens: expected a whole number >= 0, got "2.5"'],
    [R('--temperature', 'NaN'), 2, '--temperature: expected a finite number >= 0 (0 = greedy), got "NaN"'],
    [R('--temperature', '-1'), 2, '--temperature: expected a finite number >= 0 (0 = greedy), got "-1"'],
    [R('--temperature', ''), 2, '--temperature: expected a finite number >= 0 (0 = greedy), got ""'],
    [R('--top-k', '-5'), 2, '--top-k: expected a whole number >= 0 (0 = no limit), got "-5"'],
    [R('--temperature', '1', '--temperature', '2'), 2, '--temperature is given 2 times; give it once.'],
    [R('--arg', 'temperature=hot'), 2, '--arg temperature: expected a finite number >= 0 (0 = greedy), got "hot"'],
    [R('--arg', 'top_k=3', '--top-k', '3'), 2, 'top_k is given twice, as --top-k and as --arg top_k; give it once.'],
    [R('--arg', 'nonsense'), 2, '--arg nonsense: expected name=value'],
    [R('--arg', 'foo=1'), 2, '--arg foo: chat.tl has no arg("foo"); its run-time parameters are prompt, max_tokens, temperature, top_k, top_p (and model).'],
    [['build', 'chat.tl', '--model', 'm.gguf', '-o', 'x.json', '--arg', 'foo=1'], 2, '--arg foo: chat.tl has no arg("foo"); its run-time parameters are prompt, max_tokens, temperature, top_k, top_p (and model).'],
    [['tokenize', '--model', 'm.gguf', '--decode', ''], 2, '--decode: expected comma-separated token ids, like --decode 1,2,3; got nothing.'],
    [['tokenize', '--model', 'm.gguf', '--decode', '1,,2'], 2, "--decode: '' is not a token id of this model (0..299)."],
    [['synth', 'x.gguf', '--layers', 'abc'], 2, '--layers: expected a whole number >= 1, got not a number'],
    [['synth', 'x.gguf', '--seed', '1.5'], 2, '--seed: expected a whole number from 0 to 4294967295, got 1.5'],
    // paths that are not regular files: an error, never a hang at open
    [R('--model', 'dir'), 1, 'dir: cannot read the model: it is a directory, not a file.'],
    [R('--model', 'fifo'), 1, 'fifo: cannot read the model: it is a FIFO (named pipe), not a file.'],
    [['run', 'dir'], 1, 'dir: cannot read the artifact: it is a directory, not a file.'],
    [['run', 'fifo'], 1, 'fifo: cannot read the artifact: it is a FIFO (named pipe), not a file.'],
    [['inspect', 'fifo'], 1, 'fifo: cannot read the model: it is a FIFO (named pipe), not a file.'],
    [['inspect', 'dir'], 1, 'dir: cannot read the model: it is a directory, not a file.'],
    [['tokenize', '--model', 'fifo', '--text', 'hi'], 1, 'fifo: cannot read the model: it is a FIFO (named pipe), not a file.'],
    [['build', 'chat.tl', '--model', 'fifo'], 1, 'fifo: cannot read the model: it is a FIFO (named pipe), not a file.'],
    [['build', 'fifo'], 1, 'fifo: cannot read the program: it is a FIFO (named pipe), not a file.'],
    [['ir', 'dir', '--model', 'm.gguf'], 1, 'dir: cannot read the program: it is a directory, not a file.'],
    // outputs that cannot be written
    [['build', 'chat.tl', '--model', 'm.gguf', '-o', 'file.txt/out.json'], 1, 'cannot write file.txt/out.json: DIR/file.txt is a file, not a directory.'],
    [['build', 'chat.tl', '--model', 'm.gguf', '-o', 'dir'], 1, 'cannot write dir: it is a directory, not a file; give another path.'],
    [['build', 'chat.tl', '--model', 'm.gguf', '-o', 'fifo'], 1, 'cannot write fifo: it is a FIFO (named pipe), not a file; give another path.'],
    [['synth', 'file.txt/m.gguf'], 1, 'cannot write file.txt/m.gguf: DIR/file.txt is a file, not a directory.'],
  ];
  let results: Ran[] = [];
  before(async function () {
    this.timeout(120_000);
    results = await pool(cases.map(([args]) => () => tlc(dir, args, 20_000)), 3);
  });
  cases.forEach(([args, code, message], i) => {
    it(`tlc ${args.map((a) => (a === '' ? '""' : a)).join(' ')} -> ${message}`, () => {
      const r = results[i];
      assert.equal(r.signal, null, `killed (a hang?): ${r.stderr}`);
      assert.equal(quiet(r.stderr).replaceAll(dir, 'DIR'), `${message}\n`);
      assert.equal(r.code, code);
      assert.equal(r.stdout, '');
    });
  });

  // ---------------------------------------------------------------------------------------------
  // atomic outputs

  describe('writes', () => {
    it('a writer that fails midway leaves the old file whole and no temporary file', () => {
      const d = at('atomic');
      mkdirSync(d);
      writeFileSync(path.join(d, 'out.json'), 'old contents');
      assert.throws(
        () => atomicWrite(path.join(d, 'out.json'), (fd) => {
          writeSync(fd, 'half of the new');
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }),
        (e: Error) => e instanceof TlcError && e.message === `disk full (ENOSPC) writing ${path.join(d, 'out.json')}; the old file is left as it was.`,
      );
      assert.throws(() => atomicWrite(path.join(d, 'out.json'), () => { throw new RangeError('the writer broke'); }), /^RangeError: the writer broke$/);
      assert.equal(readFileSync(path.join(d, 'out.json'), 'utf8'), 'old contents');
      assert.deepEqual(readdirSync(d), ['out.json']);
      atomicWrite(path.join(d, 'out.json'), 'new contents');
      assert.equal(readFileSync(path.join(d, 'out.json'), 'utf8'), 'new contents');
      assert.deepEqual(readdirSync(d), ['out.json']);
    });

    it('a failed build leaves the old artifact; two builds to one -o leave one whole artifact', async () => {
      const before = readFileSync(at('a.json'), 'utf8');
      const failed = await tlc(dir, ['build', 'chat.tl', '--model', 'dir', '-o', 'a.json']);
      assert.equal(failed.code, 1);
      assert.equal(readFileSync(at('a.json'), 'utf8'), before);
      const both = await Promise.all([tlc(dir, ['build', 'chat.tl', '--model', 'm.gguf', '-o', 'same.json']), tlc(dir, ['build', 'chat.tl', '--model', 'long.gguf', '-o', 'same.json'])]);
      for (const r of both) assert.equal(r.code, 0, r.stderr);
      const artifact = JSON.parse(readFileSync(at('same.json'), 'utf8'));
      assert.ok([at('m.gguf'), at('long.gguf')].includes(artifact.model.path));
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
    });

    it('an unwritable last-build pointer is a warning: the artifact is written', async () => {
      const d = at('nolast');
      mkdirSync(d);
      writeFileSync(path.join(d, 'build'), 'a file where build/ would go');
      const r = await tlc(d, ['build', path.join(dir, 'chat.tl'), '--model', at('m.gguf'), '-o', 'out.json']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(quiet(r.stderr), /^tlc: warning: cannot write build\/last: .*build is a file, not a directory\. `tlc run` without a target will not run out\.json/);
      assert.ok(existsSync(path.join(d, 'out.json')));
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Ctrl-C, closed pipes, a full context

  describe('signals, pipes and the context', () => {
    /** Spawns `tlc run`, sends SIGINT once `ready(stdout)` holds (+ `delay` ms); the result and the ms from SIGINT to exit. */
    function interrupt(args: string[], ready: (out: string) => boolean, delay = 0): Promise<Ran & { ms: number }> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [TLC, ...args], { cwd: dir });
        let stdout = '', stderr = '', sent = 0;
        const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
        child.stdout.on('data', (d) => {
          stdout += d;
          if (!sent && ready(stdout)) {
            sent = -1;
            setTimeout(() => ((sent = performance.now()), child.kill('SIGINT')), delay);
          }
        });
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr, ms: performance.now() - sent });
        });
      });
    }

    it('Ctrl-C while generating: the text so far, the summary (stopped by stopped), exit 130', async () => {
      const r = await interrupt(['run', 'long.json', '--max-tokens', '4000', '--temperature', '0', '--prompt', 'hi'], (out) => out.length > 12);
      assert.equal(r.code, 130, r.stderr);
      assert.ok(r.stdout.startsWith('hi') && r.stdout.length > 12);
      assert.match(quiet(r.stderr), /\ntlc: stopping \(Ctrl-C again to quit at once\)\n\n\[\d+ prompt tokens, \d+ generated, stopped by stopped; prefill/);
    });

    it('Ctrl-C during a long prefill stops at once', async () => {
      const prompt = Array(180).fill('the little dog saw a big cat').join(' '); // 3961 tokens: a prefill of many seconds here
      const r = await interrupt(['run', 'long.json', '--max-tokens', '10', '--temperature', '0', '--prompt', prompt], (out) => out.length >= prompt.length, 300);
      assert.equal(r.code, 130, r.stderr);
      assert.match(quiet(r.stderr), /stopped by stopped/);
      assert.ok(r.ms < 8000, `took ${r.ms} ms to stop`);
    });

    it('a reader that goes away (tlc run | head -c 5): exit 0, nothing on stderr', async () => {
      const r = await new Promise<Ran>((resolve) => {
        execFile('bash', ['-c', `"${process.execPath}" "${TLC}" run long.json --max-tokens 3000 --temperature 0 | head -c 5; echo " $\{PIPESTATUS[0]}"`], { cwd: dir, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? -1 : 0, signal: null, stdout, stderr }));
      });
      assert.equal(r.stdout, 'Once  0\n');
      assert.equal(quiet(r.stderr), '');
    });

    it('--json when the context fills: the tokens so far, stopped_by "context", exit 0', async () => {
      const r = await tlc(dir, ['run', 'a.json', '--json', '--ctx', '20', '--max-tokens', '100', '--temperature', '0']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.stopped_by, 'context');
      assert.equal(j.prompt_tokens, 16);
      assert.equal(j.tokens.length, 5); // positions 17..20 hold four of them; the fifth is sampled from the full context
    });
  });

  // ---------------------------------------------------------------------------------------------
  // The library: the same rules for every caller of Program (the browser page too)

  describe('Program', () => {
    const rules: [string, unknown, string | number][] = [
      ['temperature', NaN, 'arg temperature: expected a finite number >= 0 (0 = greedy), got NaN'],
      ['temperature', '0.5', 0.5],
      ['top_p', 1, 1],
      ['top_p', 1.5, 'arg top_p: expected a number in (0, 1], got 1.5'],
      ['top_k', 0, 0],
      ['seed', 2 ** 32 - 1, 2 ** 32 - 1],
      ['seed', -3, 'arg seed: expected a whole number from 0 to 4294967295, got -3'],
      ['max_tokens', '12', 12],
      ['max_tokens', true, 'arg max_tokens: expected a whole number >= 0, got true'],
      ['prompt', 42, 'arg prompt: expected text, got 42'],
      ['other', 'anything', 'anything'],
    ];
    for (const [name, value, want] of rules) {
      it(`${name} = ${typeof value === "string" ? JSON.stringify(value) : String(value)} -> ${want}`, () => {
        const c = checkRunParam(name, value);
        assert.deepEqual(c, typeof want === 'string' && want.startsWith('arg ') ? { error: want } : { value: want });
      });
    }

    it('Program.run and Program.load refuse bad values with a TlcError; a full context ends the run', async () => {
      const bytes = synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 64, seed: 1 });
      const src = bytesSource(bytes);
      const file = await readGguf(src);
      const artifact = build(readFileSync(path.join(ROOT, 'examples/chat.tl'), 'utf8'), 'examples/chat.tl', modelInfo(file));
      const gpu = await testGpu();
      await assert.rejects(Program.load(gpu, artifact, src, { file, ctx: 65 }), /^TlcError: ctx: 65 is more than the model's context \(64 tokens\); give at most 64$/);
      await assert.rejects(Program.load(gpu, artifact, src, { file, ctx: 0 }), /^TlcError: ctx: expected a whole number >= 1, got 0$/);
      const program = await Program.load(gpu, artifact, src, { file, ctx: 20 });
      await assert.rejects(program.run({ temperature: NaN }, { write: () => {} }), /^TlcError: arg temperature: expected a finite number >= 0 \(0 = greedy\), got NaN$/);
      await assert.rejects(program.run({ top_p: '2' }, { write: () => {} }), /^TlcError: arg top_p: expected a number in \(0, 1\], got "2"$/);
      const r = await program.run({ max_tokens: 100, temperature: 0 }, { write: () => {} });
      assert.equal(r.stopped_by, 'context');
      assert.equal(r.tokens.length, 5);
      // An abort before the run: stopped at once, and the program runs again after it.
      const abort = new AbortController();
      abort.abort();
      assert.equal((await program.run({ max_tokens: 3, temperature: 0 }, { write: () => {}, signal: abort.signal })).stopped_by, 'stopped');
      assert.equal((await program.run({ max_tokens: 3, temperature: 0 }, { write: () => {} })).stopped_by, 'max_tokens');
      program.destroy();
    });
  });
});
