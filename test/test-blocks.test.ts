// `tlc test` and `tlc bench FILE.tl`: test and bench blocks built as programs of their own, run on the
// WebGPU adapter. Spawns `node bin/tlc.js` on small programs written to a temporary directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSERTIONS } from '../runtime/assertions.ts';
import { compile } from '../compiler/compile.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TLC = path.join(ROOT, 'bin/tlc.js');

interface Ran { code: number | null; stdout: string; stderr: string }

function tlc(cwd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TLC, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const TESTS = `let scale = 3.0

fn add(a: float, b: float) -> float {
    a + b
}

main {
    print("MAIN RAN")
}

test adds_numbers {
    assert_eq(add(1.0, 2.0), 3.0)
    assert(add(1.0, 1.0) == 2.0, "one and one make two")
}

test uses_globals {
    assert_eq(scale * 2.0, 6.0)
}

test sums_a_tensor {
    let x = ones([2, 3])
    assert_eq(sum(x), 6.0)
    assert_about_eq(mean(x), 1.0, 0.000001)
}

test wrong_sum {
    print("before the failure")
    assert_eq(sum(ones([2, 2])), 5.0)
    print("never printed")
}

test wrong_with_message {
    assert(add(2.0, 2.0) == 5.0, "two and two make four")
}

test bare_assert {
    assert(1 > 2)
}

test not_close {
    assert_about_eq(sum(ones([4])), 4.5, 0.1)
}

test panics {
    panic("bad value {} of {}", 3, "x")
}

test unknown_function {
    frobnicate(1)
}
`;

/** "line:col" of the first line of TESTS that contains `text`, at its first non-blank character. */
function at(text: string): string {
  const lines = TESTS.split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return `${i + 1}:${lines[i].search(/\S/) + 1}`;
}

// test name -> its verdict and the first line of its failure (under the `test NAME ... FAILED` line)
const EXPECTED: [string, 'ok' | 'FAILED', string?][] = [
  ['adds_numbers', 'ok'],
  ['uses_globals', 'ok'],
  ['sums_a_tensor', 'ok'],
  ['wrong_sum', 'FAILED', `t.tl:${at('assert_eq(sum(ones([2, 2])), 5.0)')}: error: assert_eq failed: left is 4, right is 5`],
  ['wrong_with_message', 'FAILED', `t.tl:${at('two and two')}: error: assertion failed: two and two make four`],
  ['bare_assert', 'FAILED', `t.tl:${at('assert(1 > 2)')}: error: assertion failed`],
  ['not_close', 'FAILED', `t.tl:${at('assert_about_eq(sum(ones([4]))')}: error: assert_about_eq failed: left is 4, right is 4.5, not within 0.1`],
  ['panics', 'FAILED', `t.tl:${at('panic(')}: error: panic: bad value 3 of x`],
  ['unknown_function', 'FAILED', `t.tl:${at('frobnicate')}: error: unknown function 'frobnicate'`],
];

const BENCHES = `main {
    let x = ones([8, 8])
    bench inner {
        let y = matmul(x, x)
    }
    print("after the bench")
}

bench softmax_row {
    let p = softmax(reshape(arange(1000), [1, 1000]) * 0.01, 1)
}

bench failing {
    assert(1 > 2, "no")
}
`;

const BENCH_LINE = (name: string, extra = '') => new RegExp(`^bench ${name} \\.\\.\\. \\d+\\.\\d{3} ms/run \\(best of 5; median \\d+\\.\\d{3} ms${extra}\\)$`);

describe('test and bench blocks (tlc test, tlc bench FILE.tl)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlc-tests-'));
  const runs = new Map<string, Ran>();
  const ran = (...args: string[]) => runs.get(args.join(' '))!;
  const commands = [
    ['test', 't.tl'],
    ['test', 't.tl', '--filter', 'sum'],
    ['test', 't.tl', '--filter', 'adds'],
    ['test', 't.tl', '--filter', 'wrong_sum', '--json'],
    ['test', 'tests_and_benches.tl'],
    ['run', 'tests_and_benches.tl'],
    ['bench', 'b.tl'],
    ['test', '--bench', 'b.tl', '--filter', 'softmax'],
    ['run', 'b.tl'],
  ];
  before(async () => {
    writeFileSync(path.join(dir, 't.tl'), TESTS);
    writeFileSync(path.join(dir, 'b.tl'), BENCHES);
    copyFileSync(path.join(ROOT, 'examples/tests_and_benches.tl'), path.join(dir, 'tests_and_benches.tl'));
    // Two at a time: each start is about a second of CPU.
    for (let i = 0; i < commands.length; i += 2) {
      const pair = commands.slice(i, i + 2);
      const results = await Promise.all(pair.map((c) => tlc(dir, c)));
      pair.forEach((c, j) => runs.set(c.join(' '), results[j]));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('tlc test t.tl: a report line per test, the failure and its place under each failed one', () => {
    EXPECTED.forEach(([name, verdict, failure]) => {
      it(`${name}: ${verdict}${failure ? ` (${failure.replace(/^t\.tl:\d+:\d+: error: /, '')})` : ''}`, () => {
        const lines = ran('test', 't.tl').stdout.split('\n');
        const i = lines.indexOf(`test ${name} ... ${verdict}`);
        assert.ok(i >= 0, `no "test ${name} ... ${verdict}" line in:\n${lines.join('\n')}`);
        if (failure) assert.equal(lines[i + 1], `    ${failure}`);
        else assert.ok(!lines[i + 1].startsWith('    '), `an ok test has nothing under it: ${lines[i + 1]}`);
      });
    });

    it('tests run in source order, then the summary; exit code 1 when any failed', () => {
      const r = ran('test', 't.tl');
      const order = r.stdout.split('\n').filter((l) => / \.\.\. (ok|FAILED)$/.test(l)).map((l) => l.split(' ')[1]);
      assert.deepEqual(order, EXPECTED.map(([n]) => n));
      assert.match(r.stdout, /^running 9 tests in t\.tl\n/);
      assert.match(r.stdout, /\n\ntest result: FAILED\. 3 passed; 6 failed\n$/);
      assert.equal(r.code, 1);
    });

    it('a failure shows its source line with a caret, and what the test printed before it', () => {
      const out = ran('test', 't.tl').stdout;
      const block = out.slice(out.indexOf('test wrong_sum ... FAILED'), out.indexOf('test wrong_with_message'));
      assert.match(block, /\|     assert_eq\(sum\(ones\(\[2, 2\]\)\), 5\.0\)\n +\|     \^\n/);
      assert.match(block, /--- output ---\n    before the failure\n/);
      assert.doesNotMatch(block, /never printed/);
    });
  });

  it('--filter runs only the tests whose name contains the text, and counts the rest', () => {
    const some = ran('test', 't.tl', '--filter', 'sum');
    assert.match(some.stdout, /^running 2 tests in t\.tl\ntest sums_a_tensor \.\.\. ok\ntest wrong_sum \.\.\. FAILED\n/);
    assert.match(some.stdout, /\ntest result: FAILED\. 1 passed; 1 failed; 7 filtered out\n$/);
    assert.equal(some.code, 1);
    const one = ran('test', 't.tl', '--filter', 'adds');
    assert.equal(one.stdout, 'running 1 test in t.tl\ntest adds_numbers ... ok\n\ntest result: ok. 1 passed; 0 failed; 8 filtered out\n');
    assert.equal(one.code, 0);
  });

  it('--json: one object with each result; a test runs without main, with the top-level statements', () => {
    const r = ran('test', 't.tl', '--filter', 'wrong_sum', '--json');
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual([report.passed, report.failed, report.filtered_out], [0, 1, 8]);
    assert.equal(report.tests[0].name, 'wrong_sum');
    assert.equal(report.tests[0].output, 'before the failure\n');
    assert.equal(report.tests[0].error, `t.tl:${at('assert_eq(sum(ones([2, 2])), 5.0)')}: assert_eq failed: left is 4, right is 5`);
    assert.doesNotMatch(r.stdout + r.stderr, /MAIN RAN/);
    assert.equal(r.code, 1);
  });

  it('examples/tests_and_benches.tl: its tests pass; tlc run runs its main, the bench in main in place', () => {
    const t = ran('test', 'tests_and_benches.tl');
    assert.equal(t.stdout, 'running 2 tests in tests_and_benches.tl\ntest relu_clamps_negatives ... ok\ntest softmax_sums_to_one ... ok\n\ntest result: ok. 2 passed; 0 failed\n');
    assert.equal(t.code, 0);
    const r = ran('run', 'tests_and_benches.tl');
    assert.equal(r.stdout, 'relu(-2) = 0\n');
    assert.equal(r.code, 0);
  });

  it('tlc bench FILE.tl: ms per run of each bench (one in main less main before it); a failing bench is FAILED, exit 1', () => {
    const r = ran('bench', 'b.tl');
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'running 3 benches in b.tl');
    assert.match(lines[1], BENCH_LINE('inner \\(in main\\)', '; less main before it'));
    assert.match(lines[2], BENCH_LINE('softmax_row'));
    assert.equal(lines[3], 'bench failing ... FAILED');
    assert.equal(lines[4], `    b.tl:${BENCHES.split('\n').findIndex((l) => l.includes('"no"')) + 1}:5: error: assertion failed: no`);
    assert.equal(r.code, 1);
  });

  it('tlc test --bench FILE.tl --filter: the same as tlc bench; tlc run runs main with the bench in place', () => {
    const r = ran('test', '--bench', 'b.tl', '--filter', 'softmax');
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'running 1 bench in b.tl');
    assert.match(lines[1], BENCH_LINE('softmax_row'));
    assert.equal(r.code, 0);
    assert.equal(ran('run', 'b.tl').stdout, 'after the bench\n');
  });
});

