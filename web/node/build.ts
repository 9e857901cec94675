// Builds the browser page into dist/web/ with esbuild: the library `tlc-runtime.js` (web/lib.ts), the page
// script `app.js` (web/app.ts, which loads the library from tlc-runtime.js rather than bundling a second
// copy), and the static files. Used by scripts/build-web.mjs and `tlc serve-web`.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { TlcError } from '../../runtime/errors.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = path.join(REPO_ROOT, 'dist/web');

export class WebBuildError extends TlcError {
  override name = 'WebBuildError';
}

export interface WebBuild {
  outDir: string;
  files: string[];     // names inside outDir
  warnings: string[];  // e.g. examples/chat.tl is absent
}

// Folders whose code is Node-only: the bundle must never pull them in.
const NODE_ONLY_DIRS = ['runtime/node', 'web/node'].map((d) => path.join(REPO_ROOT, d) + path.sep);

/** Fails the build, naming the importer, when browser code imports node:*, `webgpu` or a Node-only folder. */
export const nodeOnlyGuard: esbuild.Plugin = {
  name: 'tlc-node-only-guard',
  setup(build) {
    build.onResolve({ filter: /^node:|^webgpu$|[\\/]node[\\/]/ }, (args) => {
      const target = args.path.startsWith('.') ? path.resolve(args.resolveDir, args.path) : args.path;
      const nodeOnly = /^node:|^webgpu$/.test(args.path) || NODE_ONLY_DIRS.some((d) => target.startsWith(d));
      if (!nodeOnly) return undefined;
      const from = args.importer ? path.relative(REPO_ROOT, args.importer) : '(entry)';
      return {
        errors: [{ text: `${from} imports ${args.path}, which is Node-only: the browser bundle may not use node: modules, the webgpu package, runtime/node/ or web/node/.` }],
      };
    });
  },
};

// Node's globals do not exist in a page: `process.env.X` in runtime code builds, then throws "process is not
// defined" only when that path runs. Say so at build time instead, with file:line. (device.ts's
// `typeof process !== 'undefined'` test is fine, so only these uses count.)
const NODE_GLOBAL = /\b(process\.(?:env|argv|exit|cwd|stdout|stderr)|Buffer\.(?:from|alloc|concat))\b/;

export const nodeGlobalsGuard: esbuild.Plugin = {
  name: 'tlc-node-globals-guard',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(REPO_ROOT + path.sep) || args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const contents = await readFile(args.path, 'utf8');
      const lines = contents.split('\n');
      const errors: esbuild.PartialMessage[] = [];
      lines.forEach((text, i) => {
        const m = NODE_GLOBAL.exec(text.replace(/\/\/.*$/, ''));
        if (m) errors.push({ text: `${m[1]} is Node-only: the browser has no ${m[1].split('.')[0]}.`, location: { file: path.relative(REPO_ROOT, args.path), line: i + 1, column: m.index, lineText: text } });
      });
      return errors.length ? { errors } : { contents, loader: 'ts' };
    });
  },
};

// The page imports the library as any web app would: `./lib.ts` becomes the sibling file tlc-runtime.js.
const pageUsesLibrary: esbuild.Plugin = {
  name: 'tlc-page-uses-library',
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\.ts$/ }, (args) =>
      args.resolveDir === path.join(REPO_ROOT, 'web') ? { path: './tlc-runtime.js', external: true } : undefined);
  },
};

// @huggingface/gguf names its browser build only in the package.json "browser" field, which esbuild does
// not apply to a package with an "exports" map; without this it bundles the Node build, which imports fs.
// It imports a few enums from @huggingface/tasks, which does not declare itself free of side effects:
// saying so lets esbuild drop the other 250 kB of that package.
const huggingfaceForBrowser: esbuild.Plugin = {
  name: 'tlc-huggingface-for-browser',
  setup(build) {
    build.onResolve({ filter: /^@huggingface\/gguf$/ }, () =>
      ({ path: path.join(REPO_ROOT, 'node_modules/@huggingface/gguf/dist/browser/index.mjs') }));
    build.onResolve({ filter: /^@huggingface\/tasks$/ }, async (args) => {
      if (args.pluginData === 'again') return undefined;
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'again' });
      return { ...r, sideEffects: false };
    });
  },
};

// grammar/source.ts reads grammar/tensorlogic.ohm with node:fs; in the bundle it becomes a module that holds
// the grammar's text, so the compiler runs in the page unchanged.
export const inlineGrammar: esbuild.Plugin = {
  name: 'tlc-inline-grammar',
  setup(build) {
    const source = path.join(REPO_ROOT, 'grammar/source.ts');
    const ohm = path.join(REPO_ROOT, 'grammar/tensorlogic.ohm');
    build.onResolve({ filter: /[\\/]grammar[\\/]source\.ts$/ }, (args) =>
      path.resolve(args.resolveDir, args.path) === source ? { path: source, namespace: 'tlc-grammar' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'tlc-grammar' }, async () => ({
      contents: `export const GRAMMAR_SOURCE = ${JSON.stringify(await readFile(ohm, 'utf8'))};\n`,
      loader: 'js',
      watchFiles: [ohm],
    }));
  },
};

const STATIC_FILES: [from: string, to: string][] = [
  ['web/index.html', 'index.html'],
  ['web/style.css', 'style.css'],
  ['examples/chat.tl', 'chat.tl'], // the program the page runs and shows
];

export async function buildWeb(outDir = WEB_DIST): Promise<WebBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const warnings: string[] = [];
  try {
    await esbuild.build({
      absWorkingDir: REPO_ROOT,
      entryPoints: { 'tlc-runtime': 'web/lib.ts', app: 'web/app.ts' },
      outdir: outDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      sourcemap: true,
      minify: false,
      logLevel: 'silent',
      plugins: [inlineGrammar, nodeOnlyGuard, nodeGlobalsGuard, pageUsesLibrary, huggingfaceForBrowser],
    });
  } catch (e) {
    throw new WebBuildError(`The browser bundle did not build:\n${formatEsbuildErrors(e)}`);
  }
  for (const [from, to] of STATIC_FILES) {
    const src = path.join(REPO_ROOT, from);
    if (existsSync(src)) await copyFile(src, path.join(outDir, to));
    else warnings.push(`${from} is absent: the page will say that it has no program to run.`);
  }
  return { outDir, files: (await readdir(outDir)).sort(), warnings };
}

function formatEsbuildErrors(e: unknown): string {
  const errors = (e as Partial<esbuild.BuildFailure>).errors;
  if (!errors?.length) return `  ${(e as Error).message}`;
  return errors.map((m) => {
    const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
    return `  ${at}${m.text}`;
  }).join('\n');
}
