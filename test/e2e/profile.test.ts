// Program.run(..., { profile: true }) on a synthetic model: every dispatch counted once and timed in a
// pass of its own, ops and kernels add up to the totals, the tokens are those of a plain run, and a plain
// run still records each graph run in one compute pass.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import type { Gpu } from '../../runtime/device.ts';
import { GraphExecutor } from '../../runtime/executor.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { KernelRunner } from '../../runtime/kernels.ts';
import { openNodeDevice } from '../../runtime/node/gpu.ts';
import { formatProfile, type ProfileRow, type RunProfile } from '../../runtime/profile.ts';
import { Program, type RunResult } from '../../runtime/program.ts';
import { testGpu } from '../support/gpu.ts';

const MODEL = synthLlama({ type: T.Q8_0, embd: 64, heads: 4, kvHeads: 2, layers: 2, seed: 7 });
const ARGS = { prompt: 'hello world', max_tokens: 6, temperature: 0 };

async function load(gpu: Gpu): Promise<Program> {
  const src = bytesSource(MODEL, 'synthetic.gguf');
  const file = await readGguf(src);
  const artifact = build(readFileSync('examples/chat.tl', 'utf8'), 'examples/chat.tl', modelInfo(file));
  return Program.load(gpu, artifact, src, { file });
}

interface Counts {
  dispatches: number;
  graphRuns: number;
  passes: number;
  timedPasses: number;
}

/** Runs once, counting what reaches the GPU: dispatches recorded, graph runs, compute passes (timed or not). */
async function counted(program: Program, profile: boolean): Promise<{ r: RunResult; n: Counts }> {
  const n: Counts = { dispatches: 0, graphRuns: 0, passes: 0, timedPasses: 0 };
  const enc = (globalThis as unknown as { GPUCommandEncoder: { prototype: GPUCommandEncoder } }).GPUCommandEncoder.prototype;
  const spied = [
    spy(KernelRunner.prototype, 'dispatch', () => n.dispatches++),
    spy(GraphExecutor.prototype, 'run', () => n.graphRuns++),
    spy(enc, 'beginComputePass', (d?: GPUComputePassDescriptor) => (d?.timestampWrites ? n.timedPasses++ : n.passes++)),
  ];
  try {
    const r = await program.run(ARGS, { write: () => {} }, { profile });
    return { r, n };
  } finally {
    spied.forEach((undo) => undo());
  }
}

/** Wraps obj[name] to call `see` with its arguments first; returns the undo. */
function spy<O extends object>(obj: O, name: keyof O & string, see: (...args: never[]) => void): () => void {
  const original = obj[name] as (...args: unknown[]) => unknown;
  (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    (see as (...a: unknown[]) => void)(...args);
    return original.apply(this, args);
  };
  return () => ((obj as Record<string, unknown>)[name] = original);
}

const sum = (rows: ProfileRow[], f: (r: ProfileRow) => number) => rows.reduce((a, r) => a + f(r), 0);