describe('assertion builtins (runtime/assertions.ts)', () => {
  const fails = (fn: string, args: unknown[]) => {
    try {
      ASSERTIONS.get(fn)!(args);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  };
  const cases: [string, unknown[], string | undefined][] = [
    ['assert', [true, null, 'f.tl:1:1'], undefined],
    ['assert', [1, null, 'f.tl:1:1'], undefined], // a device comparison reads back as 1
    ['assert', [false, 'why', 'f.tl:2:3'], 'f.tl:2:3: assertion failed: why'],
    ['assert', ['yes', null, 'f.tl:2:3'], 'f.tl:2:3: assert: the condition must be true or false, got "yes"'],
    ['assert_eq', [[1, 2, 3], [[1, 2], [3]], 'f.tl:1:1'], undefined], // a tensor read back is flat
    ['assert_eq', ['a', 'b', 'f.tl:4:5'], 'f.tl:4:5: assert_eq failed: left is "a", right is "b"'],
    ['assert_eq', [[1, 2, 3], [1, 5, 3], 'f.tl:1:1'], 'f.tl:1:1: assert_eq failed: left is [1, 2, 3], right is [1, 5, 3] (first at element 1: 2 against 5)'],
    ['assert_eq', [[1, 2], [1, 2, 3], 'f.tl:1:1'], 'f.tl:1:1: assert_eq failed: left is [1, 2], right is [1, 2, 3] (2 elements against 3)'],
    ['assert_eq', [true, 1, 'f.tl:1:1'], undefined],
    ['assert_about_eq', [[0.1, 0.2], [0.1001, 0.2001], 0.001, 'f.tl:1:1'], undefined],
    ['assert_about_eq', [1, 1.5, 0.5, 'f.tl:1:1'], 'f.tl:1:1: assert_about_eq failed: left is 1, right is 1.5, not within 0.5'], // strictly closer, as the original
    ['assert_about_eq', [1, 1, 'x', 'f.tl:1:1'], 'f.tl:1:1: assert_about_eq: the tolerance must be a number, got "x"'],
  ];
  cases.forEach(([fn, args, message]) => {
    it(`${fn}(${JSON.stringify(args.slice(0, -1)).slice(1, -1)}) -> ${message ?? 'holds'}`, () => assert.equal(fails(fn, args), message));
  });

  it('a test block inside main is skipped by a build; a bench block inside a block runs in place', () => {
    const ir = compile('main {\n  test t { print("in a test") }\n  bench b { print("in a bench") }\n}\n', 'n.tl');
    const printed = JSON.stringify(ir.host);
    assert.doesNotMatch(printed, /in a test/);
    assert.match(printed, /in a bench/);
  });
});
