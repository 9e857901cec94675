// Every `tlc` command, in the order `tlc --help` lists them.
import type { CommandModule } from 'yargs';
import { buildCommand } from './build.ts';
import { runCommand } from './run.ts';
import { irCommand } from './ir.ts';
import { deviceCommand } from './device.ts';
import { parseCommand } from './parse.ts';
import { checkCommand } from './check.ts';
import { inspectCommand } from './inspect.ts';
import { serveWebCommand } from './serve-web.ts';
import { synthCommand } from './synth.ts';
import { tokenizeCommand } from './tokenize.ts';
import { benchCommand } from './bench.ts';
import { testCommand } from './test.ts';
import { chatCommand } from './chat.ts';
import { serveCommand } from './serve.ts';
import { pullCommand } from './pull.ts';
import { modelsCommand } from './models.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [buildCommand, runCommand, chatCommand, serveCommand, irCommand, deviceCommand, parseCommand, checkCommand, inspectCommand, synthCommand, serveWebCommand, tokenizeCommand, benchCommand, testCommand, pullCommand, modelsCommand];
