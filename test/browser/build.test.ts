// The browser bundle: what the build writes, and that Node-only code can never slip into it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { nodeOnlyGuard, REPO_ROOT } from '../../web/node/build.ts';
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
