// The reference Datalog evaluator (test/reference/datalog.ts) on hand-worked programs: recursion,
// mutual recursion, stratified negation, comparisons, queries; and on random graphs against a
// breadth-first transitive closure written here.
import { strict as assert } from 'node:assert';
import {
  evaluate, evaluateEncoded, query, key, randomGraphProgram, NotStratifiable,
  type Literal, type Program, type Rule, type Term,
} from './reference/datalog.ts';

// A tiny surface syntax so the programs read as Datalog: capitalised names are variables.
//   'Path(X, Z) :- Edge(X, Y), Path(Y, Z)'   '!Reach(X)'   'X != Y'   'X == alice'
const term = (s: string): Term => (/^[A-Z_]/.test(s) ? { v: s } : { c: s });
function atom(s: string): { rel: string; args: Term[] } {
  const m = /^(\w+)\((.*)\)$/.exec(s.trim());
  if (!m) throw new Error(`bad atom ${s}`);
  return { rel: m[1], args: m[2].trim() === '' ? [] : m[2].split(',').map((a) => term(a.trim())) };
}
function literal(s: string): Literal {
  const cmp = /^(\w+)\s*(==|!=)\s*(\w+)$/.exec(s.trim());
  if (cmp) return { cmp: cmp[2] as '==' | '!=', left: term(cmp[1]), right: term(cmp[3]) };
  return s.trim().startsWith('!') ? { ...atom(s.trim().slice(1)), negated: true } : atom(s);
}
function rule(s: string): Rule {
  const [head, body = ''] = s.split(':-');
  return { head: atom(head), body: (body.match(/!?\w+\([^)]*\)|\w+\s*[!=]=\s*\w+/g) ?? []).map(literal) };
}
const rows = (s: string) => s.split(/\s*;\s*/).filter(Boolean).map((t) => t.split(/\s*,\s*/));
const tuples = (r: Map<string, Set<string>>, rel: string) => [...r.get(rel)!].map((k) => k.split('\u0000')).sort();
const sorted = (s: string) => rows(s).sort();

// A family, listed out of alphabetical order so that "domain order" is visible in query results.
const people = ['dave', 'alice', 'carol', 'bob', 'erin', 'frank'];
const family = (rules: string[], relations: Record<string, string[]> = {}): Program => ({
  domains: { Person: people },
  relations: { Parent: ['Person', 'Person'], ...relations },
  // alice -> bob -> carol -> dave; alice -> erin -> frank
  facts: { Parent: rows('alice,bob; bob,carol; carol,dave; alice,erin; erin,frank') },
  rules: rules.map(rule),
});
const ancestors = 'alice,bob; alice,carol; alice,dave; alice,erin; alice,frank; bob,carol; bob,dave; carol,dave; erin,frank';

