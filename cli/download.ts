// One file from the hub into the cache, so that the cache never holds a part of a file:
//
// - the bytes go to a hidden .NAME.<version>.partial beside the target, renamed over NAME only once
//   the size (and the SHA-256, when the hub gives the LFS oid) is right;
// - an interrupted download (a dropped connection, Ctrl-C, a full disk) keeps its .partial, and the
//   next attempt asks for the rest with a Range request; a dropped connection is retried at once a
//   few times while it makes progress. The version (the LFS oid or git oid) is in the partial's name,
//   so bytes of an older version of the file are never continued;
// - a .NAME.lock with the pid keeps two tlc processes from writing one partial.
//
// Why fetch and not @huggingface/hub's downloadFile: its Blob's stream() reports an HTTP error as a
// bare message (the status is lost, and with it "gated: set HF_TOKEN"), and it does not check that the
// server honoured the Range (206 and its Content-Range), which appending to a partial file relies on.
// The library still does the listing that gives the size and checksum (cli/hub.ts).
import { closeSync, createReadStream, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, statfsSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { TlcError } from '../runtime/errors.ts';
import { errnoWords } from './files.ts';
import { formatBytes, progressLine } from './progress.ts';

export interface DownloadSpec {
  url: string; // the resolve URL
  dest: string; // the file in the cache
  size: number; // from the listing
  sha256?: string; // the LFS oid, when the file is in LFS
  version: string; // what identifies this content (the LFS oid or the git oid)
  token?: string;
  label: string; // hf:OWNER/REPO/FILE, for messages
}

/** Tries per download when a connection drops after some progress (each resumes where the last stopped). */
const TRIES = 3;
/** No byte for this long: the connection is given up (and kept for resuming). */
const STALL_MS = Number(process.env.TLC_DOWNLOAD_STALL_MS) || 60_000;

export async function download(spec: DownloadSpec, say: (m: string) => void): Promise<void> {
  const dir = path.dirname(spec.dest), name = path.basename(spec.dest);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new TlcError(`cannot make the cache folder ${dir}: ${errnoWords(e)}.`);
  }
  const partial = path.join(dir, `.${name}.${spec.version.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'v'}.partial`);
  const release = lock(path.join(dir, `.${name}.lock`), spec.label);
  try {
    removeOtherPartials(dir, name, partial);
    await fetchInto(spec, partial, say);
    renameSync(partial, spec.dest);
  } finally {
    release();
  }
}

