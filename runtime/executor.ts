// Runs one device graph: plans its buffers, turns each node into kernel dispatches (codegen),
// records them in one compute pass, submits once, and reads back only what the host needs.
//
// Buffers are planned once per distinct set of dims and reused: node buffers share slots by
// liveness, and a slot only grows when a longer sequence needs it (rarely, never per token).
import type { Graph, Node } from '../compiler/ir.ts';
import { bindDims, product } from '../compiler/shapes.ts';
import { tooBig } from '../compiler/passes/check-limits.ts';
import { dispatchesFor, isView, type NodeContext } from '../compiler/codegen/dispatch.ts';
import type { Binding, Dispatch, KernelRunner } from './kernels.ts';
import { align } from './kernels.ts';
import type { WeightTensor } from './weights.ts';
import { GGMLQuantizationType } from '@huggingface/gguf';
import { DeviceError } from './device.ts';
import { TlcError } from './errors.ts';
import { BufferPool, DeviceValue, RowCache, STORAGE, type GrowBuffer } from './device-value.ts';
import type { Profiler } from './profile.ts';

/** Rows of a long prompt read per graph run: Stop and progress come between chunks. */
export const PREFILL_CHUNK = 64;

export type InputValue = number | number[] | DeviceValue;
export type OutputValue = number | number[] | DeviceValue;

export interface ExecutorOptions {
  /** Most positions a KV cache holds: the prompt plus generated tokens must fit. */
  ctx: number;
  /** Where kept outputs (device values for later graphs) get their buffers; shared by a program's graphs. */
  pool?: BufferPool;
  /** Rows of a long prompt per graph run (default PREFILL_CHUNK). */
  prefillChunk?: number;
}

interface KvCache {
  k: GPUBuffer; // (ctx, n_kv_head, head_dim) f32, or f16 pairs
  v: GPUBuffer; // (ctx, n_kv_head, head_dim) f32, or f16 pairs
  rows: number; // capacity in positions
}

export class GraphExecutor {
  private slots: GPUBuffer[] = []; // shared activation buffers, by liveness
  private consts = new Map<number, GPUBuffer>();
  private inputBufs = new Map<number, GPUBuffer>();
  private kv = new Map<number, KvCache>();
  private uniforms?: GPUBuffer; // every dispatch's Params, 256-byte aligned, one write per call
  private staging?: GPUBuffer;
  private prevIds?: number[]; // token ids of the last call, for the incremental (KV-cached) path
  private values: OutputValue[] = [];
  private rowCaches = new Map<number, RowCache>(); // output node -> its rows, for incremental graphs
  private grown = new Map<number, GrowBuffer>(); // kept concat node -> the buffer it fills (this run)
  private appended = new Set<number>(); // kept concat nodes whose first operand is already in place (this run)
  private pool: BufferPool;
  private embeddingsOf = new Map<number, Node[]>(); // ids input node -> the embedding nodes that read it
  private lastUse: number[];
  /** Rows actually computed by the last call (the new tokens when the KV cache was used). */
  lastRows = 0;
  /** Length of the sequence the last call saw (its longest ids input, or all rows of an incremental graph). */
  lastSeq = 0;
  /** Set by the program for a profiled run: each dispatch then gets a timed pass of its own (runtime/profile.ts). */
  profiler?: Profiler;

  constructor(
    private runner: KernelRunner,
    readonly graph: Graph,
    private weights: Map<string, WeightTensor>,
    private opts: ExecutorOptions,
  ) {
    // A view lives as long as the last user of anything that reads through it.
    this.lastUse = graph.nodes.map((n) => n.id);
    for (const n of [...graph.nodes].reverse()) {
      for (const a of n.args) this.lastUse[a] = Math.max(this.lastUse[a], this.lastUse[n.id]);
    }
    // An output lives past the run, and so does the node an output view reads (reshape(sum(x, 1), [n, 1])).
    for (const o of graph.outputs) {
      for (let n = graph.nodes[o.node]; ; n = graph.nodes[n.args[0]]) {
        this.lastUse[n.id] = Infinity;
        if (!isView(n)) break;
      }
    }
    this.pool = opts.pool ?? new BufferPool(runner.device);
    for (const n of graph.nodes) if (n.op === 'embedding') this.embeddingsOf.set(n.args[1], [...(this.embeddingsOf.get(n.args[1]) ?? []), n]);
  }

