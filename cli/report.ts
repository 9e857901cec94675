// Turns any error into a message and an exit code. Users see a message; a stack only with TLC_DEBUG=1.
import { TlcError } from '../runtime/errors.ts';

export class UsageError extends TlcError {
  override name = 'UsageError';
}

export function reportAndExit(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof TlcError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`tlc: internal error: ${err.message}\n`);
    if (!process.env.TLC_DEBUG) process.stderr.write('(set TLC_DEBUG=1 to see the stack trace)\n');
  }
  if (process.env.TLC_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
