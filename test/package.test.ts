// The npm package: `npm pack` builds it (prepack: scripts/build-package.mjs) and packs it; the tarball is
// installed into a fresh project in a temporary folder, outside the repository, by `npm ci --offline`
// (the dependencies at the versions package-lock.json pins, from npm's cache: no network). There, with
// nothing of the repository reachable, `tlc` runs, the library compiles a program and runs it on the
// adapter, and README's two examples run as written (the browser one in Chromium, on the packed bundle).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { startWebServer } from '../web/node/server.ts';
import { launchChromium, requireChromium } from './browser/support.ts';
import { skipUnlessCI } from './support/skip.ts';

const REPO = path.resolve(import.meta.dirname, '..');

/** The environment of the commands: no NODE_OPTIONS (mocha's tsx loader must not help the package). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function ok(r: Ran, what: string): Ran {
  assert.equal(r.code, 0, `${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`);
  return r;
}

/**
 * A project that depends on the tarball, with a lockfile: the tarball for tlc, and for its dependencies
 * the entries of the repository's package-lock.json that are not dev-only (the same versions and
 * integrity hashes), so that `npm ci --offline` takes every one from npm's cache.
 */
function projectFiles(tarball: string): { pkg: object; lock: object } {
  const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'tlc-package-test', dependencies: { tlc: spec } },
    'node_modules/tlc': {
      version: manifest.version, resolved: spec, license: manifest.license,
      dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines,
    },
  };
  for (const [at, entry] of Object.entries(lock.packages)) if (at && !entry.dev && !entry.link) packages[at] = entry;
  return {
    pkg: { name: 'tlc-package-test', private: true, type: 'module', dependencies: { tlc: spec } },
    lock: { name: 'tlc-package-test', lockfileVersion: 3, requires: true, packages },
  };
}

/** The first ```LANG block of README.md's section `heading`. */
function readmeBlock(heading: string, lang: string): string {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README.md has a section "${heading}"`);
  const section = readme.slice(at + heading.length + 2).split(/\n## /)[0];
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `README.md's "${heading}" has a \`\`\`${lang} block`);
  return m[1];
}

