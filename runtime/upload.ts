// Streams tensor data from a GGUF file to GPU buffers, a piece at a time: a 2 GB model never sits
// whole in JS memory. A tensor larger than one storage binding is split by whole rows into chunks.
import { checked } from './device.ts';
import { assertSupported, GgufError, rowBytes, type GgufFile, type GgufTensorInfo } from './gguf.ts';
import { rowCount, type WeightChunk, type WeightTensor } from './weights.ts';
import { isSplit, toGpuLayout } from './weight-layout.ts';

export interface UploadOptions {
  /** Largest buffer per chunk; default the device's maxStorageBufferBindingSize (and maxBufferSize). */
  maxChunkBytes?: number;
  /** Bytes read from the source per writeBuffer call (default 16 MiB). */
  pieceBytes?: number;
  /** Called after each piece with the bytes uploaded so far and the total. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const PIECE_BYTES = 16 << 20;
// Wait for the queue every so often, so that Dawn's staging copies of written pieces get freed.
const FLUSH_BYTES = 64 << 20;

export async function uploadTensor(device: GPUDevice, file: GgufFile, info: GgufTensorInfo, opts: UploadOptions = {}): Promise<WeightTensor> {
  return (await uploadAll(device, file, [info], opts))[0];
}

/** Uploads the named tensors; progress counts all of them together. */
export async function uploadWeights(device: GPUDevice, file: GgufFile, names: string[], opts: UploadOptions = {}): Promise<Map<string, WeightTensor>> {
  const infos = names.map((name) => {
    const info = file.tensor(name);
    if (!info) throw new GgufError(`${file.source.name}: the model has no tensor named ${name}.`);
    return info;
  });
  const tensors = await uploadAll(device, file, infos, opts);
  return new Map(tensors.map((t) => [t.name, t]));
}

async function uploadAll(device: GPUDevice, file: GgufFile, infos: GgufTensorInfo[], opts: UploadOptions): Promise<WeightTensor[]> {
  for (const info of infos) assertSupported(file, info); // before allocating anything
  const total = infos.reduce((a, t) => a + t.byteLength, 0);
  const progress = { done: 0, sinceFlush: 0 };
  const out: WeightTensor[] = [];
  try {
    for (const info of infos) out.push(await upload(device, file, info, total, progress, opts));
  } catch (e) {
    for (const c of out.flatMap((t) => t.chunks)) c.buffer.destroy();
    throw e;
  }
  return out;
}

async function upload(
  device: GPUDevice, file: GgufFile, info: GgufTensorInfo, total: number,
  progress: { done: number; sinceFlush: number }, opts: UploadOptions,
): Promise<WeightTensor> {
  const maxChunk = opts.maxChunkBytes ?? Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const bytesPerRow = rowBytes(info);
  const rows = rowCount(info.shape);
  const K = info.shape[0];
  // writeBuffer offsets are multiples of 4; a split layout (weight-layout.ts) is made row by row,
  // so its pieces are whole rows (which are then multiples of 16 bytes).
  const pieceBytes = isSplit(info.type, K)
    ? Math.max(1, Math.floor((opts.pieceBytes ?? PIECE_BYTES) / bytesPerRow)) * bytesPerRow
    : Math.max(4, Math.floor((opts.pieceBytes ?? PIECE_BYTES) / 4) * 4);
  // Chunks end on row boundaries. A row's bytes may be odd (Q8_0: 34 per block) and buffers are padded
  // to 4 bytes, which still fits when the limit is itself rounded down to 4.
  const rowsPerChunk = Math.floor((maxChunk - (maxChunk % 4)) / bytesPerRow);
  if (rowsPerChunk < 1) {
    throw new GgufError(`${file.source.name}: tensor ${info.name} has rows of ${bytesPerRow} bytes, more than one GPU buffer may hold (${maxChunk}).`);
  }

  const chunks: WeightChunk[] = [];
  try {
    for (let rowStart = 0; rowStart < rows; rowStart += rowsPerChunk) {
      const chunkRows = Math.min(rowsPerChunk, rows - rowStart);
      const bytes = chunkRows * bytesPerRow;
      const buffer = await checked(device, `allocating ${bytes} bytes for tensor ${info.name}`, () => device.createBuffer({
        label: chunks.length ? `${info.name}#${chunks.length}` : info.name,
        size: align4(bytes),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      }));
      chunks.push({ buffer, rowStart, rows: chunkRows });
      const start = info.offset + rowStart * bytesPerRow;
      for (let at = 0; at < bytes; at += pieceBytes) {
        const n = Math.min(pieceBytes, bytes - at);
        const piece = await file.source.read(start + at, n);
        if (piece.length !== n) {
          throw new GgufError(`${file.source.name}: tensor ${info.name} ends early: read ${piece.length} of ${n} bytes at offset ${start + at}.`);
        }
        device.queue.writeBuffer(buffer, at, padTo4(toGpuLayout(info.type, K, piece)));
        progress.done += n;
        progress.sinceFlush += n;
        if (progress.sinceFlush >= FLUSH_BYTES) {
          progress.sinceFlush = 0;
          device.queue.submit([]); // sends the pending writes
          await device.queue.onSubmittedWorkDone();
        }
        opts.onProgress?.(progress.done, total);
      }
    }
  } catch (e) {
    for (const c of chunks) c.buffer.destroy(); // give back what a failed load took
    throw e;
  }
  return { name: info.name, type: info.type, shape: info.shape, chunks };
}

function align4(n: number): number {
  return Math.max(4, Math.ceil(n / 4) * 4);
}

/** writeBuffer wants a multiple of 4 bytes; only a tensor's last piece may need padding. */
function padTo4(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteLength % 4 === 0 && bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(align4(bytes.byteLength));
  out.set(bytes);
  return out;
}