async function fetchInto(spec: DownloadSpec, partial: string, say: (m: string) => void): Promise<void> {
  let fd: number;
  try {
    fd = openSync(partial, 'a+');
  } catch (e) {
    throw new TlcError(`cannot write to the cache (${path.dirname(partial)}): ${errnoWords(e)}.`);
  }
  try {
    let have = statSync(partial).size;
    if (have > spec.size) {
      ftruncateSync(fd, 0);
      have = 0;
    }
    let hash = createHash('sha256');
    if (have) await hashFile(partial, have, hash);
    checkSpace(path.dirname(partial), spec.size - have, spec.label);
    say(have ? `tlc: resuming ${spec.label} at ${formatBytes(have)} of ${formatBytes(spec.size)}` : `tlc: downloading ${spec.label} (${formatBytes(spec.size)})`);

    const started = Date.now(), startedAt = have;
    const show = process.stderr.isTTY ? progressLine(spec.label, spec.size, startedAt) : undefined;
    for (let attempt = 1; have < spec.size; attempt++) {
      const before = have;
      try {
        have = await fetchRange(spec, fd, have, hash, show);
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        have = e.have;
        if (have > before && attempt < TRIES) continue; // progress, then a drop: ask for the rest
        show?.(have, true);
        throw new TlcError(`the download of ${spec.label} was interrupted at ${formatBytes(have)} of ${formatBytes(spec.size)} (${e.why}); run the command again to resume it.`);
      }
      if (have === -1) {
        // The server would send the whole file again (it ignored the Range): start the partial over.
        ftruncateSync(fd, 0);
        have = 0;
        hash = createHash('sha256');
      }
    }
    show?.(have, true);
    fsyncSync(fd);
    const digest = hash.digest('hex');
    if (spec.sha256 && digest !== spec.sha256.toLowerCase()) {
      closeSync(fd);
      fd = -1;
      unlinkSync(partial);
      throw new TlcError(`the download of ${spec.label} is corrupt: its SHA-256 is ${digest}, the hub says ${spec.sha256}; it was removed; run the command again.`);
    }
    const secs = (Date.now() - started) / 1000;
    say(`tlc: downloaded ${spec.label} (${formatBytes(spec.size - startedAt)} in ${secs.toFixed(1)} s${spec.sha256 ? ', SHA-256 checked' : ''})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A connection that ended before the file did; `have` bytes are in the partial. */
class Interrupted extends Error {
  constructor(readonly have: number, readonly why: string) {
    super(why);
  }
}

/**
 * Appends bytes from `have` on to the partial; returns the new length, or -1 when the server sent
 * the whole file instead of the range asked for. HTTP errors are TlcErrors in words.
 */
async function fetchRange(spec: DownloadSpec, fd: number, have: number, hash: Hash, show?: (done: number) => void): Promise<number> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), STALL_MS);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), STALL_MS);
  };
  try {
    let res: Response;
    try {
      res = await fetch(spec.url, {
        headers: { ...(have ? { Range: `bytes=${have}-` } : {}), ...(spec.token ? { Authorization: `Bearer ${spec.token}` } : {}) },
        signal: abort.signal,
      });
    } catch (e) {
      if (abort.signal.aborted) throw new Interrupted(have, `no answer for ${STALL_MS / 1000} s`);
      throw new TlcError(`cannot reach ${new URL(spec.url).origin} to download ${spec.label}: ${netWords(e)}.`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TlcError(httpWords(res.status, spec.label, !!spec.token));
    }
    if (have) {
      if (res.status === 200) {
        await res.body?.cancel();
        return -1;
      }
      const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
      if (start !== have) {
        await res.body?.cancel();
        throw new TlcError(`the hub answered the request for ${spec.label} from byte ${have} with ${res.headers.get('content-range') ?? 'no Content-Range'}; remove ${spec.dest} partials and run again.`);
      }
    }
    if (!res.body) throw new Interrupted(have, 'an empty answer');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        alive();
        if (have + chunk.length > spec.size) throw new TlcError(`the hub sent more than the ${formatBytes(spec.size)} its listing gives for ${spec.label}; run again later.`);
        writeAll(fd, chunk, spec.label);
        hash.update(chunk);
        have += chunk.length;
        show?.(have);
      }
    } catch (e) {
      if (e instanceof TlcError) throw e;
      throw new Interrupted(have, abort.signal.aborted ? `no data for ${STALL_MS / 1000} s` : netWords(e));
    }
    if (have < spec.size) throw new Interrupted(have, 'the connection closed early');
    return have;
  } finally {
    clearTimeout(timer);
  }
}

function writeAll(fd: number, bytes: Uint8Array, label: string): void {
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const again = code === 'ENOSPC' || code === 'EDQUOT' ? '; free some space and run the command again to resume it' : '';
    throw new TlcError(`${errnoWords(e)} writing the download of ${label} into the cache${again}.`);
  }
}

/** The SHA-256 of the first `n` bytes of a partial, so that a resumed download is checked whole. */
function hashFile(file: string, n: number, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(file, { start: 0, end: n - 1 })
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve())
      .on('error', (e) => reject(new TlcError(`cannot read the partial download ${file}: ${errnoWords(e)}.`)));
  });
}

/** Refuses up front a download that cannot fit, rather than failing at 90%. */
function checkSpace(dir: string, need: number, label: string): void {
  let free: number;
  try {
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    return; // no statfs here: the write will say
  }
  if (free < need) throw new TlcError(`not enough disk space for ${label}: it needs ${formatBytes(need)}, ${dir} has ${formatBytes(free)} free.`);
}

/** Takes `file` as a lock (O_EXCL with our pid); a lock whose process is gone is taken over. */
function lock(file: string, label: string): () => void {
  for (let tries = 0; ; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try { unlinkSync(file); } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) throw new TlcError(`cannot lock ${file} for the download of ${label}: ${errnoWords(e)}.`);
    }
    const pid = Number(readText(file));
    if (pid && pid !== process.pid && alive(pid)) throw new TlcError(`another tlc (pid ${pid}) is downloading ${label}; wait for it to finish.`);
    try { unlinkSync(file); } catch { /* someone else took it over; try again */ }
  }
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Partials of other versions of this file: the file changed on the hub, so their bytes are useless. */
function removeOtherPartials(dir: string, name: string, keep: string): void {
  for (const f of readdirSync(dir)) {
    if (f.startsWith(`.${name}.`) && f.endsWith('.partial') && path.join(dir, f) !== keep) {
      try { unlinkSync(path.join(dir, f)); } catch { /* gone */ }
    }
  }
}

/** An HTTP status of the hub in words, with what to do. */
export function httpWords(status: number, label: string, hasToken: boolean): string {
  if (status === 401 || status === 403) {
    return hasToken
      ? `${label}: the hub refused the download (${status}): your HF_TOKEN has no access to it; if the repository is gated, accept its terms on its page on the hub.`
      : `${label}: the hub refused the download (${status}): the repository is gated or private; accept its terms on the hub and set HF_TOKEN to an access token (hf_...).`;
  }
  if (status === 404) return `${label}: not found on the hub (404).`;
  if (status === 416) return `${label}: the hub refused the byte range asked for (416); remove the partial download and run again.`;
  if (status === 429) return `${label}: the hub is limiting requests (429); wait a little and run again.`;
  return `${label}: the hub answered ${status}${status >= 500 ? ' (a server error); run again later' : ''}.`;
}

/** A network failure (fetch's TypeError and its cause) in words. */
export function netWords(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  switch (cause?.code) {
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the host name does not resolve (no network?)';
    case 'ECONNREFUSED': return 'the connection was refused';
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'the connection was reset';
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': return 'the connection timed out';
    case 'ENETUNREACH': case 'EHOSTUNREACH': return 'the network is unreachable';
  }
  return cause?.message ?? (e as Error)?.message ?? String(e);
}
