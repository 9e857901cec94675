/** An error meant for the user: the CLI prints its message alone, never a stack trace. */
export class TlcError extends Error {
  override name = 'TlcError';
}
