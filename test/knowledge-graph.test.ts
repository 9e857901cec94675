// Knowledge-graph builtins (compiler/lower/builtins-kg.ts) and embedding blocks
// (compiler/lower/embeddings.ts), run on the test adapter: each score, loss, metric and graph helper
// against a plain TypeScript computation of the original's formula on small random inputs; embedding
// tables (shape, init statistics, lookups, errors) and a learn block that trains them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from '../compiler/artifact.ts';
import type { HostValue } from '../compiler/ir.ts';
import { Program } from '../runtime/program.ts';
import { Rng } from '../runtime/rng.ts';
import type { Gpu } from '../runtime/device.ts';
import { testGpu } from './support/gpu.ts';
import { printed } from './support/program.ts';

let gpu: Gpu;

const run = (text: string, args: Record<string, HostValue> = {}): Promise<string> => printed(gpu, text, 'main.tl', args);

const numbers = (s: string) => [...s.matchAll(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)].map((m) => Number(m[0]));

function close(got: number[], want: number[], what: string, tol = 1e-5): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} numbers, expected ${want.length} (${JSON.stringify(got)})`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}, number ${i}: ${g}, expected ${want[i]}`));
}

// ---------------------------------------------------------------------------------------------
// The formulas, in float64

type Vec = number[];
const rng = new Rng(2024);
const vec = (n: number, scale = 1): Vec => Array.from({ length: n }, () => Math.round(rng.uniform(-scale, scale) * 1e4) / 1e4);
const lit = (v: Vec) => `[${v.map((x) => x.toFixed(4)).join(', ')}]`;
const sum = (v: Vec) => v.reduce((a, b) => a + b, 0);
const zip = (f: (...xs: number[]) => number, ...vs: Vec[]) => vs[0].map((_, i) => f(...vs.map((v) => v[i])));

const transe = (h: Vec, r: Vec, t: Vec, norm = 'L2') => {
  const d = zip((a, b, c) => a + b - c, h, r, t);
  return norm === 'L1' ? -sum(d.map(Math.abs)) : -Math.sqrt(sum(d.map((x) => x * x)));
};
const distmult = (h: Vec, r: Vec, t: Vec) => sum(zip((a, b, c) => a * b * c, h, r, t));
const complexScore = (hr: Vec, hi: Vec, rr: Vec, ri: Vec, tr: Vec, ti: Vec) =>
  sum(zip((a, b, c, d, e, f) => a * c * e + a * d * f + b * c * f - b * d * e, hr, hi, rr, ri, tr, ti));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const bce = (s: number, y: number) => {
  const p = sigmoid(s);
  return -(y * Math.max(Math.log(p), -100) + (1 - y) * Math.max(Math.log(1 - p), -100));
};

const D = 6;
const [h, r, t, h2, r2, t2] = [vec(D), vec(D), vec(D), vec(D), vec(D), vec(D)];
const [m1, m2] = [vec(2 * 3), vec(2 * 3)]; // 2-D arguments, (2, 3)
const mat = (v: Vec) => `[${lit(v.slice(0, 3))}, ${lit(v.slice(3))}]`;

interface Case {
  name: string;
  expr: string; // printed
  want: number[];
}

