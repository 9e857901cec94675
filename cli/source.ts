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
