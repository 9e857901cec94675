// Every example program parses and checks clean; tinyllama_chat.tl keeps the shape of the seed program.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importsBeside } from '../../cli/commands/check.ts';
import type * as A from '../../compiler/ast.ts';
import { check } from '../../compiler/check.ts';
import { formatDiagnostic } from '../../compiler/diagnostics.ts';
import { parse } from '../../compiler/parse.ts';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const files = readdirSync(examples).filter((f) => f.endsWith('.tl')).sort();

describe('examples/*.tl', () => {
  it('there are at least 30', () => assert.ok(files.length >= 30, `${files.length} examples`));

  for (const f of files) {
    it(`${f} parses and checks clean`, () => {
      const file = path.join(examples, f);
      const source = readFileSync(file, 'utf8');
      const problems = check(parse(source, file), { resolveImport: importsBeside });
      assert.deepEqual(problems.map((d) => formatDiagnostic(d, source)), []);
    });
  }

  it('tinyllama_chat.tl: 10 steps over 22 layers of model.blk[layer_idx], EOS break, append, detokenize', () => {
    const program = parse(readFileSync(path.join(examples, 'tinyllama_chat.tl'), 'utf8'), 'tinyllama_chat.tl');
    const main = program.items.find((i): i is A.MainBlock => i.kind === 'MainBlock')!;
    const outer = main.body.stmts.find((s): s is A.For => s.kind === 'For')!;
    assert.equal(outer.var, 'token_step');
    assert.match(JSON.stringify(outer.iter), /"name":"range".*"value":10/);
    const inner = outer.body.stmts.find((s): s is A.For => s.kind === 'For')!;
    assert.equal(inner.var, 'layer_idx');
    assert.match(JSON.stringify(inner.iter), /"name":"range".*"value":22/);
    const text = JSON.stringify(inner.body);
    assert.match(text, /"kind":"Index","target":\{"kind":"Member","target":\{"kind":"Ident","name":"model".*"name":"blk".*"name":"layer_idx"/);
    const body = JSON.stringify(outer.body);
    for (const name of ['rms_norm', 'linear', 'slice_last', 'temperature_sample', 'append', 'embedding']) assert.match(body, new RegExp(`"name":"${name}"`));
    assert.match(body, /"kind":"Break"/);
    const all = JSON.stringify(program);
    for (const name of ['reshape', 'broadcast_to', 'einsum', 'causal_mask', 'softmax', 'silu', 'rope', 'detokenize']) assert.match(all, new RegExp(`"name":"${name}"`));
    for (const n of ['2048', '32', '64', '\\b4\\b', '\\b8\\b']) assert.match(JSON.stringify(program.items.filter((i) => i.kind === 'FnDecl')), new RegExp(`"value":${n}`));
  });
});