describe('the npm package: packed, installed offline into a fresh project, used there', function () {
  this.timeout(180_000);
  let dir: string; // the temporary folder: the tarball and the project
  let project: string;
  let tarball: string;
  const model = synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 512, seed: 3 });

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tlc-package-'));
    const t0 = performance.now();
    // npm pack runs prepack (scripts/build-package.mjs: tsc into dist/js, the bundle into dist/web).
    ok(await run('npm', ['pack', '--pack-destination', dir, '--no-fund', '--no-audit'], REPO, 150_000), 'npm pack');
    const packed = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.equal(packed.length, 1, `one tarball in ${dir}: ${packed.join(', ')}`);
    tarball = path.join(dir, packed[0]);
    const t1 = performance.now();

    project = path.join(dir, 'project');
    await mkdir(project);
    const { pkg, lock } = projectFiles(tarball);
    await writeFile(path.join(project, 'package.json'), JSON.stringify(pkg, null, 2));
    await writeFile(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
    const installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project);
    if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) {
      skipUnlessCI(this, "npm's cache lacks some dependency of the package (run `npm install` here first; the test installs with no network)");
    }
    ok(installed, 'npm ci --offline');
    console.log(`      (npm pack ${((t1 - t0) / 1000).toFixed(1)} s, npm ci --offline ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds the compiled library, its types, the CLI and the browser bundle, and no sources, tests or models', async () => {
    const files = ok(await run('tar', ['-tzf', tarball], dir), 'tar').stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'bin/tlc.js', 'dist/js/lib/index.js', 'dist/js/lib/index.d.ts', 'dist/js/web/lib.d.ts',
      'dist/js/cli/tlc.js', 'dist/js/grammar/tensorlogic.ohm', 'dist/js/examples/chat.tl', 'dist/web/tlc-runtime.js', 'dist/web/index.html', 'examples/chat.tl']) {
      assert.ok(files.includes(f), `the package has ${f}`);
    }
    const stray = files.filter((f) => /^(test|cli|compiler|runtime|lib|shaders|web|scripts|grammar|node_modules|\.ci)\//.test(f) || /\.gguf$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)));
    assert.deepEqual(stray, [], 'only dist/, bin/, examples/, docs/ and the manifest');
  });

  it('installs as files of its own (no link into the repository) and without tsx', () => {
    const tlc = path.join(project, 'node_modules/tlc');
    assert.ok(!lstatSync(tlc).isSymbolicLink(), 'node_modules/tlc is a folder, not a link');
    assert.ok(existsSync(path.join(tlc, 'dist/js/lib/index.js')));
    assert.ok(!existsSync(path.join(tlc, 'cli')), 'no cli/*.ts: bin/tlc.js runs the compiled CLI');
    assert.ok(!existsSync(path.join(project, 'node_modules/tsx')), 'the package runs no TypeScript');
  });

  it('`tlc --help` and `tlc run hello.tl` work from the project', async () => {
    const bin = path.join(project, 'node_modules/.bin/tlc');
    const help = ok(await run(bin, ['--help'], project), 'tlc --help');
    assert.match(help.stdout, /tlc <command> \[options\]/);
    assert.match(help.stdout, /\brun\b/);
    const hello = ok(await run(bin, ['run', 'node_modules/tlc/examples/hello.tl'], project), 'tlc run hello.tl');
    assert.match(hello.stdout, /^Hello, TensorLogic!\n/);
    const version = ok(await run(process.execPath, ['-e', 'console.log(import.meta.resolve("tlc"), import.meta.resolve("tlc/web"))', '--input-type=module'], project), 'resolve');
    const [main, web] = version.stdout.trim().split(' ');
    assert.ok(main.startsWith(`file://${project}/node_modules/tlc/dist/js/lib/index.js`), main);
    assert.ok(web.startsWith(`file://${project}/node_modules/tlc/dist/web/tlc-runtime.js`), web);
  });

  it('the library compiles a program, runs it on the adapter, chats, and throws TlcErrors', async () => {
    const script = `
import { compileProgram, loadProgram, loadModel, startChat, DiagnosticError, TlcError, synthLlama } from 'tlc';
const program = await loadProgram({ source: 'main {\\n  let x = [[1.0, 2.0], [3.0, 4.0]]\\n  print("sum:", sum(x * 2.0))\\n}', file: 'tiny.tl' });
let out = '';
const r = await program.run({}, { write: (t) => (out += t) });
const model = await loadModel(synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 256, seed: 9 }));
const chat = await startChat(model, { system: 'Be brief.' });
const t1 = await chat.say('Hello', { write: () => {} }, { max_tokens: 4, temperature: 0 });
const t2 = await chat.say('Again', { write: () => {} }, { max_tokens: 4, temperature: 0 });
let error;
try { await compileProgram({ source: 'main {\\n  let = 1\\n}', file: 'bad.tl' }); } catch (e) { error = e; }
console.log(JSON.stringify({ out, graphs: program.artifact.ir.graphs.length, stopped_by: r.stopped_by,
  turns: [t1.tokens.length, t2.tokens.length], reread: t2.prompt_read < t2.prompt_tokens, messages: chat.messages.length,
  diagnostic: error instanceof DiagnosticError && error instanceof TlcError, message: error?.message }));
program.destroy(); chat.program.destroy(); await model.close();
`;
    await writeFile(path.join(project, 'lib-check.mjs'), script);
    const r = ok(await run(process.execPath, ['lib-check.mjs'], project), 'node lib-check.mjs');
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(got.out, 'sum: 20\n');
    assert.ok(got.graphs >= 1, 'the tensor arithmetic ran as a device graph');
    assert.equal(got.stopped_by, 'end');
    assert.deepEqual(got.turns, [4, 4]);
    assert.ok(got.reread, 'the second turn read only its own tokens (the KV cache was kept)');
    assert.equal(got.messages, 4);
    assert.ok(got.diagnostic, 'a program that does not compile is a DiagnosticError, a TlcError');
    assert.match(got.message, /bad\.tl:2:\d+/);
  });

  it("README's Node example runs as written", async () => {
    await writeFile(path.join(project, 'story.mjs'), readmeBlock('## Use tlc as a library', 'js'));
    await writeFile(path.join(project, 'synthetic.gguf'), model);
    const t0 = performance.now();
    const r = ok(await run(process.execPath, ['story.mjs', 'synthetic.gguf'], project), 'node story.mjs');
    assert.match(r.stdout, /\n\[\d+ tokens, stopped by (max_tokens|eos), [\d.]+ tok\/s\]\n/);
    assert.ok(r.stdout.length > 60, `it wrote a story and a reply: ${JSON.stringify(r.stdout)}`);
    console.log(`      (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  });

  describe("README's browser example", () => {
    before(function () {
      requireChromium(this);
    });

    it('runs as written in Chromium, on the packed tlc-runtime.js', async () => {
      // The page's folder as the README says: the example, tlc-runtime.js and chat.tl, the model under models/.
      const site = path.join(dir, 'site');
      const models = path.join(dir, 'models');
      await mkdir(site);
      await mkdir(models);
      const html = readmeBlock('## Use tlc as a library', 'html');
      await writeFile(path.join(site, 'index.html'), `<!doctype html>\n<meta charset="utf-8">\n${html}`);
      await copyFile(path.join(project, 'node_modules/tlc/dist/web/tlc-runtime.js'), path.join(site, 'tlc-runtime.js'));
      await copyFile(path.join(project, 'node_modules/tlc/examples/chat.tl'), path.join(site, 'chat.tl'));
      await writeFile(path.join(models, 'stories260K.gguf'), model);
      const server = await startWebServer({ root: site, modelsDir: models });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(server.url);
        await page.waitForFunction(() => /\n\[\d+ tokens, stopped by/.test(document.querySelector('#out')?.textContent ?? '') || undefined, undefined, { timeout: 90_000 })
          .catch((e: Error) => assert.fail(`the page did not finish: ${errors.join('; ') || e.message}`));
        const text = await page.textContent('#out');
        assert.match(text!, /\n\[\d+ tokens, stopped by (max_tokens|eos)\]$/);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
        await server.close();
      }
    });
  });
});