const CASES: Case[] = [
  { name: 'transe_score, L2: minus the distance', expr: `transe_score(${lit(h)}, ${lit(r)}, ${lit(t)}, "L2")`, want: [transe(h, r, t)] },
  { name: 'transe_score, L2 by default', expr: `transe_score(${lit(h)}, ${lit(r)}, ${lit(t)})`, want: [transe(h, r, t)] },
  { name: 'transe_score, L1: minus the sum of absolute values', expr: `transe_score(${lit(h)}, ${lit(r)}, ${lit(t)}, "L1")`, want: [transe(h, r, t, 'L1')] },
  { name: 'transe_score of a perfect triple is 0', expr: `transe_score([1.0, 2.0], [0.5, -1.0], [1.5, 1.0])`, want: [0] },
  { name: 'transe_score of 2-D arguments sums over everything', expr: `transe_score(${mat(m1)}, ${mat(m2)}, zeros([2, 3]))`, want: [transe(m1, m2, new Array(6).fill(0))] },
  { name: 'predict_tail_transe is transe_score', expr: `predict_tail_transe(${lit(h)}, ${lit(r)}, ${lit(t2)}, "L2")`, want: [transe(h, r, t2)] },
  { name: 'predict_head_transe; a norm that is not a string is L2', expr: `predict_head_transe(${lit(h2)}, ${lit(r)}, ${lit(t)}, 7)`, want: [transe(h2, r, t)] },
  { name: 'distmult_score: sum(h * r * t)', expr: `distmult_score(${lit(h)}, ${lit(r)}, ${lit(t)})`, want: [distmult(h, r, t)] },
  { name: 'distmult of 2-D arguments', expr: `distmult_score(${mat(m1)}, ${mat(m2)}, ${mat(m1)})`, want: [distmult(m1, m2, m1)] },
  { name: 'predict_tail_distmult and predict_head_distmult', expr: `predict_tail_distmult(${lit(h)}, ${lit(r2)}, ${lit(t2)}), predict_head_distmult(${lit(h2)}, ${lit(r)}, ${lit(t)})`, want: [distmult(h, r2, t2), distmult(h2, r, t)] },
  { name: 'complex_score: Re(<h, r, conj(t)>)', expr: `complex_score(${[h, h2, r, r2, t, t2].map(lit).join(', ')})`, want: [complexScore(h, h2, r, r2, t, t2)] },
  { name: 'complex_score is not symmetric in h and t', expr: `complex_score(${[t, t2, r, r2, h, h2].map(lit).join(', ')})`, want: [complexScore(t, t2, r, r2, h, h2)] },
  {
    name: 'predict_tail_complex and predict_head_complex',
    expr: `predict_tail_complex(${[h, h2, r, r2, t2, t].map(lit).join(', ')}), predict_head_complex(${[h2, h, r2, r, t, t2].map(lit).join(', ')})`,
    want: [complexScore(h, h2, r, r2, t2, t), complexScore(h2, h, r2, r, t, t2)],
  },
  {
    name: 'margin_ranking_loss: max(0, margin + neg - pos), of two scores',
    expr: `margin_ranking_loss(transe_score(${lit(h)}, ${lit(r)}, ${lit(t)}), transe_score(${lit(h2)}, ${lit(r)}, ${lit(t)}), 1.5)`,
    want: [Math.max(0, 1.5 + transe(h2, r, t) - transe(h, r, t))],
  },
  { name: 'margin_ranking_loss is 0 past the margin, elementwise on vectors', expr: 'margin_ranking_loss([3.0, 0.5, -1.0], [1.0, 1.0, -1.0], 1.0)', want: [0, 1.5, 1] },
  { name: 'binary_cross_entropy, target 1 and 0', expr: `binary_cross_entropy([${h[0]}], 1.0), binary_cross_entropy([${h[1]}], 0)`, want: [bce(h[0], 1), bce(h[1], 0)] },
  { name: 'binary_cross_entropy of a score, target 0.3', expr: `binary_cross_entropy(distmult_score(${lit(h)}, ${lit(r)}, ${lit(t)}), 0.3)`, want: [bce(distmult(h, r, t), 0.3)] },
  { name: 'binary_cross_entropy reads the first element; logs are at least -100', expr: 'binary_cross_entropy([200.0, 5.0], 0.0), binary_cross_entropy([-200.0], 1.0)', want: [100, 100] },
  { name: 'relational_aggregate: node + relation * neighbor', expr: `relational_aggregate(${lit(h)}, ${lit(r)}, ${lit(t)})`, want: zip((a, b, c) => a + b * c, h, r, t) },
  { name: 'relational_aggregate ignores a fourth argument', expr: `relational_aggregate(${lit(h)}, ${lit(r)}, ${lit(t)}, ${lit(t2)})`, want: zip((a, b, c) => a + b * c, h, r, t) },
  { name: 'normalize_features, l2', expr: `normalize_features(${lit(h)}, "l2"), normalize_features(${lit(t)})`, want: [...h.map((x) => x / Math.sqrt(sum(h.map((y) => y * y)))), ...t.map((x) => x / Math.sqrt(sum(t.map((y) => y * y))))] },
  { name: 'normalize_features leaves a zero vector, and other modes', expr: `normalize_features(zeros([3])), normalize_features(${lit(h)}, "layer")`, want: [0, 0, 0, ...h] },
  { name: 'aggregate_neighbors: mean divides, sum and 0 neighbors do not', expr: `aggregate_neighbors(${lit(h)}, 4), aggregate_neighbors(${lit(h)}, 4, "sum"), aggregate_neighbors([2.0], 0)`, want: [...h.map((x) => x / 4), ...h, 2] },
  { name: 'graph_attention: value * sigmoid(query . key)', expr: `graph_attention(${lit(h)}, ${lit(r)}, ${lit(t)})`, want: t.map((x) => x * sigmoid(sum(zip((a, b) => a * b, h, r)))) },
  { name: 'compute_rank, compute_mrr, compute_hits_at_k, compute_mean_rank', expr: 'compute_rank([0.5], 3), compute_mrr(4), compute_hits_at_k(3, 3), compute_hits_at_k(4, 3), compute_hits_at_k(0, 3), compute_mean_rank(8, 3)', want: [4, 0.25, 1, 0, 0, 8 / 3] },
];

