// Logic programming on the device, as tables: a program -> what it prints (worked by hand), or the
// located error it gets. test/logic-reference.test.ts compares random programs with a TypeScript
// Datalog evaluator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from '../compiler/artifact.ts';
import type { Gpu } from '../runtime/device.ts';
import { testGpu } from './support/gpu.ts';
import { printed } from './support/program.ts';

const FAMILY = `
entity Person = { alice, bob, carol, dave, eve }
relation Parent(x: Person, y: Person)
relation Sibling(x: Person, y: Person)
Grandparent(X, Z) <- Parent(X, Y), Parent(Y, Z)
Ancestor(X, Y) <- Parent(X, Y)
Ancestor(X, Z) <- Parent(X, Y), Ancestor(Y, Z)
`;
const FAMILY_FACTS = 'Parent(alice, bob)\n Parent(bob, carol)\n Parent(carol, dave)\n';

const sols = (name: string, values: string[]) => `  Found ${values.length} solution(s)\n${values.map((v, i) => `  Solution ${i + 1}:\n    ${name} = ${v}\n`).join('')}`;
const YES = '  Found 1 solution(s)\n  Solution 1: Yes\n';
const NO = '  No solutions found\n';

const RUNS: { name: string; src: string; out: string; args?: Record<string, string> }[] = [
  {
    name: 'a rule joins two atoms on their shared variable',
    src: `${FAMILY} main { ${FAMILY_FACTS} Grandparent(alice, Z)? }`,
    out: `Query: Grandparent(alice, Z)\n${sols('Z', ['carol'])}`,
  },
  {
    name: 'recursion runs to a fixpoint; ground queries say Yes or nothing',
    src: `${FAMILY} main { ${FAMILY_FACTS} Ancestor(alice, dave)?\n Ancestor(dave, alice)? }`,
    out: `Query: Ancestor(alice, dave)\n${YES}Query: Ancestor(dave, alice)\n${NO}`,
  },
  {
    name: 'where constraints are applied',
    src: `${FAMILY} main { ${FAMILY_FACTS} Ancestor(X, dave)? where X != carol, X != alice }`,
    out: `Query: Ancestor(X, dave)\n${sols('X', ['bob'])}`,
  },
  {
    name: 'two variables: one solution per pair, the first variable slowest',
    src: `${FAMILY} main { ${FAMILY_FACTS} Grandparent(X, Y)? }`,
    out: 'Query: Grandparent(X, Y)\n  Found 2 solution(s)\n  Solution 1:\n    X = alice\n    Y = carol\n  Solution 2:\n    X = bob\n    Y = dave\n',
  },
  {
    name: 'non-linear recursion (both atoms recursive) gives the same closure',
    src: `entity N = {a, b, c, d, e}\nrelation E(x: N, y: N)\nP(X, Y) <- E(X, Y)\nP(X, Z) <- P(X, Y), P(Y, Z)\nmain { E(a, b)\n E(b, c)\n E(c, d)\n E(d, a)\n P(b, X)? }`,
    out: `Query: P(b, X)\n${sols('X', ['a', 'b', 'c', 'd'])}`,
  },
  {
    name: 'mutual recursion: Even and Odd along a successor chain',
    src: `entity N = {n0, n1, n2, n3, n4}\nrelation Succ(x: N, y: N)\nrelation Zero(x: N)\nEven(X) <- Zero(X)\nEven(Y) <- Odd(X), Succ(X, Y)\nOdd(Y) <- Even(X), Succ(X, Y)\nmain { Zero(n0)\n Succ(n0, n1)\n Succ(n1, n2)\n Succ(n2, n3)\n Succ(n3, n4)\n Even(X)?\n Odd(X)? }`,
    out: `Query: Even(X)\n${sols('X', ['n0', 'n2', 'n4'])}Query: Odd(X)\n${sols('X', ['n1', 'n3'])}`,
  },
  {
    name: 'stratified negation: what is not reached',
    src: `entity Node = {a, b, c, d}\nrelation Edge(x: Node, y: Node)\nrelation Start(x: Node)\nReach(X) <- Start(X)\nReach(Y) <- Reach(X), Edge(X, Y)\nUnreached(X) <- not Reach(X)\nmain { Start(a)\n Edge(a, b)\n Edge(b, c)\n Edge(d, a)\n Unreached(X)?\n Reach(X)? where !Edge(X, c) }`,
    out: `Query: Unreached(X)\n${sols('X', ['d'])}Query: Reach(X)\n${sols('X', ['a', 'c'])}`,
  },
  {
    name: 'constants and repeated variables in heads and bodies; _ matches anything',
    src: `entity T = {a, b, c}\nrelation E(x: T, y: T)\nLoop(X) <- E(X, X)\nHasOut(X) <- E(X, _)\nToB(X, b) <- E(X, c)\nmain { E(a, a)\n E(b, c)\n E(c, c)\n Loop(X)?\n HasOut(X)?\n ToB(X, Y)?\n E(X, X)? }`,
    out: `Query: Loop(X)\n${sols('X', ['a', 'c'])}Query: HasOut(X)\n${sols('X', ['a', 'b', 'c'])}Query: ToB(X, Y)\n  Found 2 solution(s)\n  Solution 1:\n    X = b\n    Y = b\n  Solution 2:\n    X = c\n    Y = b\n` +
      `Query: E(X, X)\n${sols('X', ['a', 'c'])}`,
  },
  {
    name: 'a ternary relation: a repeated variable with a constant, a where clause, _ in a query',
    src: 'entity T = {a, b, c}\nrelation R(x: T, y: T, z: T)\nmain { R(a, a, b)\n R(b, b, c)\n R(c, a, b)\n R(X, X, b)?\n R(X, Y, b)? where X != Y\n R(_, X, c)? }',
    out: `Query: R(X, X, b)\n${sols('X', ['a'])}Query: R(X, Y, b)\n  Found 1 solution(s)\n  Solution 1:\n    X = c\n    Y = a\nQuery: R(_, X, c)\n${sols('X', ['b'])}`,
  },
  {
    name: 'open entity types take the names the facts use; the generic entity type too',
    src: `entity City\nrelation Lives(p: entity, c: City)\nmain { Lives(Alice, tokyo)\n Lives(Bob, osaka)\n Lives(X, osaka)?\n print(entity_dim(City), entity_dim(entity)) }`,
    out: `Query: Lives(X, osaka)\n${sols('X', ['Bob'])}2 2\n`,
  },
  {
    name: 'a relation given a tensor (positive is true), used by a rule with a comparison',
    src: `entity P = {a, b, c}\nrelation Similar(x: P, y: P)\nFriends(X, Y) <- Similar(X, Y), X != Y\nmain { Similar = [[1.0, 0.9, 0.1], [0.9, 1.0, 0.2], [0.1, 0.2, 1.0]] - 0.5\n Similar(a, X)?\n Friends(X, Y)? }`,
    out: `Query: Similar(a, X)\n${sols('X', ['a', 'b'])}Query: Friends(X, Y)\n  Found 2 solution(s)\n  Solution 1:\n    X = a\n    Y = b\n  Solution 2:\n    X = b\n    Y = a\n`,
  },
  {
    name: 'a relation is a 0/1 tensor, and an atom with variables is one over them',
    src: `${FAMILY} main { ${FAMILY_FACTS} print(sum(Ancestor))\n print(Parent(alice, X))\n print(entity_onehot(Person, bob)) }`,
    out: '6\n[0, 1, 0, 0, 0]\n[0, 1, 0, 0, 0]\n',
  },
  {
    name: 'facts added after a query change the next answer',
    src: `${FAMILY} main { Parent(alice, bob)\n Ancestor(alice, X)?\n Parent(bob, eve)\n Ancestor(alice, X)? }`,
    out: `Query: Ancestor(alice, X)\n${sols('X', ['bob'])}Query: Ancestor(alice, X)\n${sols('X', ['bob', 'eve'])}`,
  },
  {
    name: 'facts stated in run-time control flow set the relation there; later facts and queries see them',
    src: `entity N = {a, b, c, d}\nrelation E(x: N, y: N)\nP(X, Y) <- E(X, Y)\nP(X, Z) <- E(X, Y), P(Y, Z)\nmain {\n E(a, b)\n let n = arg("n", 2)\n let i = 0\n while i < n {\n  if i == 0 { E(b, c) } else { E(c, d) }\n  i = i + 1\n  P(a, X)?\n }\n E(d, a)\n P(d, X)?\n}`,
    args: { n: '1' },
    out: `Query: P(a, X)\n${sols('X', ['b', 'c'])}Query: P(d, X)\n${sols('X', ['a', 'b', 'c'])}`,
  },
  {
    name: "infer blocks answer their queries; with blocks run their body",
    src: `${FAMILY} main { ${FAMILY_FACTS} infer forward Parent(alice, X)?\n with Person { print(len(Person)) } }`,
    out: `Query: Parent(alice, X)\n${sols('X', ['bob'])}5\n`,
  },
];