describe('datalog reference: recursion', () => {
  it('grandparent: one join', () => {
    const r = evaluate(family(['Grand(X, Z) :- Parent(X, Y), Parent(Y, Z)'], { Grand: ['Person', 'Person'] }));
    assert.deepEqual(tuples(r, 'Grand'), sorted('alice,carol; alice,frank; bob,dave'));
    assert.deepEqual(tuples(r, 'Parent'), sorted('alice,bob; bob,carol; carol,dave; alice,erin; erin,frank'));
  });

  it('ancestor: left-linear, right-linear and non-linear recursion give the same closure', () => {
    const rel = { Anc: ['Person', 'Person'] };
    const base = 'Anc(X, Y) :- Parent(X, Y)';
    for (const step of ['Anc(X, Z) :- Parent(X, Y), Anc(Y, Z)', 'Anc(X, Z) :- Anc(X, Y), Parent(Y, Z)', 'Anc(X, Z) :- Anc(X, Y), Anc(Y, Z)']) {
      assert.deepEqual(tuples(evaluate(family([base, step], rel)), 'Anc'), sorted(ancestors), step);
    }
  });

  it('mutual recursion: Even / Odd along a successor chain', () => {
    const n = Array.from({ length: 7 }, (_, i) => `k${i}`);
    const r = evaluate({
      domains: { Num: n },
      relations: { Zero: ['Num'], Succ: ['Num', 'Num'], Even: ['Num'], Odd: ['Num'] },
      facts: { Zero: [['k0']], Succ: n.slice(1).map((x, i) => [n[i], x]) },
      rules: ['Even(X) :- Zero(X)', 'Even(Y) :- Succ(X, Y), Odd(X)', 'Odd(Y) :- Succ(X, Y), Even(X)'].map(rule),
    });
    assert.deepEqual(tuples(r, 'Even'), [['k0'], ['k2'], ['k4'], ['k6']]);
    assert.deepEqual(tuples(r, 'Odd'), [['k1'], ['k3'], ['k5']]);
  });

  it('base facts and rules both define a relation: the union, and derivations build on the facts', () => {
    const p = family(['Anc(X, Y) :- Parent(X, Y)', 'Anc(X, Z) :- Parent(X, Y), Anc(Y, Z)'], { Anc: ['Person', 'Person'] });
    p.facts.Anc = [['dave', 'alice']]; // a declared fact the rules extend on the left: X -> dave -> alice
    assert.deepEqual(tuples(evaluate(p), 'Anc'), sorted(`${ancestors}; dave,alice; carol,alice; bob,alice; alice,alice`));
  });

  it('a rule with an empty body holds for every member; a head-only variable ranges over its type', () => {
    const r = evaluate(family(['Someone(X) :-', 'Pair(X, Y) :- Parent(X, bob)'], { Someone: ['Person'], Pair: ['Person', 'Person'] }));
    assert.equal(r.get('Someone')!.size, people.length);
    assert.deepEqual(tuples(r, 'Pair'), people.map((q) => ['alice', q]).sort());
  });

  it('relations of arity zero: a proposition is the set {""} or empty', () => {
    const p = family(['HasGrand() :- Parent(X, Y), Parent(Y, Z)', 'Loop() :- Parent(X, X)'], { HasGrand: [], Loop: [] });
    const r = evaluate(p);
    assert.deepEqual([...r.get('HasGrand')!], ['']);
    assert.deepEqual([...r.get('Loop')!], []);
    assert.deepEqual(query(r, p, atom('HasGrand()')), [{}]);
    assert.deepEqual(query(r, p, atom('Loop()')), []);
  });
});

describe('datalog reference: negation', () => {
  const graph = (rules: string[]): Program => ({
    domains: { N: ['a', 'b', 'c', 'd', 'e'] },
    relations: { Node: ['N'], Start: ['N'], Edge: ['N', 'N'], Reach: ['N'], Unreachable: ['N'], Unreachable2: ['N'], Hub: ['N'] },
    facts: { Node: rows('a; b; c; d; e'), Start: [['a']], Edge: rows('a,b; b,c; c,a; d,e') },
    rules: rules.map(rule),
  });

  it('stratified negation: Unreachable(X) <- Node(X), !Reach(X)', () => {
    const r = evaluate(graph([
      'Reach(X) :- Start(X)', 'Reach(Y) :- Reach(X), Edge(X, Y)',
      'Unreachable(X) :- Node(X), !Reach(X)',
      'Unreachable2(X) :- !Reach(X)', // X typed by the negated literal alone: every member not reached
    ]));
    assert.deepEqual(tuples(r, 'Reach'), [['a'], ['b'], ['c']]);
    assert.deepEqual(tuples(r, 'Unreachable'), [['d'], ['e']]);
    assert.deepEqual(tuples(r, 'Unreachable2'), [['d'], ['e']]);
  });

  it('a stratum above a negation above a recursion: negation of a negation', () => {
    const r = evaluate(graph([
      'Reach(X) :- Start(X)', 'Reach(Y) :- Reach(X), Edge(X, Y)', 'Unreachable(X) :- !Reach(X)', 'Hub(X) :- !Unreachable(X)',
    ]));
    assert.deepEqual(tuples(r, 'Hub'), [['a'], ['b'], ['c']]);
  });

  it('a variable that only a negated literal mentions ranges over its whole type', () => {
    // Hub(X): some Y with no edge X -> Y, i.e. every node (none has edges to all five)
    const p = graph(['Hub(X) :- Node(X), !Edge(X, Y)']);
    assert.equal(evaluate(p).get('Hub')!.size, 5);
  });

  it('Win(X) <- Move(X, Y), !Win(Y) is not stratifiable, and the error names Win', () => {
    const p: Program = {
      domains: { Pos: ['p', 'q'] }, relations: { Move: ['Pos', 'Pos'], Win: ['Pos'] },
      facts: { Move: [['p', 'q']] }, rules: [rule('Win(X) :- Move(X, Y), !Win(Y)')],
    };
    assert.throws(() => evaluate(p), (e: unknown) => e instanceof NotStratifiable && e.cycle.join() === 'Win' && /Win/.test(e.message));
  });

  it('a negation around a longer cycle names every relation on it', () => {
    const p: Program = {
      domains: { T: ['x'] }, relations: { A: ['T'], B: ['T'], C: ['T'], D: ['T'] }, facts: {},
      rules: ['A(X) :- B(X)', 'B(X) :- C(X)', 'C(X) :- !A(X)', 'D(X) :- !A(X)'].map(rule),
    };
    assert.throws(() => evaluate(p), (e: unknown) => e instanceof NotStratifiable && [...e.cycle].sort().join() === 'A,B,C');
  });
});

