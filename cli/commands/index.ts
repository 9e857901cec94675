// Every `tlc` command, in the order `tlc --help` lists them.
import type { CommandModule } from 'yargs';
import { deviceCommand } from './device.ts';
import { inspectCommand } from './inspect.ts';
import { serveWebCommand } from './serve-web.ts';
import { synthCommand } from './synth.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [deviceCommand, inspectCommand, synthCommand, serveWebCommand];
