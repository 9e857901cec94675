// `tlc inspect` and `tlc synth` as a user runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireShared } from './support/shared.ts';
import { synthCommand } from '../cli/commands/synth.ts';

const TLC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/tlc.js');

function tlc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TLC, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('tlc inspect and tlc synth', function () {
  this.timeout(60000);
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'tlc-inspect-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('inspect prints hyperparameters, tokenizer and a tensor table', async function () {
    const { code, stdout } = await tlc('inspect', requireShared(this, 'TinyStories-656K-Q8_0.gguf'));
    assert.equal(code, 0);
    for (const line of [
      /layers +2 +embd 128 +ff 384/,
      /attention +8 heads, 4 KV heads \(GQA\), head_dim 16/,
      /vocab +2048 +output head tied to token_embd/,
      /tokenizer +llama \(SentencePiece\), pre default; 2048 tokens; bos 1 eos 2 unk 0 pad 0; add_bos true/,
      /token_embd\.weight +Q8_0 +\[128, 2048\] +278,528/,
      /blk\.1\.ffn_norm\.weight +F32 +\[128\] +512/,
      /20 tensors \(5 F32, 15 Q8_0\), 656,000 parameters/,
    ]) assert.match(stdout, line);
  });

  it('synth writes a model that inspect --json describes', async () => {
    const out = path.join(dir, 'q4_0.gguf');
    const synth = await tlc('synth', out, '--layers', '1', '--embd', '64', '--heads', '4', '--kv-heads', '2', '--ff', '96', '--vocab', '300', '--type', 'q4_0', '--tied', '--seed', '3');
    assert.equal(synth.code, 0, synth.stderr);
    const { code, stdout } = await tlc('inspect', '--json', out);
    assert.equal(code, 0);
    const s = JSON.parse(stdout);
    assert.deepEqual([s.hparams.n_layer, s.hparams.n_embd, s.hparams.n_ff, s.hparams.n_head_kv, s.hparams.n_vocab, s.hparams.tied_output], [1, 64, 96, 2, 300, true]);
    assert.deepEqual(s.totals.byType, { Q4_0: 8, F32: 3 });
    assert.deepEqual(s.tensors[0], { name: 'token_embd.weight', type: 'Q4_0', shape: [64, 300], bytes: 2 * 18 * 300, offset: s.tensors[0].offset, supported: true });
    assert.deepEqual(s.tokenizer, { model: 'llama', pre: 'default', tokens: 300 });
  });

  it('a file that is not GGUF: a message, no stack trace', async () => {
    writeFileSync(path.join(dir, 'x.gguf'), 'not a model at all');
    const { code, stderr } = await tlc('inspect', path.join(dir, 'x.gguf'));
    assert.equal(code, 1);
    assert.equal(stderr, `${path.join(dir, 'x.gguf')}: not a GGUF file (it starts with "not ", not "GGUF").\n`);
  });

  // The rest in-process: starting the CLI takes seconds.
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['a type it cannot write', { type: 'Q5_1' }, /^UsageError: --type Q5_1: expected one of F32, F16, Q8_0, Q4_0, Q4_K, Q6_K/],
    ['an unknown type', { type: 'Q9' }, /^UsageError: --type Q9: expected one of/],
    ['widths the type cannot hold', { type: 'Q6_K' }, /^TlcError: synthetic model: Q6_K packs rows in blocks of 256 values/],
  ];
  for (const [what, args, message] of refusals) {
    it(`synth refuses ${what}`, async () => {
      const argv = { out: path.join(dir, 'never.gguf'), layers: 1, embd: 64, heads: 4, vocab: 300, ctx: 64, seed: 1, ...args };
      await assert.rejects(Promise.resolve(synthCommand.handler(argv as never)), message);
      assert.ok(!existsSync(argv.out));
    });
  }
});
