import type { CommandModule } from 'yargs';
import { startOpenAiServer } from '../openai-server.ts';
import { loadChatModel } from '../chat-model.ts';
import { ctxArg } from '../params.ts';
import { UsageError } from '../report.ts';

interface Args { model?: string; program?: string; port: number; host: string; ctx?: string; queue: number }

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const serveCommand: CommandModule<{}, Args> = {
  command: 'serve [program]',
  describe: 'Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models, /health)',
  builder: (y) => y
    .positional('program', { type: 'string', describe: 'A .tl chat program that reads arg("ids") (default: the built-in one, chat.tl on token ids)' })
    .option('model', { alias: 'm', type: 'string', describe: 'GGUF model' })
    .option('port', { type: 'number', default: 8080, describe: 'Port to listen on (0: any free port)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (other machines can reach anything but loopback)' })
    .option('ctx', { type: 'string', describe: "Most tokens (prompt + reply) of a request, at most the model's context" })
    .option('queue', { type: 'number', default: 16, describe: 'Requests that may wait while one generates; more get 503' })
    .example('$0 serve --model stories260K.gguf --port 8080', 'then: curl http://127.0.0.1:8080/v1/chat/completions -d \'{"messages":[{"role":"user","content":"Hi"}]}\'')
    .epilog('One generation runs at a time; the others wait. A client that disconnects stops its generation.') as never,
  handler: async (argv) => {
    if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535) throw new UsageError(`--port must be 0..65535, not ${argv.port}.`);
    if (!Number.isInteger(argv.queue) || argv.queue < 0) throw new UsageError(`--queue must be a whole number >= 0, not ${argv.queue}.`);
    if (!argv.model) throw new UsageError('serve: --model M.gguf is required.');
    const ctx = ctxArg(argv.ctx);
    const model = await loadChatModel({ model: argv.model, program: argv.program, ctx });
    const server = await startOpenAiServer({
      program: model.program,
      modelName: model.name,
      host: argv.host,
      port: argv.port,
      maxQueue: argv.queue,
      log: (l) => console.error(l),
    });
    console.log(`tlc serve: ${model.name} on ${server.url}/v1 (context ${model.program.ctx} tokens)`);
    if (!LOOPBACK.test(argv.host)) console.warn(`warning: listening on ${argv.host}, not loopback: other machines can reach it.`);
    console.log('Ctrl+C stops the server.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    await model.close();
    process.exit(0);
  },
};