  output(i: number): OutputValue {
    return this.values[i];
  }

  /** The device values of the last run, which stay alive until the next. */
  liveValues(): DeviceValue[] {
    return this.values.filter((v): v is DeviceValue => v instanceof DeviceValue);
  }

  /**
   * Runs the graph. A long prompt on an incremental graph whose rows come from token ids is read in
   * chunks of PREFILL_CHUNK rows, each a run on a longer prefix of the ids (the KV cache keeps what
   * the last read): `onRows` hears of each, and a stopped `signal` ends the reading between chunks.
   */
  async run(dimsIn: Record<string, number>, inputsIn: InputValue[], opts: { signal?: AbortSignal; onRows?(done: number, total: number): void } = {}): Promise<void> {
    const inc = this.graph.incremental;
    const ids = inc?.sources.map((i) => inputsIn[i]);
    if (inc && ids!.every((v) => Array.isArray(v))) {
      const n = dimsIn[inc.seqDim];
      const done = Math.min(...ids!.map((v) => commonPrefix(this.prevIds, v as number[])));
      const chunk = this.opts.prefillChunk ?? PREFILL_CHUNK;
      for (let end = done + chunk; end < n && n <= this.opts.ctx; end += chunk) {
        if (opts.signal?.aborted) return;
        const prefix = inputsIn.map((v, i) => (inc.sources.includes(i) ? (v as number[]).slice(0, end) : v));
        await this.runOnce({ ...dimsIn, [inc.seqDim]: end }, prefix);
        opts.onRows?.(end, n);
      }
      if (opts.signal?.aborted) return;
      await this.runOnce(dimsIn, inputsIn);
      if (n - done > chunk) {
        this.lastRows = n - done; // the whole prompt, for the tok/s of its reading
        opts.onRows?.(n, n);
      }
      return;
    }
    await this.runOnce(dimsIn, inputsIn);
  }

  private async runOnce(dimsIn: Record<string, number>, inputsIn: InputValue[]): Promise<void> {
    const g = this.graph;
    const dims = { ...dimsIn };
    let inputs = inputsIn;
    this.bindTensorDims(inputs, dims);
    for (const [a, b] of g.sameDims ?? []) {
      const [x, y] = bindDims([a, b], dims);
      if (x !== y) throw new TlcError(`${g.name}: the sizes ${a} (${x}) and ${b} (${y}) are used as one size, and differ`);
    }

    // An incremental graph runs on the rows its sources did not share with the last run.
    let pos0 = 0;
    let history: number[] | undefined;
    const inc = g.incremental;
    if (inc) {
      const n = dims[inc.seqDim];
      if (n > this.opts.ctx) {
        throw new TlcError(`The prompt and the generated tokens (${n}) are longer than the context (${this.opts.ctx} tokens); shorten the prompt or raise --ctx.`);
      }
      const histories = inc.sources.map((i) => {
        const v = inputs[i];
        return Array.isArray(v) ? v : v instanceof DeviceValue ? v.rows?.history : undefined;
      });
      history = histories.every((h) => h !== undefined) ? histories[0] : undefined;
      pos0 = Math.min(n, ...histories.map((h) => (h ? commonPrefix(this.prevIds, h) : 0)));
      pos0 = Math.max(0, Math.min(pos0, n - 1));
      this.prevIds = history?.slice();
      dims[inc.seqDim] = n - pos0;
      inputs = inputs.slice();
      for (const i of inc.sources) if (Array.isArray(inputs[i])) inputs[i] = (inputs[i] as number[]).slice(pos0);
    }
    this.lastRows = inc ? dims[inc.seqDim] : 0;
    this.lastSeq = inc ? pos0 + dims[inc.seqDim] : Math.max(0, ...inputs.map((v) => (Array.isArray(v) ? v.length : 0)));

    const shapes = g.nodes.map((n) => bindDims(n.shape, dims));
    // Buffers fixed before planning (views of them must see them): tensor inputs, growing concats.
    const fixed = new Map<number, GPUBuffer>();
    const enc = this.runner.device.createCommandEncoder();
    this.bindTensorInputs(inputs, fixed, shapes, enc, pos0);
    this.planAppends(inputs, fixed, shapes);
    const bufs = this.planBuffers(shapes, fixed);
    this.writeInputs(inputs, bufs);

    const scalars = new Map<number, number>();
    g.inputs.forEach((inp, i) => inp.kind === 'scalar' && scalars.set(inp.node, Number(inputs[i])));
    const ctx: NodeContext = {
      nodes: g.nodes,
      shapes,
      dims,
      scalar: (id) => scalars.get(id) ?? ((g.nodes[id].attrs.values as number[] | undefined)?.[0] ?? NaN),
      buf: (id) => bufs[id] ?? this.weightBuffer(g.nodes[id]),
      weight: (id) => this.weightOf(g.nodes[id]),
      pos0,
      kvCache: (id, rows, nKv, headDim, bytes) => this.kvCache(id, pos0 + rows, nKv, headDim, bytes),
      inPlace: (id) => this.appended.has(id),
    };
    const dispatches: Dispatch[] = [];
    const profiled = this.profiler && { profiler: this.profiler, ops: [] as string[] }; // ops: each dispatch's IR op
    const most = this.runner.device.limits.maxComputeWorkgroupsPerDimension;
    for (const n of g.nodes) {
      try {
        for (const d of dispatchesFor(n, ctx)) {
          if (d.workgroups.some((w) => (w ?? 1) > most)) throw new TlcError(`${d.kernel.name} needs [${d.workgroups.join(', ')}] workgroups, more than the adapter's ${most} per dimension`);
          dispatches.push(d);
          profiled?.ops.push(n.op);
        }
      } catch (e) {
        if (e instanceof TlcError) throw new TlcError(`${n.at ?? g.name}: ${n.op}: ${e.message}`);
        throw e;
      }
    }
    await this.submit(enc, dispatches, bufs, shapes, { pos0, history }, profiled);
  }