describe('datalog reference: comparisons and constants', () => {
  it('X != Y: siblings are not their own siblings', () => {
    const p = family(['Sib(X, Y) :- Parent(P, X), Parent(P, Y), X != Y'], { Sib: ['Person', 'Person'] });
    p.facts.Parent.push(['alice', 'dave']);
    assert.deepEqual(tuples(evaluate(p), 'Sib'), sorted('bob,erin; erin,bob; bob,dave; dave,bob; erin,dave; dave,erin'));
  });

  it('X == c and constants in atoms select the same tuples', () => {
    const p = family(['A(Y) :- Parent(X, Y), X == alice', 'B(Y) :- Parent(alice, Y)', 'C(Y) :- Parent(X, Y), alice == X'],
      { A: ['Person'], B: ['Person'], C: ['Person'] });
    const r = evaluate(p);
    for (const rel of ['A', 'B', 'C']) assert.deepEqual(tuples(r, rel), [['bob'], ['erin']], rel);
  });

  it('a variable only in comparisons takes its type from the other side', () => {
    const p = family(['Other(X, Y) :- Parent(X, bob), Y != X', 'Is(Y) :- Y == carol', 'Dead() :- alice == bob'],
      { Other: ['Person', 'Person'], Is: ['Person'], Dead: [] });
    const r = evaluate(p);
    assert.deepEqual(tuples(r, 'Other'), people.filter((q) => q !== 'alice').map((q) => ['alice', q]).sort());
    assert.deepEqual(tuples(r, 'Is'), [['carol']]);
    assert.equal(r.get('Dead')!.size, 0);
  });

  it('repeated variables: R(X, X) in a body, in a head, and in a query', () => {
    const p: Program = {
      domains: { N: ['a', 'b', 'c'] }, relations: { E: ['N', 'N'], Self: ['N'], Diag: ['N', 'N'], N1: ['N'] },
      facts: { E: rows('a,a; a,b; b,b; b,c'), N1: rows('a; c') },
      rules: ['Self(X) :- E(X, X)', 'Diag(X, X) :- N1(X)'].map(rule),
    };
    const r = evaluate(p);
    assert.deepEqual(tuples(r, 'Self'), [['a'], ['b']]);
    assert.deepEqual(tuples(r, 'Diag'), [['a', 'a'], ['c', 'c']]);
    assert.deepEqual(query(r, p, atom('E(X, X)')), [{ X: 'a' }, { X: 'b' }]);
  });
});

describe('datalog reference: queries', () => {
  const p = family(['Anc(X, Y) :- Parent(X, Y)', 'Anc(X, Z) :- Parent(X, Y), Anc(Y, Z)'], { Anc: ['Person', 'Person'] });
  const r = evaluate(p);

  it('a constant argument: bindings in domain order, not name order', () => {
    assert.deepEqual(query(r, p, atom('Anc(X, dave)')), [{ X: 'alice' }, { X: 'carol' }, { X: 'bob' }]);
    assert.deepEqual(query(r, p, atom('Anc(alice, Y)')), ['dave', 'carol', 'bob', 'erin', 'frank'].map((Y) => ({ Y })));
  });

  it('two variables: row-major in first-appearance order, keys in that order', () => {
    const got = query(r, p, atom('Anc(Y, X)'));
    const order = (n: string) => people.indexOf(n);
    const want = rows(ancestors).map(([a, d]) => ({ Y: a, X: d }))
      .sort((u, v) => order(u.Y) - order(v.Y) || order(u.X) - order(v.X));
    assert.deepEqual(got, want);
    assert.deepEqual(Object.keys(got[0]), ['Y', 'X']);
  });

  it('ground queries answer yes ([{}]) or no ([])', () => {
    assert.deepEqual(query(r, p, atom('Anc(alice, frank)')), [{}]);
    assert.deepEqual(query(r, p, atom('Anc(frank, alice)')), []);
  });

  it('where: comparisons, negations, and existential variables that appear only there', () => {
    assert.deepEqual(query(r, p, atom('Anc(alice, Y)'), [literal('Y != dave'), literal('!Parent(alice, Y)')]), [{ Y: 'carol' }, { Y: 'frank' }]);
    // X has a grandchild: Z is existential, so each X appears once
    assert.deepEqual(query(r, p, atom('Parent(X, Y)'), [literal('Parent(Y, Z)')]), [{ X: 'alice', Y: 'bob' }, { X: 'alice', Y: 'erin' }, { X: 'bob', Y: 'carol' }]);
    assert.deepEqual(query(r, p, atom('Anc(X, Y)'), [literal('X == bob')]), [{ X: 'bob', Y: 'dave' }, { X: 'bob', Y: 'carol' }]);
    assert.deepEqual(query(r, p, atom('Anc(alice, bob)'), [literal('Parent(bob, carol)')]), [{}]);
    assert.deepEqual(query(r, p, atom('Anc(alice, bob)'), [literal('!Parent(bob, carol)')]), []);
  });
});