const EXAMPLE = readFileSync(new URL('../examples/knowledge_graph.tl', import.meta.url), 'utf8');

describe('knowledge graphs', function () {
  this.timeout(120_000);
  before(async () => {
    gpu = await testGpu();
  });

  describe('scores, losses, metrics and graph helpers against the formulas', () => {
    for (const c of CASES) {
      it(c.name, async () => close(numbers(await run(`main {\n    print(${c.expr})\n}`)), c.want, c.name));
    }

    it('the scores are one number: a tensor of shape (1)', async () => {
      const out = await run(`main {\n    print(shape(transe_score([1.0], [2.0], [3.0])), shape(distmult_score(${mat(m1)}, ${mat(m1)}, ${mat(m2)})), shape(binary_cross_entropy([1.0, 2.0], 1)))\n}`);
      assert.equal(out.trim(), '[1] [1] [1]');
    });

    it('the metrics of numbers known only at run time', async () => {
      const text = 'main {\n    let r = arg("rank", 1)\n    print(compute_mrr(r), compute_hits_at_k(r, 3), compute_mean_rank(r * 3, 2), compute_rank([1.0], r))\n}';
      assert.deepEqual(numbers(await run(text, { rank: '5' })), [0.2, 0, 7.5, 6]);
      assert.deepEqual(numbers(await run(text, { rank: '2' })), [0.5, 1, 3, 3]);
      await assert.rejects(run(text, { rank: '0' }), /main\.tl:3:11.*compute_mrr: the rank must be positive/);
    });

    it('refuses what the original refuses', () => {
      const refused: [string, RegExp][] = [
        ['transe_score([1.0], [1.0], [1.0], "L3")', /main\.tl:2:11: error: transe_score: the norm must be "L1" or "L2", got "L3"/],
        ['transe_score([1.0], [1.0], [1.0], 2)', /transe_score: the norm must be the string "L1" or "L2"/],
        ['margin_ranking_loss([1.0], [1.0], [1.0])', /margin_ranking_loss: the margin must be a number/],
        ['binary_cross_entropy([1.0], "yes")', /binary_cross_entropy: the target must be a number/],
        ['compute_mrr(0)', /compute_mrr: the rank must be positive/],
        ['compute_mean_rank(3, 0)', /compute_mean_rank: num_queries must be positive/],
        ['compute_rank(1, 2)', /compute_rank: the target score must be a tensor/],
        ['complex_score([1.0], [1.0], [1.0])', /complex_score takes 6 arguments, got 3/],
      ];
      for (const [expr, want] of refused) assert.throws(() => build(`main {\n    print(${expr})\n}`, 'main.tl'), want, expr);
    });

    it('examples/knowledge_graph.tl prints what the formulas give', async () => {
      const out = (await run(EXAMPLE)).trim().split('\n');
      const [paris, france, capital, tokyo] = [[0.1, 0.8, 0.3, 0.0], [0.5, 0.9, 0.1, 0.2], [0.4, 0.1, -0.2, 0.2], [0.9, 0.1, 0.6, 0.4]];
      const pos = transe(paris, capital, france), neg = transe(tokyo, capital, france);
      close(numbers(out[0].split(':')[1]), [pos], out[0]); // 0: paris + capital_of is france
      close(numbers(out[1].split(':')[1]), [neg], out[1]); // -sqrt(1.38)
      close(numbers(out[2].split(':')[1]), [distmult(paris, capital, france)], out[2]); // 0.086
      close(numbers(out[3].split(':')[1]), [Math.max(0, 1 + neg - pos)], out[3]); // 0: past the margin
      assert.equal(out[4], 'dimension: 4');
    });
  });

  describe('embedding blocks', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `e${i}`);
    const table = (name: string, members: string[], dim: number, init?: string) =>
      `embedding ${name} {\n    entities: {${members.join(', ')}}\n    dimension: ${dim}\n${init ? `    init: ${init}\n` : ''}}\n`;

    it('a table of (members, dimension); lookups by name, string, variable and row give its rows', async () => {
      const text = `${table('People', ['alice', 'bob', 'carol'], 4, 'xavier')}
main {
    print(shape(People), shape(People[alice]))
    print(People)
    print(People[alice], People[bob], People[carol])
    let who = "carol"
    let i = 1
    print(People["bob"], People[who], People[2], People[i], People[arg("row", 0)])
}`;
      const out = (await run(text, { row: '2' })).trim().split('\n');
      assert.equal(out[0], '[3, 4] [4]');
      const all = numbers(out[1]);
      const row = (k: number) => all.slice(4 * k, 4 * k + 4);
      assert.deepEqual(numbers(out[2]), [...row(0), ...row(1), ...row(2)]);
      assert.deepEqual(numbers(out[3]), [...row(1), ...row(2), ...row(2), ...row(1), ...row(2)]);
    });

    const inits: { init?: string; check: (v: number[], n: number, d: number) => void }[] = [
      {
        init: 'xavier',
        check: (v, n, d) => {
          const limit = Math.sqrt(6 / (n + d));
          assert.ok(v.every((x) => Math.abs(x) <= limit), `within ±${limit}`);
          const mean = sum(v) / v.length, variance = sum(v.map((x) => (x - mean) ** 2)) / v.length;
          assert.ok(Math.abs(mean) < 0.1 * limit, `mean ${mean}`);
          assert.ok(Math.abs(variance / (limit * limit / 3) - 1) < 0.1, `variance ${variance}, uniform gives ${limit * limit / 3}`);
          assert.ok(Math.max(...v) > 0.9 * limit && Math.min(...v) < -0.9 * limit, 'spread over the range');
        },
      },
      {
        init: 'he',
        check: (v, n) => {
          const std = Math.sqrt(2 / n);
          const mean = sum(v) / v.length, sd = Math.sqrt(sum(v.map((x) => (x - mean) ** 2)) / v.length);
          assert.ok(Math.abs(mean) < 0.1 * std && Math.abs(sd / std - 1) < 0.1, `mean ${mean}, sd ${sd}, expected sd ${std}`);
        },
      },
      { init: 'random', check: (v) => assert.ok(v.every((x) => Math.abs(x) <= 0.1) && Math.max(...v) > 0.09 && new Set(v).size > v.length / 2) },
      { init: undefined, check: (v) => assert.ok(v.every((x) => Math.abs(x) <= 0.1) && new Set(v).size > v.length / 2, 'random by default') },
      { init: 'zeros', check: (v) => assert.ok(v.every((x) => x === 0)) },
      { init: 'ones', check: (v) => assert.ok(v.every((x) => x === 1)) },
    ];
    for (const c of inits) {
      it(`init: ${c.init ?? '(none)'}, as the original makes it`, async () => {
        const [n, d] = [40, 32];
        const text = `${table('E', names(n), d, c.init)}\nmain {\n    print(E)\n    print(E)\n}`;
        const [first, second] = (await run(text)).trim().split('\n').map(numbers);
        assert.equal(first.length, n * d);
        assert.deepEqual(first, second);
        c.check(first, n, d);
        // Every build starts from the same values (seeded by the table's name); another name, others.
        if (c.init === 'xavier') {
          assert.deepEqual(numbers((await run(text)).split('\n')[0]), first);
          const other = numbers((await run(text.replace('embedding E', 'embedding F').replaceAll('print(E)', 'print(F)'))).split('\n')[0]);
          assert.notDeepEqual(other, first);
        }
      });
    }

    it('relation_embedding with its relations listed; a table used in a function', async () => {
      const text = `relation_embedding Rel {\n    relations: {lives_in, owns}\n    dimension: 3\n    init: ones\n}\n${table('E', ['a', 'b'], 3, 'zeros')}
fn score(h: float32[3], t: float32[3]) -> float32[1] {
    distmult_score(h, Rel[owns], t)
}
main {
    print(shape(Rel), Rel[lives_in] + E[b], score(Rel[owns], Rel[lives_in]))
}`;
      assert.equal((await run(text)).trim(), '[2, 3] [1, 1, 1] 3');
    });

    it('an unknown member is an error at its place; so is a row out of range, a name twice, a set by name', () => {
      const decl = table('People', ['alice', 'bob'], 4, 'xavier');
      const at = (body: string) => () => build(`${decl}main {\n    let x = ${body}\n}`, 'main.tl');
      // The declaration is 5 lines, so `main {` is line 6 and the index is on line 7.
      assert.throws(at('People[dave]'), /main\.tl:7:20: error: 'dave' is not in the embedding 'People' \(its members are alice, bob\)/);
      assert.throws(at('People["eve"]'), /main\.tl:7:20: error: 'eve' is not in the embedding 'People'/);
      assert.throws(at('People[5]'), /main\.tl:7:20: error: row 5 is out of range for the embedding 'People' \(0\.\.1\)/);
      assert.throws(() => build(`${table('T', ['a', 'b', 'a'], 2)}main {}`, 'main.tl'), /main\.tl:1:1: error: 'a' is listed twice in the embedding 'T'/);
      assert.throws(() => build('embedding T {\n    entities: Nobody\n    dimension: 2\n}\nmain {}', 'main.tl'), /main\.tl:1:1: error: the embedding 'T' takes its entities from 'Nobody', which is not an entity type/);
      assert.throws(() => build('relation_embedding R {\n    relations: some\n    dimension: 2\n}\nmain {}', 'main.tl'), /takes its relations from 'some', which is not 'all'/);
    });

    it('members by name: an entity type\'s members, every relation for `all`', async () => {
      const text = 'entity P = {a, b, c}\nrelation R(x: P)\nrelation S(x: P, y: P)\nembedding E {\n    entities: P\n    dimension: 2\n}\nrelation_embedding V {\n    relations: all\n    dimension: 3\n}\nmain { print(shape(E), shape(V)) }';
      const program = await Program.load(await testGpu(), build(text, 'main.tl'), undefined);
      let out = '';
      await program.run({}, { write: (t) => (out += t) });
      program.destroy();
      assert.equal(out, '[3, 2] [2, 3]\n');
    });

    it('a learn block trains the tables: one SGD step of a DistMult margin loss, as computed by hand', async () => {
      // All ones: pos = neg = 4, loss = max(0, 1 + neg - pos) = 1; d loss / d E[a] = -R[r] * E[b] = -1,
      // d E[c] = +1, d E[b] = R[r] * (E[c] - E[a]) = 0, d R[r] = E[b] * (E[c] - E[a]) = 0.
      const text = `${table('E', ['a', 'b', 'c', 'd'], 4, 'ones')}relation_embedding R {\n    relations: {r}\n    dimension: 4\n    init: ones\n}
main {
    learn {
        pos := distmult_score(E[a], R[r], E[b])
        neg := distmult_score(E[c], R[r], E[b])
        loss := margin_ranking_loss(pos, neg, 1.0)
        objective: loss,
        optimizer: sgd(lr: 0.1),
        epochs: 1
    }
    print(E)
    print(R)
}`;
      const [e, rel] = (await run(text)).trim().split('\n').map(numbers);
      close(e, [...new Array(4).fill(1.1), ...new Array(4).fill(1), ...new Array(4).fill(0.9), ...new Array(4).fill(1)], 'E after one step');
      close(rel, new Array(4).fill(1), 'R after one step');
    });

    it('a learn block reduces a TransE margin loss over xavier embeddings; rows it does not use stay', async () => {
      const text = `${table('E', ['alice', 'bob', 'tokyo', 'carol'], 8, 'xavier')}relation_embedding R {\n    relations: {lives_in}\n    dimension: 8\n}
fn loss() -> float32[1] {
    margin_ranking_loss(transe_score(E[alice], R[lives_in], E[tokyo], "L2"), transe_score(E[bob], R[lives_in], E[tokyo], "L2"), 2.0)
}
main {
    print(loss())
    print(E[carol])
    learn {
        l := loss()
        objective: l,
        optimizer: adam(lr: 0.05),
        epochs: 80
    }
    print(loss())
    print(E[carol])
}`;
      const out = (await run(text)).trim().split('\n').map(numbers);
      const [before, carol0, after, carol1] = out;
      assert.ok(before[0] > 0.5, `the loss starts at ${before[0]}`);
      assert.ok(after[0] < 0.05 * before[0], `the loss goes from ${before[0]} to ${after[0]}`);
      assert.deepEqual(carol1, carol0);
    });
  });
});
