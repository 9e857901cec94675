// Tensors that outlive a graph run: device values the host program holds and later graphs read.
//
// A value is a buffer, a shape and a dtype. Three kinds of buffer hold them:
// - a pooled buffer, taken from BufferPool when a graph keeps an output, and given back when no host
//   variable and no executor's last outputs refer to it any more (collect, before each graph run);
// - a row cache: an output of an incremental graph whose leading dim is the sequence lives in a
//   buffer sized to the context, and each run writes only its new rows there; the value also
//   carries the token ids its rows stand for (`history`), so the next graph can run on new rows;
// - a growable buffer: `concat(h, rows, 0)` on a value that ends its buffer's written part writes
//   the new rows in place (preallocated to the context, doubled when full), never copying h whole.
import type { DType } from '../compiler/ir.ts';
import { TlcError } from './errors.ts';

export const STORAGE = 0x80 | 0x8 | 0x4; // GPUBufferUsage.STORAGE | COPY_DST | COPY_SRC (the globals load late in Node)

/** Rows of the sequence, written a few at a time at their positions. */
export class RowCache {
  /** pos0 of every run so far: a value of n rows made at run v stays valid while no later run starts below n. */
  private starts: number[] = [];

  constructor(readonly buffer: GPUBuffer, readonly rowBytes: number, readonly capacity: number) {}

  get version(): number {
    return this.starts.length;
  }

  /** Records a run that writes rows from pos0 on; returns the new version. */
  wrote(pos0: number): number {
    this.starts.push(pos0);
    return this.starts.length;
  }

  valid(version: number, rows: number): boolean {
    for (let v = version; v < this.starts.length; v++) if (this.starts[v] < rows) return false;
    return true;
  }
}

/** A buffer that a chain of concats fills from the front; `used` rows are taken. */
export interface GrowBuffer {
  buffer: GPUBuffer;
  rowBytes: number;
  capacity: number; // rows
  used: number; // rows written so far; a value of fewer rows can no longer append in place
}

export class DeviceValue {
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: number[],
    readonly dtype: DType,
    /** Set when the leading dim is the sequence of an incremental graph. */
    readonly rows?: { history?: number[]; cache?: RowCache; version?: number },
    readonly grow?: GrowBuffer,
  ) {}

  get bytes(): number {
    return this.shape.reduce((a, b) => a * b, 1) * 4;
  }

  /** Fails loudly rather than read rows a later run overwrote. */
  check(what: string): void {
    const r = this.rows;
    if (r?.cache && !r.cache.valid(r.version!, this.shape[0])) {
      throw new TlcError(`${what}: this tensor's rows were overwritten by a later run of the graph that made it (a value kept from an earlier step of a changed sequence); compute it again here`);
    }
  }

  toString(): string {
    return `<tensor [${this.shape.join(', ')}]>`;
  }
}

/** Buffers for kept outputs, reused by size class once nothing refers to their values. */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private owner = new Map<GPUBuffer, number>(); // buffer in use -> its size class

  constructor(private device: GPUDevice) {}

  /** A buffer of at least `bytes` (sizes round up to a power of two, so reuse is likely). */
  take(bytes: number): GPUBuffer {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
    const b = this.free.get(size)?.pop() ?? this.device.createBuffer({ size, usage: STORAGE, label: `value ${size}` });
    this.owner.set(b, size);
    return b;
  }

  /** Gives back every taken buffer that no live value holds. */
  collect(live: Iterable<DeviceValue>): void {
    const held = new Set<GPUBuffer>();
    for (const v of live) held.add(v.buffer);
    for (const [b, size] of this.owner) {
      if (held.has(b)) continue;
      this.owner.delete(b);
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(b);
    }
  }

  destroy(): void {
    for (const b of this.owner.keys()) b.destroy();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.owner.clear();
    this.free.clear();
  }
}

/** Every device value inside a host value (lists nest). */
export function* deviceValues(v: unknown): Iterable<DeviceValue> {
  if (v instanceof DeviceValue) yield v;
  else if (Array.isArray(v)) for (const x of v) yield* deviceValues(x);
}