describe('datalog reference: malformed programs', () => {
  const withCity = (rules: string[]): Program => ({ ...family(rules, { U: ['Person'], C: ['City'] }), domains: { Person: people, City: ['rome'] } });
  const bad = (rules: string[], message: RegExp) => assert.throws(() => evaluate(withCity(rules)), message);

  it('a variable no position types', () => bad(['U(X) :- Parent(X, Y), Z != W'], /no argument position gives variable Z a type/));
  it('a variable at positions of two types', () =>
    bad(['U(X) :- Parent(X, Y), C(Y)'], /variable Y is both a Person and a City/));
  it('a constant that is not a member', () => bad(['U(X) :- Parent(X, zed)'], /zed is not a member of Person/));
  it('an unknown relation, a wrong arity', () => {
    bad(['U(X) :- Sibling(X, Y)'], /unknown relation Sibling/);
    bad(['U(X) :- Parent(X)'], /Parent takes 2 arguments, not 1/);
  });
});

describe('datalog reference: random graphs', () => {
  /** Transitive closure by breadth-first search from every node. */
  function closure(p: Program): string[] {
    const out = new Map<string, string[]>();
    for (const [a, b] of p.facts.Edge) out.set(a, [...(out.get(a) ?? []), b]);
    const keys: string[] = [];
    for (const s of p.domains.Node) {
      const seen = new Set<string>();
      for (const queue = [...(out.get(s) ?? [])]; queue.length > 0;) {
        const x = queue.shift()!;
        if (seen.has(x)) continue;
        seen.add(x);
        queue.push(...(out.get(x) ?? []));
      }
      seen.forEach((t) => keys.push(key([s, t])));
    }
    return keys.sort();
  }

  it('Path is the breadth-first closure, for several sizes, densities and seeds', () => {
    for (const [n, d, seed] of [[1, 1, 1], [10, 0.5, 2], [40, 1, 3], [60, 1.5, 4], [120, 2, 5]]) {
      const p = randomGraphProgram(n, d, seed);
      assert.ok(p.facts.Edge.length > 0 && p.facts.Edge.length <= Math.round(n * d));
      assert.deepEqual([...evaluate(p).get('Path')!].sort(), closure(p), `n=${n} d=${d} seed=${seed}`);
    }
  });

  it('the non-linear rule gives the same Path; the generator is deterministic per seed', () => {
    const p = randomGraphProgram(80, 1.5, 7);
    const q = { ...p, rules: [p.rules[0], rule('Path(X, Z) :- Path(X, Y), Path(Y, Z)')] };
    assert.deepEqual([...evaluate(q).get('Path')!].sort(), [...evaluate(p).get('Path')!].sort());
    assert.deepEqual(randomGraphProgram(80, 1.5, 7), p);
    assert.notDeepEqual(randomGraphProgram(80, 1.5, 8).facts, p.facts);
  });

  it('evaluateEncoded: row-major flat indices of the same tuples', () => {
    const p = randomGraphProgram(50, 2, 9);
    const { shape, tuples: codes } = evaluateEncoded(p).get('Path')!;
    assert.deepEqual(shape, [50, 50]);
    const names = p.domains.Node;
    assert.deepEqual(codes.map((t) => key([names[Math.floor(t / 50)], names[t % 50]])).sort(), [...evaluate(p).get('Path')!].sort());
  });
});
