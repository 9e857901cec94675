// Node only: open a GGUF file on disk.
import { fileSource } from './file.ts';
import { readGguf, type GgufFile } from '../gguf.ts';
import { TlcError } from '../errors.ts';

export async function openGguf(path: string): Promise<GgufFile> {
  let source;
  try {
    source = await fileSource(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new TlcError(`${path}: cannot open the model: ${why}.`);
  }
  try {
    return await readGguf(source);
  } catch (e) {
    await source.close?.();
    throw e;
  }
}
