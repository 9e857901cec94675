// Files the CLI reads and writes, with errors in words.
//
// Reading: a model, an artifact or a source must be a regular file; a directory is an error and a
// FIFO (or a device) is refused before it is opened, since opening a FIFO waits for a writer.
//
// Writing: every file tlc writes (artifacts, the last-build pointer, synthetic GGUFs) goes to a
// temporary file beside it, is flushed to disk, and is renamed over the old one. A reader sees the old
// file or the new one, never a part; two writers to one path leave one whole file; a failed write
// (a full disk) leaves the old file as it was and no temporary file behind.
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { TlcError } from '../runtime/errors.ts';

/** What a file that is not a regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Why an fs call failed, in words: "no such file", "permission denied", "disk full (ENOSPC)", ... */
export function errnoWords(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'disk full (ENOSPC)';
    case 'EDQUOT': return 'disk quota exceeded (EDQUOT)';
    case 'EROFS': return 'read-only file system';
    case 'ENOTDIR': return 'a part of the path is a file, not a directory';
    case 'EISDIR': return 'it is a directory';
    case 'EEXIST': return 'it already exists';
    case 'ENAMETOOLONG': return 'the name is too long';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    case 'EIO': return 'input/output error (EIO)';
    case 'EFBIG': return 'the file is too large for this file system (EFBIG)';
    case 'ELOOP': return 'too many symbolic links';
    default: return err?.code ? `${String(err.message ?? err.code).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')} (${err.code})` : String((e as Error)?.message ?? e);
  }
}

/**
 * Checks that `file` is a regular file that can be opened, before opening it: a TlcError naming `what`
 * ("the model", "the artifact") otherwise.
 */
export function requireFile(file: string, what: string): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new TlcError(`${file}: cannot read ${what}: ${errnoWords(e)}.`);
  }
  if (!st.isFile()) throw new TlcError(`${file}: cannot read ${what}: it is ${kindOf(st)}, not a file.`);
}

/** The file's contents: a Uint8Array or string to write, or a writer that writes them to an open fd. */
export type Contents = string | Uint8Array | ((fd: number) => void);

/**
 * Writes `file` atomically: to a temporary file in the same directory (created with it), flushed,
 * then renamed over `file`. On any failure the temporary file is removed, `file` keeps what it had,
 * and the TlcError says what failed: "disk full (ENOSPC) writing build/x.tlc.json",
 * "cannot write /x/y: permission denied".
 */
export function atomicWrite(file: string, contents: Contents): void {
  const dir = path.dirname(path.resolve(file));
  // The target: a regular file or nothing. A directory, FIFO or device is never replaced.
  let old: Stats | undefined;
  try {
    old = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new TlcError(`cannot write ${file}: ${notDirIn(dir)}, not a directory.`);
    if (code !== 'ENOENT') throw new TlcError(`cannot write ${file}: ${errnoWords(e)}.`);
  }
  if (old && !old.isFile()) throw new TlcError(`cannot write ${file}: it is ${kindOf(old)}, not a file; give another path.`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new TlcError(`cannot write ${file}: ${notDirIn(dir)}, not a directory.`);
    throw new TlcError(`cannot write ${file}: cannot make the directory ${dir}: ${errnoWords(e)}.`);
  }

  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  let stage = 'create';
  try {
    fd = openSync(tmp, 'wx', 0o666);
    if (old) fchmodSync(fd, old.mode & 0o7777); // the new file keeps the old one's permissions
    stage = 'write';
    if (typeof contents === 'function') contents(fd);
    else {
      const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 26));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    stage = 'rename';
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { unlinkSync(tmp); } catch { /* never made, or already gone */ }
    if (e instanceof TlcError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (stage === 'create' && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) throw new TlcError(`cannot write ${dir}: ${errnoWords(e)}.`);
    const kept = old ? '; the old file is left as it was' : '';
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' || code === 'EIO') throw new TlcError(`${errnoWords(e)} writing ${file}${kept}.`);
    if (code) throw new TlcError(`cannot write ${file}: ${errnoWords(e)}${kept}.`);
    throw e; // a writer's own error (not the file system's)
  }
}

/** "X is a file": the first ancestor of `dir` that exists and is not a directory (for an ENOTDIR message). */
function notDirIn(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const st = statSync(d);
      if (!st.isDirectory()) return `${d} is ${st.isFile() ? 'a file' : kindOf(st)}`;
    } catch { /* keep going up */ }
    if (path.dirname(d) === d) return `a part of ${dir} is not a directory`;
  }
}
