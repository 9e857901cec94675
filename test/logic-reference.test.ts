// Random logic programs on the device against the TypeScript Datalog reference
// (test/reference/datalog.ts): random facts, a random subset of rule templates (linear and
// non-linear recursion, mutual recursion, stratified negation, comparisons, constants), and every
// derived relation queried. The answers must print the same, solution for solution.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Gpu } from '../runtime/device.ts';
import { evaluate, query, type Literal, type Program as RefProgram, type Rule, type Term } from './reference/datalog.ts';
import { testGpu } from './support/gpu.ts';
import { printed } from './support/program.ts';

// Rule templates, in the surface syntax both sides read: `!` negates, capitals are variables.
const TEMPLATES: string[][] = [
  ['P(X, Y) <- E(X, Y)', 'P(X, Z) <- E(X, Y), P(Y, Z)'], // right-linear closure
  ['L(X, Y) <- F(X, Y)', 'L(X, Z) <- L(X, Y), F(Y, Z)'], // left-linear
  ['M(X, Y) <- E(X, Y)', 'M(X, Z) <- E(X, Y), M(Y, Z)', 'M(X, Z) <- M(X, Y), F(Y, Z)'], // both sides
  ['T(X, Y) <- E(X, Y)', 'T(X, Z) <- T(X, Y), T(Y, Z)'], // non-linear
  ['A(X, Y) <- E(X, Y)', 'A(X, Z) <- B(X, Y), E(Y, Z)', 'B(X, Z) <- A(X, Y), F(Y, Z)'], // mutual
  ['P(X, Y) <- E(X, Y)', 'P(X, Z) <- E(X, Y), P(Y, Z)', 'Q(X) <- U(X), !P(X, X)'], // negation of a lower stratum
  ['R(X, Y) <- E(X, Y), X != Y, !F(Y, X)', 'S(X) <- R(X, Y), U(Y)'],
  ['C(X, Y) <- F(X, Y), Y == n0', 'C(X, Y) <- E(Y, X), X == n1'],
  ['D(X, Y) <- U(X), U(Y), !E(X, Y)', 'G(X) <- D(X, X)'],
];

const term = (s: string): Term => (/^[A-Z]$/.test(s) ? { v: s } : { c: s });
function parseAtom(s: string): { rel: string; args: Term[] } {
  const m = /^(\w+)\((.*)\)$/.exec(s.trim())!;
  return { rel: m[1], args: m[2].split(',').map((a) => term(a.trim())) };
}
function parseLiteral(s: string): Literal {
  const cmp = /^(\w+)\s*(==|!=)\s*(\w+)$/.exec(s.trim());
  if (cmp) return { cmp: cmp[2] as '==' | '!=', left: term(cmp[1]), right: term(cmp[3]) };
  return s.trim().startsWith('!') ? { ...parseAtom(s.trim().slice(1)), negated: true } : parseAtom(s);
}
function parseRule(s: string): Rule {
  const [head, body] = s.split('<-');
  return { head: parseAtom(head), body: body.match(/!?\w+\([^)]*\)|\w+\s*[!=]=\s*\w+/g)!.map(parseLiteral) };
}

interface Case {
  n: number;
  facts: { E: [number, number][]; F: [number, number][]; U: number[] };
  templates: number[];
}

const pair = (n: number) => fc.tuple(fc.nat(n - 1), fc.nat(n - 1));
const caseArb = fc.integer({ min: 2, max: 9 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    facts: fc.record({ E: fc.array(pair(n), { maxLength: 2 * n }), F: fc.array(pair(n), { maxLength: 2 * n }), U: fc.array(fc.nat(n - 1), { maxLength: n }) }),
    templates: fc.uniqueArray(fc.nat(TEMPLATES.length - 1), { minLength: 1, maxLength: 3 }),
  }),
);

/** The case as a reference program, the TensorLogic source, and the queries asked. */
function programs(c: Case): { ref: RefProgram; source: string; queries: string[] } {
  const nodes = Array.from({ length: c.n }, (_, i) => `n${i}`);
  const rules = [...new Set(c.templates.flatMap((t) => TEMPLATES[t]))];
  const parsed = rules.map(parseRule);
  const arity = new Map<string, number>([['E', 2], ['F', 2], ['U', 1]]);
  for (const r of parsed) arity.set(r.head.rel, r.head.args.length);
  const derived = [...new Set(parsed.map((r) => r.head.rel))];
  const name = (i: number) => nodes[i];
  const facts = { E: c.facts.E.map(([a, b]) => [name(a), name(b)]), F: c.facts.F.map(([a, b]) => [name(a), name(b)]), U: c.facts.U.map((a) => [name(a)]) };
  const vars = ['X', 'Y'];
  const queries = [...derived.map((r) => `${r}(${vars.slice(0, arity.get(r)).join(', ')})`), `E(n0, X)`];
  const source = [
    `entity N = { ${nodes.join(', ')} }`,
    'relation E(x: N, y: N)',
    'relation F(x: N, y: N)',
    'relation U(x: N)',
    ...rules.map((r) => r.replace(/!(?=\w+\()/g, 'not ')),
    'main {',
    ...Object.entries(facts).flatMap(([rel, ts]) => ts.map((t) => `  ${rel}(${t.join(', ')})`)),
    ...queries.map((q) => `  ${q}?`),
    '}',
  ].join('\n');
  const relations = Object.fromEntries([...arity].map(([r, k]) => [r, Array(k).fill('N')]));
  return { ref: { domains: { N: nodes }, relations, facts, rules: parsed }, source, queries };
}

/** What the device prints for a query, from the reference's answers. */
function expected(ref: RefProgram, q: string): string {
  const atom = parseAtom(q);
  const answers = query(evaluate(ref), ref, atom);
  const vars = atom.args.flatMap((t) => ('v' in t ? [t.v] : []));
  const head = `Query: ${q}\n`;
  if (answers.length === 0) return `${head}  No solutions found\n`;
  const sols = answers.map((a, i) => (vars.length ? `  Solution ${i + 1}:\n${vars.map((v) => `    ${v} = ${a[v]}\n`).join('')}` : `  Solution ${i + 1}: Yes\n`));
  return `${head}  Found ${answers.length} solution(s)\n${sols.join('')}`;
}

describe('logic programs on the device agree with the Datalog reference', function () {
  this.timeout(300_000);
  let gpu: Gpu;
  before(async () => (gpu = await testGpu()));

  it('random facts and rule sets: every derived relation, solution for solution', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { ref, source, queries } = programs(c);
        assert.equal(await printed(gpu, source, 'random.tl'), queries.map((q) => expected(ref, q)).join(''), source);
      }),
      { numRuns: 40, seed: 12 },
    );
  });
});
