import { readFileSync } from 'node:fs';
import { TlcError } from '../runtime/errors.ts';
import { errnoWords, requireFile } from './files.ts';

/** The text of a source file, or a TlcError that says why it cannot be read (a directory or a FIFO included). */
export function readSource(file: string, what = 'the program'): string {
  requireFile(file, what);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlcError(`${file}: cannot read ${what}: ${errnoWords(e)}.`);
  }
}

/**
 * An imported file's text, for the compiler's `readSource`. Its error names the path and why it cannot
 * be read; the compiler adds which import it was, at that import's line.
 */
export function readImport(file: string): string {
  try {
    return readSource(file, 'it');
  } catch (e) {
    throw new TlcError((e as Error).message.replace(`${file}: cannot read it: `, `${file}: `));
  }
}
