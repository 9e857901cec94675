import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { TlcError } from '../../runtime/errors.ts';
import { startWebServer } from '../../web/node/server.ts';
import { UsageError } from '../report.ts';
import { modelFromHub, QUANT_OPTION, withQuant } from '../hub.ts';

interface Args { port: number; host: string; models?: string; model?: string; quant?: string }

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const serveWebCommand: CommandModule<{}, Args> = {
  command: 'serve-web',
  describe: 'Build the browser chat page and serve it, with the .gguf models of --models, on this machine',
  builder: (y) => y
    .option('port', { type: 'number', default: 8080, describe: 'Port to listen on (0: any free port)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; keep loopback (WebGPU needs https or localhost)' })
    .option('models', { type: 'string', describe: 'Folder whose .gguf files are served under /models/' })
    .option('model', { type: 'string', describe: 'A model on the hub (hf:OWNER/REPO/FILE.gguf) to serve from the cache, downloaded when missing' })
    .option('quant', QUANT_OPTION),
  handler: async (argv) => {
    if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535) throw new UsageError(`--port must be 0..65535, not ${argv.port}.`);
    if (argv.model !== undefined && argv.models !== undefined) throw new UsageError('--model and --models: give one (a model on the hub, or a folder of models).');
    // A hub model is served from its folder in the cache (cli/cache.ts), under /models/ like the others.
    const hubModel = argv.model !== undefined ? await modelFromHub(withQuant(argv.model, argv.quant)!) : undefined;
    const modelsDir = hubModel ? path.dirname(hubModel) : argv.models && path.resolve(argv.models);
    if (modelsDir && !(await stat(modelsDir).catch(() => undefined))?.isDirectory()) {
      throw new UsageError(`--models ${argv.models}: no such folder.`);
    }

    const outDir = await thePage();
    const server = await startWebServer({ root: outDir, modelsDir, port: argv.port, host: argv.host });

    console.log(`tlc chat page: ${server.url}`);
    if (!LOOPBACK.test(argv.host)) {
      console.warn(`warning: listening on ${argv.host}, not loopback: other machines can reach it, and browsers allow WebGPU only over https or localhost.`);
    }
    if (modelsDir) {
      const models = (await readdir(modelsDir)).filter((n) => n.endsWith('.gguf')).sort();
      console.log(`models from ${modelsDir}: ${models.length ? models.join(', ') : '(no .gguf files)'}`);
      const shown = hubModel ? path.basename(hubModel) : models[0];
      if (shown) console.log(`  ${hubModel ? 'open' : 'e.g.'} ${server.url}?model=models/${encodeURIComponent(shown)}`);
    }
    console.log('Ctrl+C stops the server.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
  },
};

/**
 * The built page: in a checkout, built now from web/ (esbuild, web/node/build.ts); in the npm package,
 * which holds no sources and no esbuild, the dist/web/ that `npm pack` built (scripts/build-package.mjs).
 */
async function thePage(): Promise<string> {
  if (existsSync(new URL('../../web/app.ts', import.meta.url))) {
    const { buildWeb } = await import('../../web/node/build.ts');
    const { outDir, warnings } = await buildWeb();
    for (const w of warnings) console.warn(`warning: ${w}`);
    return outDir;
  }
  const built = fileURLToPath(new URL('../../../web/', import.meta.url)); // dist/js/cli/commands/ -> dist/web/
  if (!existsSync(path.join(built, 'index.html'))) throw new TlcError(`The chat page is not built (${built} has no index.html); reinstall tlc.`);
  return built;
}
