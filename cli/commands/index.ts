// Every `tlc` command, in the order `tlc --help` lists them.
import type { CommandModule } from 'yargs';
import { deviceCommand } from './device.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [deviceCommand];
