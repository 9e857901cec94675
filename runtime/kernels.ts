// Runs Kernels: compiles each distinct WGSL module once, binds buffers, records dispatches.
import type { Gpu } from './device.ts';
import type { Kernel } from '../shaders/kernel.ts';
import { DeviceError } from './device.ts';

export type Workgroups = [number, number?, number?];

export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/**
 * One kernel launch, fully described: what op functions in runtime/ops/ return.
 * The kernel's last binding is its `params` uniform when `params` is given; `bindings` are the others.
 */
export interface Dispatch {
  kernel: Kernel;
  bindings: (GPUBuffer | Binding)[];
  params?: ArrayBuffer | ArrayBufferView;
  workgroups: Workgroups;
}

// Pipelines per device, shared by every runner on it: compiling WGSL is the slow part
// (seconds for some kernels on a software adapter).
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
// The same, by Kernel object: kernels are memoized, so most dispatches find their pipeline here
// without building a key from the WGSL text (which cost ~10 µs a dispatch).
const pipelineOf = new WeakMap<GPUDevice, WeakMap<Kernel, GPUComputePipeline>>();

// A rewrite of each kernel's WGSL before it compiles: for mutation testing only
// (scripts/mutate-kernels.mjs; runtime/node/gpu.ts installs it from TLC_MUTATE). Unset: no cost.
let rewriteWgsl: ((k: Kernel) => string) | undefined;
export function setWgslRewrite(f: ((k: Kernel) => string) | undefined): void {
  rewriteWgsl = f;
}
const bindGroupsOf = new WeakMap<GPUDevice, WeakMap<Kernel, Map<string, GPUBindGroup>>>();

// Buffers by number, for bind group keys: a new buffer gets a new number, so a bind group made for
// a buffer that was destroyed is never found for another one.
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
}

export class KernelRunner {
  private pipelines: Map<string, GPUComputePipeline>;
  private byKernel: WeakMap<Kernel, GPUComputePipeline>;
  private groups: WeakMap<Kernel, Map<string, GPUBindGroup>>;

  constructor(readonly gpu: Gpu) {
    let cache = pipelineCache.get(gpu.device);
    if (!cache) pipelineCache.set(gpu.device, (cache = new Map()));
    this.pipelines = cache;
    let byKernel = pipelineOf.get(gpu.device);
    if (!byKernel) pipelineOf.set(gpu.device, (byKernel = new WeakMap()));
    this.byKernel = byKernel;
    let groups = bindGroupsOf.get(gpu.device);
    if (!groups) bindGroupsOf.set(gpu.device, (groups = new WeakMap()));
    this.groups = groups;
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** The pipeline for a kernel, created once per distinct WGSL text. */
  pipeline(kernel: Kernel): GPUComputePipeline {
    const known = this.byKernel.get(kernel);
    if (known) return known;
    const key = `${kernel.entryPoint ?? 'main'}\n${kernel.wgsl}`;
    let p = this.pipelines.get(key);
    if (!p) {
      for (const f of kernel.features ?? []) {
        if (!this.device.features.has(f)) throw new DeviceError(`Kernel ${kernel.name} needs the WebGPU feature ${f}, which this adapter lacks.`);
      }
      const module = this.device.createShaderModule({ code: rewriteWgsl ? rewriteWgsl(kernel) : kernel.wgsl, label: kernel.name });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: kernel.entryPoint ?? 'main' }, label: kernel.name });
      this.pipelines.set(key, p);
    }
    this.byKernel.set(kernel, p);
    return p;
  }

  bindGroup(kernel: Kernel, bindings: (GPUBuffer | Binding)[]): GPUBindGroup {
    if (bindings.length !== kernel.bindings.length) {
      throw new Error(`${kernel.name}: ${kernel.bindings.length} bindings expected, got ${bindings.length}`);
    }
    // The same kernel on the same buffers (every token of a decode, whose buffers come from the
    // same pool slots) reuses its bind group: making one costs ~15 µs in Dawn.
    let groups = this.groups.get(kernel);
    if (!groups) this.groups.set(kernel, (groups = new Map()));
    const key = bindings.map((b) => ('buffer' in b ? `${bufferId(b.buffer)}@${b.offset ?? 0}+${b.size ?? ''}` : bufferId(b))).join(',');
    let group = groups.get(key);
    if (!group) {
      if (groups.size >= 64) groups.clear(); // bounded: old entries may name buffers since destroyed
      group = this.device.createBindGroup({
        layout: this.pipeline(kernel).getBindGroupLayout(0),
        entries: bindings.map((b, i) => ({ binding: i, resource: 'buffer' in b ? b : { buffer: b } })),
        label: kernel.name,
      });
      groups.set(key, group);
    }
    return group;
  }

  /** Records one dispatch into a compute pass. */
  dispatch(pass: GPUComputePassEncoder, kernel: Kernel, bindings: (GPUBuffer | Binding)[], workgroups: Workgroups): void {
    pass.setPipeline(this.pipeline(kernel));
    pass.setBindGroup(0, this.bindGroup(kernel, bindings));
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  }

  /** A uniform buffer holding `data` (e.g. a kernel's Params struct). */
  uniform(data: ArrayBuffer | ArrayBufferView): GPUBuffer {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const buf = this.device.createBuffer({ size: Math.max(16, align(bytes.byteLength, 16)), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buf, 0, bytes as Uint8Array<ArrayBuffer>);
    return buf;
  }

  /** A storage buffer initialized with `data` (padded to 4 bytes). */
  storage(data: ArrayBufferView | number, label?: string): GPUBuffer {
    const size = typeof data === 'number' ? data : data.byteLength;
    const buf = this.device.createBuffer({
      size: Math.max(16, align(size, 4)),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
    if (typeof data !== 'number') {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const padded = bytes.byteLength % 4 === 0 ? bytes : copyPadded(bytes);
      this.device.queue.writeBuffer(buf, 0, padded as Uint8Array<ArrayBuffer>);
    }
    return buf;
  }

  /** Copies `bytes` bytes of a buffer back to the CPU. */
  async read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    const size = align(bytes, 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Runs one kernel alone and waits: for tests and one-off work, not for hot paths. */
  run(kernel: Kernel, bindings: (GPUBuffer | Binding)[], workgroups: Workgroups): Promise<void> {
    return this.runAll([{ kernel, bindings, workgroups }]);
  }

  /**
   * Records dispatches in order in one pass and waits for them: for tests and one-off work.
   * (Uniform buffers are made per call here; the executor keeps its own.)
   */
  async runAll(dispatches: Dispatch[]): Promise<void> {
    this.device.pushErrorScope('validation');
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const temps: GPUBuffer[] = [];
    for (const d of dispatches) {
      const bindings = [...d.bindings];
      if (d.params) {
        const u = this.uniform(d.params);
        temps.push(u);
        bindings.push(u);
      }
      this.dispatch(pass, d.kernel, bindings, d.workgroups);
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const err = await this.device.popErrorScope();
    if (err) throw new DeviceError(`${[...new Set(dispatches.map((d) => d.kernel.name))].join(', ')}: ${err.message}`);
    await this.device.queue.onSubmittedWorkDone();
    for (const t of temps) t.destroy();
  }
}

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function copyPadded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(align(bytes.byteLength, 4));
  out.set(bytes);
  return out;
}