  /** Binds the symbolic dims of tensor inputs from the values' shapes, checking them against the rest. */
  private bindTensorDims(inputs: InputValue[], dims: Record<string, number>): void {
    const g = this.graph;
    g.inputs.forEach((inp, i) => {
      if (inp.kind !== 'tensor') return;
      const v = inputs[i];
      const n = g.nodes[inp.node];
      const where = n.at ?? g.name;
      if (!(v instanceof DeviceValue)) throw new TlcError(`${where}: expected a tensor here, got ${JSON.stringify(v)}`);
      v.check(where);
      const bad = () => new TlcError(`${where}: a tensor of shape [${n.shape.join(', ')}] (${n.dtype}) is expected here, got [${v.shape.join(', ')}] (${v.dtype})`);
      if (v.shape.length !== n.shape.length || v.dtype !== n.dtype) throw bad();
      n.shape.forEach((d, k) => {
        if (typeof d === 'number') {
          if (d !== v.shape[k]) throw bad();
        } else if (dims[d] === undefined) dims[d] = v.shape[k];
        else if (dims[d] !== v.shape[k]) throw bad();
      });
    });
  }

  /**
   * A kept `concat(h, rows, 0)` writes into a growable buffer: h's own when h ends its written part
   * (then only the new rows are copied), else a new one with room for the context (or twice the rows).
   */
  private planAppends(inputs: InputValue[], fixed: Map<number, GPUBuffer>, shapes: number[][]): void {
    const g = this.graph;
    this.grown.clear();
    this.appended.clear();
    for (const o of g.outputs) {
      const n = g.nodes[o.node];
      if (!o.keep || n.op !== 'concat' || this.grown.has(n.id)) continue;
      const shape = shapes[n.id];
      const rowBytes = product(shape.slice(1)) * 4;
      const first = g.inputs.findIndex((i) => i.kind === 'tensor' && i.node === n.args[0]);
      const h = first >= 0 ? (inputs[first] as DeviceValue) : undefined;
      let grow = h?.grow;
      if (grow && grow.used === h!.shape[0] && grow.capacity >= shape[0] && grow.rowBytes === rowBytes) this.appended.add(n.id);
      else {
        const most = Math.floor(this.runner.device.limits.maxStorageBufferBindingSize / Math.max(4, rowBytes));
        const capacity = Math.min(most, Math.max(2 * shape[0], this.opts.ctx));
        if (capacity < shape[0]) throw new TlcError(`${n.at ?? g.name}: concat: ${shape[0]} rows of ${rowBytes} bytes do not fit in one buffer binding`);
        grow = { buffer: this.pool.take(Math.max(16, capacity * rowBytes)), rowBytes, capacity, used: 0 };
      }
      fixed.set(n.id, grow.buffer);
      this.grown.set(n.id, grow);
    }
  }

