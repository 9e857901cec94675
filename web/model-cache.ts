// Models kept in the browser, in the origin private file system (OPFS), so that a reload or a later
// visit reads the model from disk instead of downloading it again. A model is written in pieces (one
// Range request each, never whole in memory) to tlc-models/<id>.gguf; index.json lists the complete
// ones, so a download cut short is never taken for a model.
import { blobSource, type ByteSource } from './lib.ts';

const DIR = 'tlc-models';
const PIECE = 8 * 1024 * 1024;

export interface SavedModel {
  id: string;
  /** The absolute URL the bytes came from. */
  url: string;
  /** What the user gave: a URL as typed, or an hf: reference. */
  ref: string;
  name: string;
  size: number;
  /** The server's ETag or Last-Modified at download: a different one means the file changed. */
  version?: string;
  savedAt: number;
}

export function cacheAvailable(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function' && Boolean(globalThis.crypto?.subtle);
}

async function dir(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
}

async function readIndex(d: FileSystemDirectoryHandle): Promise<SavedModel[]> {
  try {
    const list = JSON.parse(await (await (await d.getFileHandle('index.json')).getFile()).text());
    return Array.isArray(list) ? list : [];
  } catch {
    return []; // none yet, or unreadable: start again
  }
}

async function writeIndex(d: FileSystemDirectoryHandle, list: SavedModel[]): Promise<void> {
  const w = await (await d.getFileHandle('index.json', { create: true })).createWritable();
  await w.write(JSON.stringify(list));
  await w.close();
}

export async function listSaved(): Promise<SavedModel[]> {
  if (!cacheAvailable()) return [];
  return readIndex(await dir());
}

/** The saved model for a URL (or, when the server cannot be asked, for what the user typed). */
export async function findSaved(by: { url?: string; ref: string }): Promise<SavedModel | undefined> {
  const list = await listSaved();
  return list.find((m) => m.url === by.url) ?? (by.url ? undefined : list.find((m) => m.ref === by.ref));
}

/** A saved model's bytes, read from disk; undefined when its file is gone or cut short. */
export async function openSaved(m: SavedModel, name = m.ref): Promise<ByteSource | undefined> {
  try {
    const file = await (await (await dir()).getFileHandle(`${m.id}.gguf`)).getFile();
    return file.size === m.size ? blobSource(file, name) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a model of `size` bytes cannot be kept here, or undefined when it can. */
export async function noRoomFor(size: number): Promise<string | undefined> {
  if (!cacheAvailable()) return 'this browser has no origin private file system';
  const { quota, usage } = await navigator.storage.estimate().catch(() => ({ quota: undefined, usage: undefined }));
  if (quota === undefined) return undefined;
  const free = quota - (usage ?? 0);
  return size * 1.05 > free ? `it needs ${size} bytes and the browser allows this site ${Math.max(0, Math.floor(free))} more` : undefined;
}

/** Downloads `source` into the cache, piece by piece, and gives the saved copy to read from. */
export async function save(
  source: ByteSource & { version?: string }, meta: { url: string; ref: string },
  onProgress: (done: number, total: number) => void,
): Promise<ByteSource> {
  const d = await dir();
  const id = await idOf(meta.url);
  await remove(id); // an older copy of the same URL
  void navigator.storage.persist?.().catch(() => false); // ask the browser not to evict it; fine if it says no
  const handle = await d.getFileHandle(`${id}.gguf`, { create: true });
  const w = await handle.createWritable();
  try {
    for (let offset = 0; offset < source.size; offset += PIECE) {
      const piece = await source.read(offset, Math.min(PIECE, source.size - offset));
      await w.write(piece as Uint8Array<ArrayBuffer>);
      onProgress(offset + piece.length, source.size);
    }
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    await d.removeEntry(`${id}.gguf`).catch(() => {});
    throw e;
  }
  const saved: SavedModel = { id, url: meta.url, ref: meta.ref, name: source.name, size: source.size, version: source.version, savedAt: Date.now() };
  await writeIndex(d, [...(await readIndex(d)).filter((m) => m.id !== id), saved]);
  const copy = await openSaved(saved, source.name);
  if (!copy) throw new Error(`${source.name}: the copy saved in this browser could not be read back`);
  return copy;
}

export async function remove(id: string): Promise<void> {
  if (!cacheAvailable()) return;
  const d = await dir();
  await writeIndex(d, (await readIndex(d)).filter((m) => m.id !== id));
  await d.removeEntry(`${id}.gguf`).catch(() => {});
}

export async function clearSaved(): Promise<void> {
  if (!cacheAvailable()) return;
  await (await navigator.storage.getDirectory()).removeEntry(DIR, { recursive: true }).catch(() => {});
}

async function idOf(url: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(url)));
  return [...hash.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
