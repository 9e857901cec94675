// GPU time per dispatch, for `tlc run --profile` and the page's Profile box.
//
// WebGPU times whole compute passes only (timestampWrites), so a profiled graph run records each
// dispatch in a pass of its own, with a begin and an end timestamp. The queries of one graph run are
// resolved in its own command encoder and mapped right after its submit; Profiler.finish waits for them
// all and adds them up per IR op and per kernel. An unprofiled run never comes here: the executor
// records a graph run in one pass, as always.
//
// Ending a pass is a barrier, so a profiled run is somewhat slower than a plain one; the GPU times are
// those of each kernel alone. On an adapter without timestamp-query nothing is split or timed: the
// profile has the wall time and the dispatch counts only, and says so.

export type Phase = 'prefill' | 'decode';

export interface ProfileRow {
  name: string;
  dispatches: number;
  gpu_ms?: number;
  /** For a kernel: the IR op(s) whose dispatches ran it. */
  ops?: string[];
}

export interface PhaseProfile {
  graph_runs: number;
  dispatches: number;
  /** Wall time inside graph runs: encoding, submit, waiting for the GPU and the readback. */
  graph_run_ms: number;
  gpu_ms?: number;
}

export interface RunProfile {
  /** False when the adapter has no timestamp-query: no GPU times then, only wall time and counts. */
  timestamps: boolean;
  wall_ms: number;
  /** Sum of the dispatches' GPU times. */
  gpu_ms?: number;
  /** 1 - gpu_ms / wall_ms: the share of the run spent outside kernels (JS, submits, readbacks, host work). */
  outside_kernels?: number;
  /** Graph runs, one submit each (a long prompt read in chunks counts one per chunk). */
  graph_runs: number;
  dispatches: number;
  graph_run_ms: number;
  /** The first step (reading the prompt, up to the first sampled token) and the steps after it. */
  prefill: PhaseProfile;
  decode: PhaseProfile & { tokens: number };
  /** Decode figures per generated token; absent when no token was decoded after the first. */
  per_token?: { dispatches: number; graph_runs: number; graph_run_ms: number; gpu_ms?: number };
  /** Most GPU time first (most dispatches first without timestamps). */
  ops: ProfileRow[];
  kernels: ProfileRow[];
}

/** What Profiler.recordPasses needs of a dispatch: its kernel's name (runtime/kernels.ts Dispatch). */
interface Named {
  kernel: { name: string };
}

/** One graph run's dispatches, in order, and (once read) their GPU times. */
interface GraphRunRecord {
  phase: Phase;
  ops: string[];
  kernels: string[];
  gpuMs?: Float64Array;
}

/** Timestamp queries for up to `capacity` passes, the buffer they resolve into, and one to map. */
interface QuerySlot {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  read: GPUBuffer;
  capacity: number;
}

// A query set holds at most 4096 queries (WebGPU's limit): 2048 passes of two timestamps.
const MAX_PASSES = 2048;

export class Profiler {
  private phase: Phase = 'prefill'; // of the graph run in progress (startGraphRun)
  private runs: GraphRunRecord[] = [];
  private unsubmitted: { run: GraphRunRecord; parts: { slot: QuerySlot; first: number; count: number }[] }[] = [];
  private reads: Promise<void>[] = [];
  private free: QuerySlot[] = [];
  private made: QuerySlot[] = [];
  private graphRunMs: Record<Phase, number> = { prefill: 0, decode: 0 };
  private graphRunStart = 0;

  constructor(
    private device: GPUDevice,
    readonly timestamps: boolean,
  ) {}

  /** Program: a graph run starts (its wall time counts from here). */
  startGraphRun(phase: Phase): void {
    this.phase = phase;
    this.graphRunStart = performance.now();
  }

  /** Program: the graph run started last is done. */
  endGraphRun(): void {
    this.graphRunMs[this.phase] += performance.now() - this.graphRunStart;
  }

