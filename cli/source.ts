import { readFileSync, existsSync } from 'node:fs';
import { TlcError } from '../runtime/errors.ts';

export function readSource(file: string): string {
  if (!existsSync(file)) throw new TlcError(`${file}: no such file`);
  return readFileSync(file, 'utf8');
}
