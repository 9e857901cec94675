// Build artifacts read from files: every real one is sound; damaged ones get one clear message; and
// random damage (fast-check) never gets anything but a TlcError.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { fuzzRuns } from './support/fuzz.ts';
import { build, parseArtifact, type Artifact } from '../compiler/artifact.ts';
import { irProblem } from '../compiler/validate-ir.ts';
import { DiagnosticError } from '../compiler/diagnostics.ts';
import { TlcError } from '../runtime/errors.ts';
import { fakeModel } from './support/fake-model.ts';

const model = fakeModel({ layers: 2, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 100 });
const chat = (): Artifact => JSON.parse(JSON.stringify(build(readFileSync('examples/chat.tl', 'utf8'), 'examples/chat.tl', model)));
const text = (a: unknown) => JSON.stringify(a);

describe('artifacts: validated when read', () => {
  it('every example that compiles gives an artifact that reads back', () => {
    let built = 0;
    for (const f of readdirSync('examples').filter((f) => f.endsWith('.tl'))) {
      let a: Artifact;
      try {
        a = build(readFileSync(`examples/${f}`, 'utf8'), `examples/${f}`, model);
      } catch (e) {
        if (e instanceof DiagnosticError || e instanceof TlcError) continue; // a program tlc cannot compile yet
        throw e;
      }
      assert.equal(irProblem(a.ir), undefined, f);
      parseArtifact(text(a), f);
      built++;
    }
    assert.ok(built >= 10, `${built} examples built`);
  });

  // damage -> what the message says
  const CASES: [string, (a: Artifact) => void, RegExp][] = [
    ['no IR', (a) => delete (a as { ir?: unknown }).ir, /lacks host, graphs or weights/],
    ['a node argument that is not an earlier node', (a) => (a.ir.graphs[0].nodes[5].args[0] = 999), /argument is not an earlier node/],
    ['an unknown op', (a) => (a.ir.graphs[0].nodes[3].op = 'frobnicate'), /unknown op/],
    ['an edited node shape', (a) => (a.ir.graphs[0].nodes.find((n) => n.op === 'linear')!.shape[1] = 7), /is not what the op gives/],
    ['an edited weight shape', (a) => (a.ir.weights[0].shape[0] += 1), /not in the weight list with this shape|is not what the op gives/],
    ['an unknown host statement', (a) => a.ir.host.push({ k: 'jump' } as never), /unknown kind \(jump\)/],
    ['a run of a graph that is not there', (a) => a.ir.host.push({ k: 'run', graph: 42, dims: {}, inputs: [] }), /graph 42/],
    ['a read of an output that is not there', (a) => a.ir.host.push({ k: 'print', args: [{ k: 'out', graph: 0, output: 99 }], end: '' }), /output 99 of graph 0/],
    ['an input of the wrong kind', (a) => (a.ir.graphs[0].inputs[0].kind = 'tensor'), /input 0 is malformed/],
    ['no source', (a) => delete (a as { source?: unknown }).source, /it has no source/],
  ];
  for (const [name, damage, message] of CASES) {
    it(`${name}: "damaged or from another version", with the reason`, () => {
      const a = chat();
      damage(a);
      assert.throws(() => parseArtifact(text(a), 'x.tlc.json'), (e: Error) => e instanceof TlcError && /x\.tlc\.json is damaged or from another version of tlc/.test(e.message) && message.test(e.message));
    });
  }

  it('random damage gives a TlcError or a sound artifact, never another exception (fast-check)', () => {
    const base = chat();
    const json = text(base);
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      if (path.length) paths.push(path);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    walk(base, []);
    const value = fc.oneof(fc.integer({ min: -3, max: 1e6 }), fc.string({ maxLength: 6 }), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
    fc.assert(
      fc.property(fc.nat(paths.length - 1), value, fc.boolean(), (i, v, remove) => {
        const a = JSON.parse(json);
        const path = paths[i];
        let o = a;
        for (const k of path.slice(0, -1)) o = o[k];
        if (remove) delete o[path[path.length - 1]];
        else o[path[path.length - 1]] = v;
        try {
          parseArtifact(text(a), 'x');
        } catch (e) {
          if (!(e instanceof TlcError)) throw e;
        }
      }),
      { seed: 7, numRuns: fuzzRuns(500) },
    );
  });
});