  /**
   * Executor: records a graph run's dispatches through `record`, each in a pass of its own with
   * timestamps (all in one pass without timestamp-query). `ops[i]` is the IR op of dispatches[i].
   */
  recordPasses<D extends Named>(enc: GPUCommandEncoder, dispatches: D[], ops: string[], record: (pass: GPUComputePassEncoder, d: D) => void): void {
    const run: GraphRunRecord = { phase: this.phase, ops, kernels: dispatches.map((d) => d.kernel.name) };
    this.runs.push(run);
    if (!this.timestamps) {
      const pass = enc.beginComputePass();
      for (const d of dispatches) record(pass, d);
      pass.end();
      return;
    }
    const parts = [];
    for (let first = 0; first < dispatches.length; first += MAX_PASSES) {
      const count = Math.min(MAX_PASSES, dispatches.length - first);
      const slot = this.takeSlot(count);
      for (let i = 0; i < count; i++) {
        const timestampWrites = { querySet: slot.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
        const pass = enc.beginComputePass({ timestampWrites });
        record(pass, dispatches[first + i]);
        pass.end();
      }
      enc.resolveQuerySet(slot.querySet, 0, 2 * count, slot.resolve, 0);
      enc.copyBufferToBuffer(slot.resolve, 0, slot.read, 0, 16 * count);
      parts.push({ slot, first, count });
    }
    this.unsubmitted.push({ run, parts });
  }

  /** Executor: what recordPasses recorded is submitted, so its timestamps can be mapped. */
  submitted(): void {
    for (const { run, parts } of this.unsubmitted) {
      run.gpuMs = new Float64Array(run.kernels.length);
      for (const part of parts) this.reads.push(this.readTimes(run.gpuMs, part));
    }
    this.unsubmitted = [];
  }

  /**
   * Waits for every submitted graph run's timestamps, frees the queries, and sums the run up. A stopped
   * run does not wait for the graph run it left on the GPU: that one counts as dispatched, untimed.
   */
  async finish(wallMs: number, decodeTokens: number, stopped = false): Promise<RunProfile> {
    if (!stopped) await Promise.all(this.reads);
    this.reads = [];
    for (const s of this.made) (s.querySet.destroy(), s.resolve.destroy(), s.read.destroy());
    this.made = [];
    this.free = [];
    return summarize(this.runs, this.graphRunMs, wallMs, decodeTokens, this.timestamps);
  }

  private takeSlot(passes: number): QuerySlot {
    const i = this.free.findIndex((s) => s.capacity >= passes);
    if (i >= 0) return this.free.splice(i, 1)[0];
    // Room for a little more than asked, so a graph run that grows by a dispatch reuses its slot.
    const capacity = Math.min(MAX_PASSES, Math.max(64, 2 ** Math.ceil(Math.log2(passes))));
    const slot: QuerySlot = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: 2 * capacity }),
      resolve: this.device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      read: this.device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      capacity,
    };
    this.made.push(slot);
    return slot;
  }

  private async readTimes(into: Float64Array, { slot, first, count }: { slot: QuerySlot; first: number; count: number }): Promise<void> {
    try {
      await slot.read.mapAsync(GPUMapMode.READ, 0, 16 * count);
      const t = new BigUint64Array(slot.read.getMappedRange(0, 16 * count));
      // A pass the adapter could not time reads 0..0; clamp, so a glitch never makes time negative.
      for (let i = 0; i < count; i++) into[first + i] = t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0;
      slot.read.unmap();
      this.free.push(slot);
    } catch {
      // The submit failed (the run reports that), or a stopped run finished the profile without these.
    }
  }
}

function summarize(runs: GraphRunRecord[], graphRunMs: Record<Phase, number>, wallMs: number, decodeTokens: number, timestamps: boolean): RunProfile {
  const ops = new Map<string, ProfileRow>();
  const kernels = new Map<string, ProfileRow>();
  const phase = (p: Phase): PhaseProfile => ({ graph_runs: 0, dispatches: 0, graph_run_ms: round(graphRunMs[p]), ...(timestamps ? { gpu_ms: 0 } : {}) });
  const phases = { prefill: phase('prefill'), decode: phase('decode') };
  const add = (rows: Map<string, ProfileRow>, name: string, ms: number | undefined, op?: string) => {
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { name, dispatches: 0, ...(timestamps ? { gpu_ms: 0 } : {}), ...(op ? { ops: [] } : {}) }));
    r.dispatches++;
    if (r.gpu_ms !== undefined && ms !== undefined) r.gpu_ms += ms;
    if (op && !r.ops!.includes(op)) r.ops!.push(op);
  };
  for (const run of runs) {
    const p = phases[run.phase];
    p.graph_runs++;
    p.dispatches += run.kernels.length;
    run.kernels.forEach((k, i) => {
      const ms = run.gpuMs?.[i];
      add(ops, run.ops[i], ms);
      add(kernels, k, ms, run.ops[i]);
      if (p.gpu_ms !== undefined && ms !== undefined) p.gpu_ms += ms;
    });
  }
  const sorted = (rows: Map<string, ProfileRow>) =>
    [...rows.values()]
      .map((r) => (r.gpu_ms === undefined ? r : { ...r, gpu_ms: round(r.gpu_ms, 3) }))
      .sort((a, b) => (b.gpu_ms ?? 0) - (a.gpu_ms ?? 0) || b.dispatches - a.dispatches || a.name.localeCompare(b.name));
  const gpuMs = timestamps ? phases.prefill.gpu_ms! + phases.decode.gpu_ms! : undefined;
  const d = phases.decode;
  for (const p of Object.values(phases)) if (p.gpu_ms !== undefined) p.gpu_ms = round(p.gpu_ms, 3);
  return {
    timestamps,
    wall_ms: round(wallMs),
    ...(gpuMs !== undefined ? { gpu_ms: round(gpuMs, 3), outside_kernels: round(wallMs > 0 ? 1 - gpuMs / wallMs : 0, 4) } : {}),
    graph_runs: runs.length,
    dispatches: runs.reduce((n, r) => n + r.kernels.length, 0),
    graph_run_ms: round(graphRunMs.prefill + graphRunMs.decode),
    prefill: phases.prefill,
    decode: { ...d, tokens: decodeTokens },
    ...(decodeTokens > 0
      ? {
          per_token: {
            dispatches: round(d.dispatches / decodeTokens),
            graph_runs: round(d.graph_runs / decodeTokens),
            graph_run_ms: round(d.graph_run_ms / decodeTokens, 3),
            ...(d.gpu_ms !== undefined ? { gpu_ms: round(d.gpu_ms / decodeTokens, 3) } : {}),
          },
        }
      : {}),
    ops: sorted(ops),
    kernels: sorted(kernels),
  };
}

