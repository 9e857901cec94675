// The `tlc` command line. Each command lives in cli/commands/<name>.ts; the parser in cli/parser.ts.
import { hideBin } from 'yargs/helpers';
import { tlcParser } from './parser.ts';
import { reportAndExit, UsageError } from './report.ts';

process.on('unhandledRejection', reportAndExit);
process.on('uncaughtException', reportAndExit);
// A reader that goes away (`tlc run | head -1`) ends tlc quietly: exit 0, no stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    reportAndExit(e);
  });
}

try {
  await tlcParser(hideBin(process.argv), (msg, err) => reportAndExit(err ?? new UsageError(msg))).parseAsync();
} catch (e) {
  reportAndExit(e);
}