const example = (name: string) => readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
RUNS.push(
  {
    name: 'examples/family_logic.tl',
    src: example('family_logic.tl'),
    out: `Who are alice's grandchildren?\nQuery: Grandparent(alice, Z)\n${sols('Z', ['carol'])}Is alice an ancestor of dave?\nQuery: Ancestor(alice, dave)\n${YES}` +
      `Ancestors of dave, other than carol:\nQuery: Ancestor(X, dave)\n${sols('X', ['alice', 'bob'])}`,
  },
  {
    name: 'examples/neural_logic.tl: a rule over a thresholded embedding similarity',
    src: example('neural_logic.tl'),
    out: `Similar to the cat:\nQuery: Similar(cat, X)\n${sols('X', ['lion', 'tiger'])}New guesses, from similarity and the rule:\nQuery: Guess(X, Y)\n  Found 7 solution(s)\n` +
      [['cat', 'dog'], ['lion', 'sparrow'], ['lion', 'mouse'], ['tiger', 'dog'], ['tiger', 'sparrow'], ['tiger', 'mouse'], ['dog', 'lion']].map(([x, y], i) => `  Solution ${i + 1}:\n    X = ${x}\n    Y = ${y}\n`).join(''),
  },
);

const ERRORS: { name: string; src: string; error: string }[] = [
  { name: 'negation through recursion', src: 'entity N = {a, b}\nrelation Move(x: N, y: N)\nWin(X) <- Move(X, Y), not Win(Y)\nmain { Win(X)? }', error: 'main.tl:3:23: error: these rules are not stratifiable: Win depends on its own negation' },
  { name: 'negation through mutual recursion', src: 'entity N = {a, b}\nrelation Move(x: N, y: N)\nA(X) <- Move(X, Y), not B(Y)\nB(X) <- Move(X, Y), A(Y)\nmain { A(X)? }', error: 'main.tl:3:21: error: these rules are not stratifiable: A depends on the negation of B, which depends on A (A -> B -> A)' },
  { name: 'a fact outside its closed entity type', src: `${FAMILY} main { Parent(alice, zed) }`, error: "main.tl:8:23: error: 'zed' is not a Person (Person = {alice, bob, carol, dave, eve})" },
  { name: 'a fact with a variable', src: `${FAMILY} main { Parent(alice, X)\n print(1) }`, error: 'main.tl:8:23: error: a fact cannot have a variable (X)' },
  { name: 'a fact with the wrong arity', src: `${FAMILY} main { Parent(alice) }`, error: 'main.tl:8:9: error: Parent takes 2 arguments, got 1' },
  { name: 'a fact stated in a function called from run-time control flow', src: `${FAMILY}fn adopt() { Parent(alice, bob) }\nmain { let n = arg("n", 1)\n while n > 0 { adopt()\n n = n - 1 } }`, error: 'main.tl:8:14: error: a fact inside run-time control flow that the loop or if does not state itself' },
  { name: 'a relation given a tensor of the wrong shape', src: `${FAMILY} main { Sibling = [1.0, 0.0] }`, error: "main.tl:8:9: error: 'Sibling' is a 5 x 5 relation (Person, Person), but this tensor has shape [2]" },
  { name: 'a head variable with no type', src: 'entity N = {a}\nrelation E(x: N, y: N)\nR(X, Z) <- E(X, X)\nmain { R(X, Y)? }', error: "main.tl:3:1: error: the types of R's arguments cannot be found" },
  { name: 'a variable used as two entity types', src: 'entity A = {a}\nentity B = {b}\nrelation P(x: A)\nrelation Q(x: B)\nR(X) <- P(X), Q(X)\nmain { R(X)? }', error: 'main.tl:5:17: error: the variable X is an A in one place and a B in another' },
];

describe('logic programming: relations, rules and queries on the device', function () {
  this.timeout(120_000);
  let gpu: Gpu;
  before(async () => (gpu = await testGpu()));

  for (const c of RUNS) {
    it(c.name, async () => {
      assert.equal(await printed(gpu, c.src, 'main.tl', c.args), c.out);
    });
  }

  for (const c of ERRORS) {
    it(`refused: ${c.name}`, () => {
      assert.throws(
        () => build(c.src, 'main.tl'),
        (e: Error) => (assert.equal(e.message.split('\n')[0].slice(0, c.error.length), c.error), true),
      );
    });
  }
});