  /** Device values are bound as they are, or (the new rows of a sequence) copied. */
  private bindTensorInputs(inputs: InputValue[], fixed: Map<number, GPUBuffer>, shapes: number[][], enc: GPUCommandEncoder, pos0: number): void {
    const sources = new Set(this.graph.incremental?.sources ?? []);
    this.graph.inputs.forEach((inp, i) => {
      if (inp.kind !== 'tensor') return;
      const v = inputs[i] as DeviceValue;
      if (!sources.has(i)) return fixed.set(inp.node, v.buffer);
      // Rows [pos0, n) of a sequence, from the value that holds all n.
      const bytes = product(shapes[inp.node]) * 4;
      const buf = this.inputBuffer(inp.node, bytes);
      fixed.set(inp.node, buf);
      const rowBytes = bytes / Math.max(1, shapes[inp.node][0]);
      if (bytes) enc.copyBufferToBuffer(v.buffer, pos0 * rowBytes, buf, 0, bytes);
    });
  }

  /** Token ids and numbers go to their input buffers. */
  private writeInputs(inputs: InputValue[], bufs: GPUBuffer[]): void {
    const q = this.runner.device.queue;
    this.graph.inputs.forEach((inp, i) => {
      const v = inputs[i];
      if (inp.kind === 'ids') {
        const ids = v as number[];
        this.checkIds(inp.node, ids);
        if (ids.length) q.writeBuffer(bufs[inp.node], 0, new Uint32Array(ids));
      } else if (inp.kind === 'scalar') q.writeBuffer(bufs[inp.node], 0, new Float32Array([Number(v)]));
    });
  }

