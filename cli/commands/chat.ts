import readline from 'node:readline';
import type { CommandModule } from 'yargs';
import { Conversation, type ReplyParams } from '../../runtime/conversation.ts';
import { TlcError } from '../../runtime/errors.ts';
import { atomicWrite } from '../files.ts';
import { loadChatModel } from '../chat-model.ts';
import { runArgs, withRunFlags } from '../params.ts';
import { UsageError } from '../report.ts';

interface Args { program?: string; model?: string; system?: string; ctx?: string; [flag: string]: unknown }

const HELP = 'commands: /reset (forget the turns), /system TEXT (the system prompt; /system alone clears it), /save FILE (the conversation as JSON), /help, /quit';

export const chatCommand: CommandModule<{}, Args> = {
  command: 'chat [program]',
  describe: 'Chat with a model in the terminal (streaming; /reset, /system, /save; piped stdin: one line a turn)',
  builder: (y) => {
    let b = y
      .positional('program', { type: 'string', describe: 'A .tl chat program that reads arg("ids") (default: the built-in one, chat.tl on token ids)' })
      .option('model', { alias: 'm', type: 'string', describe: 'GGUF model' })
      .option('system', { type: 'string', describe: 'The system prompt' })
      .option('ctx', { type: 'string', describe: "Most tokens the conversation holds, at most the model's context; older turns are dropped" });
    b = withRunFlags(b, ['prompt']);
    return b
      .example('$0 chat --model tinyllama-chat.gguf --system "You are terse."', 'chat in the terminal')
      .example('printf "Hi\\nWhat did I say?\\n" | $0 chat --model M.gguf', 'one line a turn, replies on stdout')
      .epilog(`${HELP}.\nCtrl-C stops the reply being written; a second Ctrl-C (or Ctrl-D) quits.`) as never;
  },
  handler: async (argv) => {
    const say = (m: string) => process.stderr.write(`${m}\n`);
    if (!argv.model) throw new UsageError('chat: --model M.gguf is required.');
    const { args: { model: _, ...flags }, ctx } = runArgs(argv); // every flag checked as `tlc run` checks it
    const params: ReplyParams = { max_tokens: 256, ...(flags as ReplyParams) };
    const model = await loadChatModel({ model: argv.model, program: argv.program, ctx });
    const chat = new Conversation(model.program, { system: argv.system, notice: (m) => say(`tlc: ${m}`) });
    const tty = !!process.stdin.isTTY;
    if (tty) say(`tlc chat: ${model.name}, context ${model.program.ctx} tokens${chat.hasTemplate ? '' : ' (no chat template: a plain User:/Assistant: transcript)'}. ${HELP}.`);

    const rl = readline.createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: '> ' });
    let current: AbortController | undefined;
    let armed = false; // a Ctrl-C at the prompt: the next one quits
    const quit = async (code: number) => {
      rl.close();
      await model.close();
      process.exit(code);
    };
    const onInterrupt = () => {
      if (current && !current.signal.aborted) {
        current.abort();
        return;
      }
      if (armed || !tty) {
        process.stderr.write('\n');
        process.exit(130);
      }
      armed = true;
      say('\n(Ctrl-C again to quit)');
      rl.prompt();
    };
    rl.on('SIGINT', onInterrupt);
    process.on('SIGINT', onInterrupt);

    if (tty) rl.prompt();
    for await (const input of rl) {
      armed = false;
      const line = input.trim();
      if (line === '') {
        if (tty) rl.prompt();
        continue;
      }
      if (line.startsWith('/')) {
        const [cmd, ...rest] = line.split(/\s+/);
        const arg = line.slice(cmd.length).trim();
        void rest;
        if (cmd === '/quit' || cmd === '/exit') break;
        else if (cmd === '/reset') (chat.reset(), say('tlc: the conversation is cleared'));
        else if (cmd === '/system') {
          chat.system = arg;
          say(arg ? 'tlc: system prompt set' : 'tlc: system prompt cleared');
        } else if (cmd === '/save') {
          if (!arg) say('tlc: /save FILE: give a file name');
          else {
            try {
              atomicWrite(arg, JSON.stringify({ model: model.name, ...chat.toJSON() }, null, 2) + '\n');
              say(`tlc: saved ${chat.messages.length} messages to ${arg}`);
            } catch (e) {
              say(`tlc: /save: ${(e as Error).message}`);
            }
          }
        } else if (cmd === '/help') say(HELP);
        else say(`tlc: unknown command ${cmd}; ${HELP}`);
        if (tty) rl.prompt();
        continue;
      }
      current = new AbortController();
      let started = false;
      try {
        const r = await chat.say(line, {
          signal: current.signal,
          write: (t) => {
            const s = started ? t : t.replace(/^\s+/, '');
            if (s) started = true;
            if (s) process.stdout.write(s);
          },
        }, params);
        process.stdout.write('\n');
        if (r.finish === 'stopped') say('tlc: [stopped]');
        else if (r.finish === 'context') say(`tlc: the reply reached the end of the context (${model.program.ctx} tokens); the oldest turns go next time`);
      } catch (e) {
        if (!(e instanceof TlcError)) throw e;
        say(`tlc: ${e.message}`);
      } finally {
        current = undefined;
      }
      if (tty) rl.prompt();
    }
    await quit(0);
  },
};
