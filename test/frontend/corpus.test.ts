// The original TensorLogic's own programs (its examples/, debug/ and tests/ .tl files) all parse.
// They come from a git mirror of JunSuzukiJapan/tensorlogic; without one the test skips with a message.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticError } from '../../compiler/diagnostics.ts';
import { parse } from '../../compiler/parse.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIRROR = process.env.TLC_TENSORLOGIC_MIRROR ?? path.resolve(repoRoot, '../.mirror/JunSuzukiJapan+tensorlogic/repo');

/** Every .tl file at the mirror's HEAD, read in one `git cat-file --batch`. */
function readCorpus(gitDir: string): { file: string; source: string }[] {
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', gitDir, ...args], { input, maxBuffer: 1 << 30 });
  const files = git(['ls-tree', '-r', '--name-only', 'HEAD']).toString().split('\n').filter((f) => f.endsWith('.tl'));
  const out = git(['cat-file', '--batch'], files.map((f) => `HEAD:${f}\n`).join(''));
  const result: { file: string; source: string }[] = [];
  let at = 0;
  for (const file of files) {
    const headerEnd = out.indexOf(10, at); // "<oid> blob <size>\n"
    const size = Number(out.subarray(at, headerEnd).toString().split(' ')[2]);
    result.push({ file, source: out.subarray(headerEnd + 1, headerEnd + 1 + size).toString('utf8') });
    at = headerEnd + 1 + size + 1;
  }
  return result;
}

describe('the original TensorLogic programs', function () {
  this.timeout(600_000); // about 1.7 MB of TensorLogic: tens of seconds

  it('every .tl file in the mirror parses', function () {
    if (!existsSync(MIRROR)) {
      console.log(`      (skipped: no TensorLogic mirror at ${MIRROR}; set TLC_TENSORLOGIC_MIRROR to a git dir of JunSuzukiJapan/tensorlogic)`);
      this.skip();
    }
    const corpus = readCorpus(MIRROR);
    const started = Date.now();
    const failures: string[] = [];
    for (const { file, source } of corpus) {
      try {
        parse(source, file);
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw e;
        failures.push(e.message.split('\n')[0]);
      }
    }
    console.log(`      ${corpus.length - failures.length} of ${corpus.length} parse (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    assert.ok(corpus.length >= 300, `only ${corpus.length} .tl files in the mirror`);
    assert.deepEqual(failures, []);
  });
});