  /** Token ids the host gives must have a row in every embedding table that reads them. */
  private checkIds(node: number, ids: number[]): void {
    for (const n of this.embeddingsOf.get(node) ?? []) {
      const rows = this.graph.nodes[n.args[0]].shape[0] as number;
      const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= rows);
      if (bad !== undefined) throw new TlcError(`${n.at ?? this.graph.name}: embedding: token id ${bad} is outside the table (0..${rows - 1})`);
    }
  }

  /**
   * Creates every pipeline the graph will use (for one row and for several), so compiling shaders
   * happens when the program loads, not inside the first generation step.
   */
  warm(): void {
    const g = this.graph;
    // Sampling settings that pick the sampling kernel (temperature 1, top_p 1); others 0.
    const warmScalar = new Map<number, number>();
    for (const n of g.nodes) if (n.op === 'sample') [1, 3].forEach((i) => warmScalar.set(n.args[i], 1));
    for (const v of [1, 2]) {
      const shapes = g.nodes.map((n) => bindDims(n.shape, Object.fromEntries(g.dims.map((d) => [d, v]))));
      const fixed = new Map(g.inputs.filter((i) => i.kind === 'tensor').map((i) => [i.node, this.inputBuffer(i.node, product(shapes[i.node]) * 4)]));
      const bufs = this.planBuffers(shapes, fixed);
      const ctx: NodeContext = {
        nodes: g.nodes,
        shapes,
        dims: Object.fromEntries(g.dims.map((d) => [d, 0])),
        scalar: (id) => warmScalar.get(id) ?? 0,
        buf: (id) => bufs[id] ?? this.weightBuffer(g.nodes[id]),
        weight: (id) => this.weightOf(g.nodes[id]),
        pos0: 0,
        kvCache: (id, rows, nKv, headDim, bytes) => this.kvCache(id, rows, nKv, headDim, bytes),
      };
      for (const n of g.nodes) {
        let ds: Dispatch[];
        try {
          ds = dispatchesFor(n, ctx);
        } catch (e) {
          if (e instanceof TlcError) continue; // sizes that only make sense at run time (a slice's bounds)
          throw e;
        }
        for (const d of ds) this.runner.pipeline(d.kernel);
      }
    }
  }

  private weightOf(n: Node): WeightTensor {
    if (n.op !== 'weight') throw new TlcError(`a model weight is needed here, not the result of ${n.op}`);
    const w = this.weights.get(n.attrs.name as string);
    if (!w) throw new TlcError(`the weight ${n.attrs.name} was not loaded`);
    return w;
  }

  /** A weight read as a plain tensor (transpose(W), einsum with W): only an F32 one, in one piece. */
  private weightBuffer(n: Node): GPUBuffer {
    const w = this.weightOf(n);
    if (w.type !== GGMLQuantizationType.F32 || w.chunks.length !== 1) {
      throw new TlcError(`the weight ${w.name} (${GGMLQuantizationType[w.type]}) can only be used by linear, matmul/@ (x @ W or x @ transpose(W)), embedding and rms_norm; other ops read F32 weights only`);
    }
    return w.chunks[0].buffer;
  }

  /** Assigns every non-view node a buffer: constants and inputs their own, the rest shared slots. */
  private planBuffers(shapes: number[][], fixed: Map<number, GPUBuffer>): GPUBuffer[] {
    const g = this.graph;
    const bufs: GPUBuffer[] = new Array(g.nodes.length);
    for (const [node, b] of fixed) bufs[node] = b;
    const slotOf = new Map<number, number>(); // node -> slot
    const need: number[] = []; // bytes each slot must hold
    const busyUntil: number[] = []; // last step at which each slot's holder is used
    const limits = this.runner.device.limits;
    for (const n of g.nodes) {
      const bytes = Math.max(16, product(shapes[n.id]) * 4);
      if (n.op === 'weight' || fixed.has(n.id)) continue;
      if (bytes > limits.maxStorageBufferBindingSize) throw new TlcError(`${n.at ?? g.name}: ${tooBig(n, shapes[n.id], bytes, limits)}`);
      if (n.op === 'const') bufs[n.id] = this.constBuffer(n);
      else if (n.op === 'ids' || n.op === 'scalar') bufs[n.id] = this.inputBuffer(n.id, bytes);
      else if (isView(n)) continue;
      else {
        // The smallest free slot that fits, else the biggest free one (grown), else a new one.
        let best = -1;
        for (let s = 0; s < need.length; s++) {
          if (busyUntil[s] >= n.id) continue;
          const fits = need[s] >= bytes, bestFits = best >= 0 && need[best] >= bytes;
          if (best < 0 || (fits && (!bestFits || need[s] < need[best])) || (!fits && !bestFits && need[s] > need[best])) best = s;
        }
        if (best < 0) (best = need.length), need.push(0);
        need[best] = Math.max(need[best], bytes);
        busyUntil[best] = this.lastUse[n.id];
        slotOf.set(n.id, best);
      }
    }
    need.forEach((bytes, s) => {
      if (!this.slots[s] || this.slots[s].size < bytes) {
        this.slots[s]?.destroy();
        this.slots[s] = this.runner.device.createBuffer({ size: align(bytes, 256), usage: STORAGE, label: `slot ${s}` });
      }
    });
    for (const n of g.nodes) {
      const s = slotOf.get(n.id);
      if (s !== undefined) bufs[n.id] = this.slots[s];
      else if (isView(n)) bufs[n.id] = bufs[n.args[0]];
    }
    return bufs;
  }

  private constBuffer(n: Node): GPUBuffer {
    let b = this.consts.get(n.id);
    if (!b) {
      const values = n.attrs.values as number[];
      const data = n.attrs.dtype === 'u32' ? new Uint32Array(values) : new Float32Array(values);
      b = this.runner.storage(data, `const ${n.id}`);
      this.consts.set(n.id, b);
    }
    return b;
  }

  private inputBuffer(id: number, bytes: number): GPUBuffer {
    let b = this.inputBufs.get(id);
    if (!b || b.size < bytes) {
      b?.destroy();
      b = this.runner.device.createBuffer({ size: align(Math.max(bytes, 64), 256), usage: STORAGE });
      this.inputBufs.set(id, b);
    }
    return b;
  }

  private kvCache(id: number, rows: number, nKv: number, headDim: number, bytesPerValue: 2 | 4): KvCache {
    let c = this.kv.get(id);
    if (!c || c.rows < rows) {
      // Incremental graphs keep their cache across calls, so it is sized for the whole context.
      const cap = this.graph.incremental ? this.opts.ctx : Math.max(rows, 2 * (c?.rows ?? 0));
      if (c && this.graph.incremental) throw new TlcError(`the KV cache holds ${c.rows} positions; ${rows} are needed`);
      const bytes = cap * nKv * headDim * bytesPerValue;
      if (bytes > this.runner.device.limits.maxStorageBufferBindingSize) {
        throw new TlcError(`a KV cache of ${cap} positions needs ${bytes} bytes, more than one buffer binding allows; lower --ctx`);
      }
      c?.k.destroy();
      c?.v.destroy();
      const make = () => this.runner.device.createBuffer({ size: Math.max(16, bytes), usage: STORAGE });
      c = { k: make(), v: make(), rows: cap };
      this.kv.set(id, c);
    }
    return c;
  }

  private async submit(
    enc: GPUCommandEncoder, dispatches: Dispatch[], bufs: GPUBuffer[], shapes: number[][], seq: { pos0: number; history?: number[] },
    profiled?: { profiler: Profiler; ops: string[] },
  ): Promise<void> {
    const device = this.runner.device;
    // All Params in one uniform buffer at 256-byte steps (minUniformBufferOffsetAlignment).
    const step = 256;
    const withParams = dispatches.filter((d) => d.params);
    const need = Math.max(step, withParams.length * step);
    if (!this.uniforms || this.uniforms.size < need) {
      this.uniforms?.destroy();
      this.uniforms = device.createBuffer({ size: align(need * 1.5, step), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    }
    const uniforms = this.uniforms;
    const arena = new Uint8Array(need);
    let slot = 0;
    // Binds the dispatch's Params and records it: all in one pass, or (profiled) each in a timed pass of its own.
    const record = (pass: GPUComputePassEncoder, d: Dispatch) => {
      const bindings: (GPUBuffer | Binding)[] = [...d.bindings];
      if (d.params) {
        const p = d.params instanceof ArrayBuffer ? new Uint8Array(d.params) : new Uint8Array(d.params.buffer, d.params.byteOffset, d.params.byteLength);
        arena.set(p, slot * step);
        bindings.push({ buffer: uniforms, offset: slot * step, size: align(p.byteLength, 16) });
        slot++;
      }
      this.runner.dispatch(pass, d.kernel, bindings, d.workgroups);
    };
    if (profiled) profiled.profiler.recordPasses(enc, dispatches, profiled.ops, record);
    else {
      const pass = enc.beginComputePass();
      for (const d of dispatches) record(pass, d);
      pass.end();
    }
    device.queue.writeBuffer(uniforms, 0, arena);

    const { values, reads } = this.placeOutputs(enc, bufs, shapes, seq);
    const total = reads.reduce((a, r) => a + r.bytes, 0);
    if (total > 0) {
      if (!this.staging || this.staging.size < total) {
        this.staging?.destroy();
        this.staging = device.createBuffer({ size: align(total, 256), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      }
      let off = 0;
      for (const r of reads) {
        enc.copyBufferToBuffer(r.from, r.offset, this.staging, off, r.bytes);
        off += r.bytes;
      }
    }
    device.pushErrorScope('validation');
    device.queue.submit([enc.finish()]);
    profiled?.profiler.submitted();
    const err = await device.popErrorScope();
    if (err) throw new DeviceError(`${this.graph.name}: ${err.message}`);
    // Only outputs the host reads wait for the GPU; later submissions see kept values in queue order.
    // (A tensor with no elements reads as an empty list, with nothing to map.)
    let data = new ArrayBuffer(0);
    if (total > 0) {
      await this.staging!.mapAsync(GPUMapMode.READ, 0, align(total, 4));
      data = this.staging!.getMappedRange(0, align(total, 4)).slice(0);
      this.staging!.unmap();
    }
    let off = 0;
    reads.forEach((r) => {
      const count = r.bytes / 4;
      const arr = r.dtype === 'u32' ? new Uint32Array(data, off, count) : new Float32Array(data, off, count);
      values[r.output] = r.element ? arr[0] : Array.from(arr);
      off += r.bytes;
    });
    this.values = values;
  }

  /**
   * Each output's place after the run: kept values (device values for later graphs) and rows of the
   * sequence are held (holdOutput); what the host reads is listed for the copy to the staging buffer.
   */
  private placeOutputs(enc: GPUCommandEncoder, bufs: GPUBuffer[], shapes: number[][], seq: { pos0: number; history?: number[] }) {
    const g = this.graph;
    const held = new Map<number, DeviceValue>(); // node -> where its value lives after this run
    const hold = (node: number): DeviceValue => {
      let v = held.get(node);
      if (!v) held.set(node, (v = this.holdOutput(enc, node, bufs[node] ?? this.weightBuffer(g.nodes[node]), shapes[node], seq)));
      return v;
    };
    const inc = g.incremental;
    const values: OutputValue[] = [];
    const reads: { output: number; from: GPUBuffer; offset: number; bytes: number; dtype: string; element: boolean }[] = [];
    g.outputs.forEach((o, i) => {
      const n = g.nodes[o.node];
      const rows = !!inc && n.shape[0] === inc.seqDim; // all rows so far live in the row cache
      if (o.keep || rows) values[i] = hold(o.node);
      if (o.keep) return;
      const { buffer, shape } = rows ? (values[i] as DeviceValue) : { buffer: bufs[o.node] ?? this.weightBuffer(n), shape: shapes[o.node] };
      if (o.element >= product(shape)) throw new TlcError(`${n.at ?? g.name}: element ${o.element} is out of range for a tensor of shape [${shape.join(', ')}]`);
      const element = o.element >= 0;
      reads.push({ output: i, from: buffer, offset: Math.max(0, o.element) * 4, bytes: element ? 4 : product(shape) * 4, dtype: n.dtype, element });
    });
    return { values, reads };
  }

  /**
   * Where an output lives after the run. Rows of the sequence (incremental graphs) are copied to
   * their row cache at their positions; other kept values to a pooled buffer of their own, since the
   * graph's scratch buffers are reused by the next run.
   */
  private holdOutput(enc: GPUCommandEncoder, node: number, from: GPUBuffer, shape: number[], seq: { pos0: number; history?: number[] }): DeviceValue {
    const n = this.graph.nodes[node];
    const bytes = product(shape) * 4;
    const grow = this.grown.get(node);
    if (grow) {
      grow.used = shape[0];
      return new DeviceValue(grow.buffer, shape, n.dtype, undefined, grow);
    }
    const inc = this.graph.incremental;
    if (inc && n.shape[0] === inc.seqDim) {
      const rowBytes = product(shape.slice(1)) * 4;
      let cache = this.rowCaches.get(node);
      if (!cache) {
        const size = Math.max(16, rowBytes * this.opts.ctx);
        if (size > this.runner.device.limits.maxStorageBufferBindingSize) {
          throw new TlcError(`${n.at ?? this.graph.name}: keeping ${this.opts.ctx} rows of this tensor needs ${size} bytes, more than one buffer binding allows; lower --ctx`);
        }
        cache = new RowCache(this.runner.device.createBuffer({ size: align(size, 256), usage: STORAGE, label: `rows ${node}` }), rowBytes, this.opts.ctx);
        this.rowCaches.set(node, cache);
      }
      if (bytes) enc.copyBufferToBuffer(from, 0, cache.buffer, seq.pos0 * rowBytes, bytes);
      const version = cache.wrote(seq.pos0);
      return new DeviceValue(cache.buffer, [seq.pos0 + shape[0], ...shape.slice(1)], n.dtype, { history: seq.history, cache, version });
    }
    const buf = this.pool.take(bytes);
    if (bytes) enc.copyBufferToBuffer(from, 0, buf, 0, bytes);
    return new DeviceValue(buf, shape, n.dtype);
  }

  destroy(): void {
    for (const b of [...this.slots, ...this.consts.values(), ...this.inputBufs.values()]) b.destroy();
    for (const c of this.kv.values()) (c.k.destroy(), c.v.destroy());
    for (const c of this.rowCaches.values()) c.buffer.destroy();
    this.uniforms?.destroy();
    this.staging?.destroy();
  }
}


function commonPrefix(a: number[] | undefined, b: number[]): number {
  if (!a) return 0;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