describe('tlc run --profile: Program.run with { profile: true }', function () {
  this.timeout(120_000);
  let plain: { r: RunResult; n: Counts };
  let profiled: { r: RunResult; n: Counts };
  let profile: RunProfile;

  before(async () => {
    // Separate programs: a second run on one program reuses the first's KV cache, so would do other work.
    const gpu = await testGpu();
    const a = await load(gpu);
    const b = await load(gpu);
    plain = await counted(a, false);
    profiled = await counted(b, true);
    profile = profiled.r.profile!;
    a.destroy();
    b.destroy();
  });

  it('a plain run has no profile and records each graph run in one untimed pass', () => {
    assert.equal(plain.r.profile, undefined);
    assert.ok(plain.n.graphRuns >= 2 && plain.n.dispatches > plain.n.graphRuns, JSON.stringify(plain.n));
    assert.equal(plain.n.passes, plain.n.graphRuns);
    assert.equal(plain.n.timedPasses, 0);
  });

  it('profiling changes nothing the model computes: the same tokens', () => {
    assert.equal(profiled.r.tokens.length, ARGS.max_tokens);
    assert.deepEqual(profiled.r.tokens, plain.r.tokens);
    assert.equal(profiled.r.text, plain.r.text);
  });

  it('every dispatch is counted once and timed in a pass of its own', () => {
    assert.equal(profile.timestamps, true, 'lavapipe has timestamp-query');
    assert.equal(profiled.n.dispatches, plain.n.dispatches, 'the same dispatches reach the GPU');
    assert.equal(profile.dispatches, plain.n.dispatches);
    assert.equal(profile.graph_runs, plain.n.graphRuns);
    assert.equal(profiled.n.timedPasses, profile.dispatches);
    assert.equal(profiled.n.passes, 0);
    assert.equal(sum(profile.ops, (r) => r.dispatches), profile.dispatches);
    assert.equal(sum(profile.kernels, (r) => r.dispatches), profile.dispatches);
    assert.equal(profile.prefill.dispatches + profile.decode.dispatches, profile.dispatches);
    assert.equal(profile.prefill.graph_runs + profile.decode.graph_runs, profile.graph_runs);
  });

  it('the ops of chat.tl are there, and kernels name the ops that ran them', () => {
    const ops = profile.ops.map((r) => r.name);
    for (const op of ['linear', 'attention', 'rms_norm', 'rope', 'embedding']) assert.ok(ops.includes(op), `${op} in ${ops}`);
    const linear = profile.ops.find((r) => r.name === 'linear')!;
    // 6 linears per layer (gate and up are one, residual adds ride on o and down) and the head, in every graph run.
    assert.equal(linear.dispatches % profile.graph_runs, 0);
    assert.ok(linear.dispatches >= (6 * 2 + 1) * profile.graph_runs, `${linear.dispatches} linear dispatches`);
    for (const k of profile.kernels) assert.ok(k.ops?.length && k.ops.every((op) => ops.includes(op)), k.name);
    assert.ok(profile.kernels.some((k) => /matmul|linear/.test(k.name) && k.ops!.includes('linear')));
  });

  it('GPU time is positive, fits in the wall time, and ops and kernels add up to it', () => {
    const gpu = profile.gpu_ms!;
    assert.ok(gpu > 0, `gpu_ms ${gpu}`);
    assert.ok(gpu <= profile.graph_run_ms && profile.graph_run_ms <= profile.wall_ms, JSON.stringify(profile));
    assert.ok(Math.abs(sum(profile.ops, (r) => r.gpu_ms!) - gpu) < 0.01 * gpu + 0.01);
    assert.ok(Math.abs(sum(profile.kernels, (r) => r.gpu_ms!) - gpu) < 0.01 * gpu + 0.01);
    assert.ok(Math.abs(profile.prefill.gpu_ms! + profile.decode.gpu_ms! - gpu) < 0.01);
    assert.ok(profile.ops.filter((r) => r.name === 'linear' || r.name === 'attention').every((r) => r.gpu_ms! > 0));
    assert.ok(Math.abs(profile.outside_kernels! - (1 - gpu / profile.wall_ms)) < 1e-3, `outside_kernels ${profile.outside_kernels}`);
    const times = profile.kernels.map((r) => r.gpu_ms!);
    assert.deepEqual(times, [...times].sort((x, y) => y - x), 'most time first');
  });

  it('per token: the decode steps after the first sampled token', () => {
    assert.equal(profile.prefill.graph_runs, 1, 'chat.tl reads the prompt in one graph run');
    assert.equal(profile.decode.tokens, ARGS.max_tokens - 1);
    assert.deepEqual(profile.per_token, {
      dispatches: profile.decode.dispatches / profile.decode.tokens,
      graph_runs: 1,
      graph_run_ms: Math.round((profile.decode.graph_run_ms / profile.decode.tokens) * 1000) / 1000,
      gpu_ms: Math.round((profile.decode.gpu_ms! / profile.decode.tokens) * 1000) / 1000,
    });
  });

  it('the table lists kernels, ops and totals', () => {
    const text = formatProfile(profile);
    assert.match(text, /^profile: \d+ graph runs, \d+ dispatches, wall [\d.]+ ms$/m);
    assert.match(text, new RegExp(`^  ${profile.kernels[0].name} +${profile.kernels[0].ops!.join(',')} +${profile.kernels[0].dispatches} `, 'm'));
    assert.match(text, /^  linear +\d+ +[\d.]+ +[\d.]+%$/m);
    assert.match(text, /^  decode \(5 tokens\) +\d+ +\d+ /m);
    assert.match(text, /outside kernels [\d.]+%/);
    assert.doesNotMatch(text, /no timestamp-query/);
  });

  it('the next plain run of a profiled program is one pass per graph run again', async () => {
    const program = await load(await testGpu());
    await counted(program, true);
    const again = await counted(program, false);
    program.destroy();
    assert.equal(again.r.profile, undefined);
    assert.equal(again.n.passes, again.n.graphRuns);
    assert.equal(again.n.timedPasses, 0);
  });

  it('a profiled run stopped midway returns at once with what it counted, and the program runs on', async () => {
    const program = await load(await testGpu());
    const stop = new AbortController();
    let pieces = 0;
    const write = () => (++pieces === 3 ? stop.abort() : undefined); // the prompt, then two tokens
    const r = await program.run({ ...ARGS, max_tokens: 50 }, { write, signal: stop.signal }, { profile: true });
    assert.equal(r.stopped_by, 'stopped');
    assert.equal(r.profile!.graph_runs, 2, JSON.stringify(r.profile)); // the prefill and one decode step
    assert.equal(r.profile!.dispatches, plain.n.dispatches / plain.n.graphRuns * 2);
    const again = await counted(program, false);
    program.destroy();
    assert.deepEqual(again.r.tokens, plain.r.tokens);
  });

  it('an adapter without timestamp-query: counts and wall time, no GPU times, and it says so', async () => {
    const gpu = await openNodeDevice({ disableFeatures: ['timestamp-query'] });
    const program = await load(gpu);
    const { r, n } = await counted(program, true);
    program.destroy();
    gpu.device.destroy();
    const p = r.profile!;
    assert.equal(p.timestamps, false);
    assert.deepEqual(r.tokens, plain.r.tokens);
    assert.equal(p.dispatches, plain.n.dispatches);
    assert.equal(n.passes, n.graphRuns, 'nothing to time, so one pass per graph run');
    assert.equal(n.timedPasses, 0);
    assert.ok(p.wall_ms > 0);
    for (const missing of [p.gpu_ms, p.outside_kernels, p.per_token?.gpu_ms, p.ops[0].gpu_ms, p.kernels[0].gpu_ms]) assert.equal(missing, undefined);
    assert.match(formatProfile(p), /this adapter has no timestamp-query: GPU times are not measured/);
  });
});