/** The profile as a few plain-text tables: top kernels, ops, totals (what `tlc run --profile` prints). */
export function formatProfile(p: RunProfile, topKernels = 15): string {
  const lines: string[] = [];
  const gpu = p.gpu_ms;
  const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const share = (x: number | undefined) => (x === undefined || !gpu ? '-' : pct(x / gpu));
  const table = (header: string[], rows: string[][], left = 1) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => '  ' + r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
    lines.push(fmt(header), ...rows.map(fmt));
  };

  lines.push('', `profile: ${plural(p.graph_runs, 'graph run')}, ${plural(p.dispatches, 'dispatch')}, wall ${ms(p.wall_ms)} ms`);
  if (!p.timestamps) lines.push('  this adapter has no timestamp-query: GPU times are not measured, only wall time and dispatch counts');
  const kernels = p.kernels.slice(0, topKernels);
  lines.push('', p.kernels.length > kernels.length ? `kernels (top ${kernels.length} of ${p.kernels.length})` : 'kernels');
  table(
    ['kernel', 'op', 'count', 'GPU ms', 'share', 'us/call'],
    kernels.map((r) => [r.name, (r.ops ?? []).join(','), String(r.dispatches), ms(r.gpu_ms), share(r.gpu_ms), r.gpu_ms === undefined ? '-' : ((1000 * r.gpu_ms) / r.dispatches).toFixed(1)]),
    2,
  );
  lines.push('', 'ops');
  table(['op', 'count', 'GPU ms', 'share'], p.ops.map((r) => [r.name, String(r.dispatches), ms(r.gpu_ms), share(r.gpu_ms)]));

  lines.push('', 'totals');
  const phaseRow = (name: string, x: PhaseProfile) => [name, String(x.graph_runs), String(x.dispatches), ms(x.graph_run_ms), ms(x.gpu_ms)];
  table(['', 'graph runs', 'dispatches', 'graph run ms', 'GPU ms'], [phaseRow('prefill', p.prefill), phaseRow(`decode (${p.decode.tokens} tokens)`, p.decode), phaseRow('run', { ...p, gpu_ms: gpu })]);
  const t = p.per_token;
  if (t) lines.push(`  per decode token: ${plural(t.dispatches, 'dispatch')}, ${plural(t.graph_runs, 'graph run')}, ${ms(t.graph_run_ms)} ms in graph runs${t.gpu_ms !== undefined ? `, ${ms(t.gpu_ms)} ms GPU` : ''}`);
  const host = p.wall_ms - p.graph_run_ms;
  lines.push(`  wall ${ms(p.wall_ms)} ms = graph runs ${ms(p.graph_run_ms)} ms + host program ${ms(host)} ms (tokenizer, interpreter, output)`);
  if (gpu !== undefined) {
    lines.push(`  GPU ${ms(gpu)} ms: ${pct(1 - p.outside_kernels!)} of wall time; outside kernels ${pct(p.outside_kernels!)} ` + `(${ms(p.graph_run_ms - gpu)} ms of graph runs spent encoding, submitting, waiting and reading back)`);
  }
  return lines.join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('h') ? 'es' : 's'}`;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
