// `tlc run --profile` as a user runs it: the normal output, then the profile on stderr; with --json a
// `profile` object in the result instead.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { synthLlama } from '../runtime/gguf-writer.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TLC = path.join(ROOT, 'bin/tlc.js');

function tlc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TLC, ...args], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('tlc run --profile', function () {
  this.timeout(120_000);
  let dir: string;
  let run: string[];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlc-profile-'));
    const model = path.join(dir, 'synth.gguf');
    writeFileSync(model, synthLlama({ type: T.F16, embd: 64, heads: 4, kvHeads: 2, layers: 1, seed: 3 }));
    run = ['run', 'examples/chat.tl', '--model', model, '--prompt', 'hello', '--max-tokens', '5', '--temperature', '0'];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--json --profile: the result of --json, with a profile object', async () => {
    const [plain, profiled] = [await tlc(...run, '--json'), await tlc(...run, '--json', '--profile')];
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(profiled.code, 0, profiled.stderr);
    const a = JSON.parse(plain.stdout), b = JSON.parse(profiled.stdout);
    assert.equal(a.profile, undefined);
    assert.deepEqual(b.tokens, a.tokens);
    assert.deepEqual(Object.keys(b), [...Object.keys(a), 'profile']);
    const p = b.profile;
    assert.deepEqual(Object.keys(p).sort(), [
      'decode', 'dispatches', 'gpu_ms', 'graph_run_ms', 'graph_runs', 'kernels', 'ops', 'outside_kernels', 'per_token', 'prefill', 'timestamps', 'wall_ms',
    ]);
    assert.equal(p.timestamps, true);
    assert.equal(p.graph_runs, 5);
    assert.equal(p.decode.tokens, 4);
    assert.ok(p.gpu_ms > 0 && p.gpu_ms <= p.wall_ms);
    assert.ok(p.outside_kernels > 0 && p.outside_kernels < 1);
    for (const row of [...p.ops, ...p.kernels]) {
      assert.equal(typeof row.name, 'string');
      assert.ok(Number.isInteger(row.dispatches) && row.dispatches > 0);
      assert.ok(row.gpu_ms >= 0);
    }
    assert.ok(p.ops.some((r: { name: string }) => r.name === 'linear'));
    assert.equal(p.ops.reduce((n: number, r: { dispatches: number }) => n + r.dispatches, 0), p.dispatches);
    assert.doesNotMatch(profiled.stderr, /^kernels/m, 'no table with --json');
  });

  it('--profile: the same text on stdout, the summary and then the table on stderr', async () => {
    const [plain, profiled] = [await tlc(...run), await tlc(...run, '--profile')];
    assert.equal(profiled.code, 0, profiled.stderr);
    assert.equal(profiled.stdout, plain.stdout);
    const err = profiled.stderr;
    const order = [/^\[\d+ prompt tokens, 5 generated/m, /^profile: 5 graph runs, \d+ dispatches, wall/m, /^kernels/m, /^ops$/m, /^totals$/m, /per decode token: \d+ dispatches, 1 graph run,/];
    const at = order.map((re) => err.search(re));
    assert.ok(at.every((i) => i >= 0), `${at}\n${err}`);
    assert.deepEqual(at, [...at].sort((x, y) => x - y), err);
    assert.match(err, /^ {2}linear +\d+ +[\d.]+ +[\d.]+%$/m);
    assert.doesNotMatch(plain.stderr, /^profile:/m);
  });
});
