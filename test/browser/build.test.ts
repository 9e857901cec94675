// The browser bundle: what the build writes, and that Node-only code can never slip into it.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { nodeGlobalsGuard, nodeOnlyGuard, REPO_ROOT } from '../../web/node/build.ts';
import { builtPage, removeBuiltPage } from './support.ts';

describe('web build', function () {
  this.timeout(60_000);
  after(removeBuiltPage);

  it('writes the library, the page and its files', async () => {
    const { files } = await builtPage();
    for (const f of ['tlc-runtime.js', 'tlc-runtime.js.map', 'app.js', 'app.js.map', 'index.html', 'style.css']) assert.ok(files.includes(f), f);
  });

  it('the page loads the library from tlc-runtime.js instead of bundling it again', async () => {
    const { outDir } = await builtPage();
    const app = await readFile(path.join(outDir, 'app.js'), 'utf8');
    assert.match(app, /from "\.\/tlc-runtime\.js"/);
    assert.doesNotMatch(app, /function readGguf/);
    const lib = await readFile(path.join(outDir, 'tlc-runtime.js'), 'utf8');
    for (const name of ['openDevice', 'blobSource', 'urlSource', 'readGguf', 'uploadWeights', 'llamaHParams']) {
      assert.match(lib, new RegExp(`export \\{[^}]*\\b${name}\\b`), name);
    }
  });

  it('inlines grammar/tensorlogic.ohm, so the compiler needs no file system', async () => {
    const { outDir } = await builtPage();
    const lib = await readFile(path.join(outDir, 'tlc-runtime.js'), 'utf8');
    const ohm = await readFile(path.join(REPO_ROOT, 'grammar/tensorlogic.ohm'), 'utf8');
    const literal = /GRAMMAR_SOURCE = ('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/.exec(lib)?.[1];
    assert.equal(literal && new Function(`return ${literal}`)(), ohm, 'the .ohm text, as a string literal');
    assert.doesNotMatch(lib, /readFileSync/);
    for (const name of ['build', 'parseArtifact', 'modelInfo', 'Program', 'compile']) {
      assert.match(lib, new RegExp(`export \\{[^}]*\\b${name}\\b`), name);
    }
  });

  it('the bundled compiler builds chat.tl to the same artifact as the Node one, and reports errors at line:col', async () => {
    const { outDir } = await builtPage();
    const lib = await import(pathToFileURL(path.join(outDir, 'tlc-runtime.js')).href);
    const bytes = synthLlama({ layers: 1 });
    const text = await readFile(path.join(REPO_ROOT, 'examples/chat.tl'), 'utf8');
    const inNode = build(text, 'chat.tl', modelInfo(await readGguf(bytesSource(bytes, 'synth.gguf'))));
    const inBundle = lib.build(text, 'chat.tl', lib.modelInfo(await lib.readGguf(lib.bytesSource(bytes, 'synth.gguf'))));
    assert.deepEqual(inBundle, inNode);
    assert.throws(() => lib.build('main {\n  let = 1\n}\n', 'bad.tl', inNode.model), (e: Error) => e.name === 'DiagnosticError' && /bad\.tl:2:\d+/.test(e.message));
  });

  describe('refuses Node-only globals in repo code, naming file:line', () => {
    const cases: [code: string, global: string][] = [
      ['export const r = Number(process.env.R ?? 2);', 'process.env'],
      ['export const bytes = Buffer.from([1, 2]);', 'Buffer.from'],
      ['export const args = process.argv.slice(2);', 'process.argv'],
    ];
    const dir = path.join(REPO_ROOT, '.tmp');
    for (const [code, global] of cases) {
      it(global, async () => {
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, `globals-${process.pid}-${global.replace('.', '-')}.ts`);
        await writeFile(file, `// a browser module\n${code}\n`);
        try {
          const build = esbuild.build({ entryPoints: [file], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent', plugins: [nodeGlobalsGuard] });
          await assert.rejects(build, (e: esbuild.BuildFailure) => {
            assert.equal(e.errors.length, 1);
            assert.equal(e.errors[0].text, `${global} is Node-only: the browser has no ${global.split('.')[0]}.`);
            assert.deepEqual([e.errors[0].location?.file, e.errors[0].location?.line], [path.relative(REPO_ROOT, file), 2]);
            return true;
          });
        } finally {
          await rm(file, { force: true });
        }
      });
    }

    it('a typeof test, a comment or a word that merely contains the name is fine', async () => {
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `globals-${process.pid}-fine.ts`);
      await writeFile(file, `// process.env.X would be wrong here\nexport const isNode = typeof process !== 'undefined' && !!process.versions?.node;\nexport const postprocess = { env: 1 };\n`);
      try {
        await esbuild.build({ entryPoints: [file], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent', plugins: [nodeGlobalsGuard] });
      } finally {
        await rm(file, { force: true });
      }
    });
  });

  describe('refuses Node-only imports, naming the importer', () => {
    const cases: [source: string, importPath: string][] = [
      [`import { openNodeDevice } from './runtime/node/gpu.ts'; openNodeDevice();`, './runtime/node/gpu.ts'],
      [`import { buildWeb } from './web/node/build.ts'; buildWeb();`, './web/node/build.ts'],
      [`import { readFileSync } from 'node:fs'; readFileSync('x');`, 'node:fs'],
      [`import { create } from 'webgpu'; create([]);`, 'webgpu'],
    ];
    for (const [contents, importPath] of cases) {
      it(importPath, async () => {
        const build = esbuild.build({
          stdin: { contents, resolveDir: REPO_ROOT, sourcefile: 'web/entry.ts', loader: 'ts' },
          bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent', plugins: [nodeOnlyGuard],
        });
        await assert.rejects(build, (e: esbuild.BuildFailure) => {
          assert.equal(e.errors.length, 1);
          assert.match(e.errors[0].text, new RegExp(`imports ${importPath.replace(/\./g, '\\.')}, which is Node-only`));
          return true;
        });
      });
    }
  });
});
