// Diagnostics, one per row: source -> message at line:col. Syntax errors from parse(), the rest from check().
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from '../../compiler/check.ts';
import { DiagnosticError, formatDiagnostic } from '../../compiler/diagnostics.ts';
import { parse } from '../../compiler/parse.ts';
import { TlcError } from '../../runtime/errors.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The one syntax error parse() reports for `source`, as `line:col message`. */
function syntaxError(source: string): string {
  try {
    parse(source, 't.tl');
  } catch (e) {
    assert.ok(e instanceof DiagnosticError, `expected a DiagnosticError, got ${e}`);
    assert.equal(e.diagnostics.length, 1);
    const d = e.diagnostics[0];
    return `${d.span.line}:${d.span.col} ${d.message}`;
  }
  assert.fail(`'${source}' should not parse`);
}

/** Every problem check() reports for `source`, as `line:col message`. */
const problems = (source: string) => check(parse(source, 't.tl')).map((d) => `${d.span.line}:${d.span.col} ${d.message}`);

describe('syntax errors', () => {
  const cases: [name: string, source: string, error: string][] = [
    ['missing expression at the end of a line', 'main {\n    let x = \n    let y = 2\n}', "2:13 expected an expression after '='"],
    ['missing operand', 'main {\n    let x = 5 +\n}', "2:16 expected an expression after '+'"],
    ['missing )', 'fn f(a: int -> int { a }', "1:13 expected ')' or ',' after 'int'"],
    ['unclosed call', 'main {\n    print("hi"\n}', "2:15 expected ')' or ',' after a string"],
    ['unclosed list', 'main {\n    let x = [1, 2\n    print(x)\n}', "2:18 expected ']' or ',' after '2'"],
    ['missing return type', 'fn f(a: int) -> { a }', "1:17 expected a type after '->'"],
    ['missing field type', 'struct P { x: }', "1:15 unexpected '}': expected a type"],
    ['unterminated string', 'main {\n    print("abc)\n}', '2:11 unterminated string'],
    ['unclosed block', 'main {', "1:7 unexpected end of file: expected '}' or a statement after '{'"],
    ['name expected', 'fn 3() { }', "1:4 expected an identifier after 'fn'"],
    ['let without a name', 'main {\n    let = 5\n}', "2:9 expected an identifier or '(' after 'let'"],
    ['stray closing brace', 'main {\n    let x = 1\n}\n}', "4:1 unexpected '}': expected the end of the file, a declaration, or a statement"],
    ['empty match arm', 'main {\n    let y = match x { 1 => }\n}', "2:28 unexpected '}': expected an expression"],
    ['dangling dot', 'main {\n    let a = b.\n}', "2:15 expected a field or method name after '.'"],
    ['condition missing', 'main {\n    if { }\n}', "2:8 expected an expression after 'if'"],
    ['for without in', 'main {\n    for i range(3) { }\n}', "2:11 expected 'in' after 'i'"],
    ['assigning to a call', 'main {\n    f(x) = 3\n}', "2:5 cannot assign to this expression: the left of '=' must be a name, an index or a field"],
    ['embedding without dimension', 'embedding E { entities: {a, b} }', "1:1 embedding 'E' needs 'dimension: <integer>'"],
    ['comment before the error', 'main {\n    let x = // nothing here\n}', "2:13 expected an expression after '='"],
  ];
  for (const [name, source, error] of cases) {
    it(`${name} -> ${error}`, () => assert.equal(syntaxError(source), error));
  }
});

describe('check', () => {
  const cases: [name: string, source: string, errors: string[]][] = [
    ['unknown name', 'main {\n    print(y)\n}', ["2:11 unknown name 'y'"]],
    ['a suggestion for a typo', 'main {\n    let count = 1\n    print(cout)\n}', ["3:11 unknown name 'cout' (did you mean 'count'?)"]],
    ['unknown function', 'main {\n    foo(1)\n}', ["2:5 unknown function 'foo'"]],
    ['misspelled builtin', 'main {\n    let p = sofmax([1.0])\n}', ["2:13 unknown function 'sofmax' (did you mean 'softmax'?)"]],
    ['builtin with too few arguments', 'main {\n    softmax()\n}', ['2:5 softmax() takes 1 to 2 arguments but 0 were given: softmax(x, dim?) -> tensor']],
    ['builtin with too many arguments', 'main {\n    let s = shape(x, 1)\n}', ["2:19 unknown name 'x'", '2:13 shape() takes 1 argument but 2 were given: shape(x) -> tensor'].reverse()],
    ['user function arity', 'fn f(a) { a }\nmain {\n    f(1, 2)\n}', ["3:5 'f' takes 1 argument but 2 were given"]],
    ['user function shadows a builtin', 'fn silu(x) { x }\nmain {\n    silu(1.0)\n}', []],
    ['break outside a loop', 'main {\n    break\n}', ["2:5 'break' outside of a loop"]],
    ['continue in a function called from a loop', 'fn g() { continue }\nmain {\n    for i in range(3) { g() }\n}', ["1:10 'continue' outside of a loop"]],
    ['break inside loops is fine', 'main {\n    loop { break }\n    while true { if 1 > 0 { break } }\n    for i in range(2) { continue }\n}', []],
    ['= to an undeclared name declares it, as in the original', 'main {\n    x = 1\n    x = x + 1\n    print(x)\n}', []],
    ['+= to an undeclared name, reported once', 'main {\n    x += 1\n    x += 1\n}', ["2:5 assignment to undeclared variable 'x': declare it first with 'let x = ...'"]],
    ['assignment to a function', 'fn f() { 1 }\nmain {\n    f = 2\n}', ["3:5 cannot assign to function 'f'"]],
    [':= defines, then updates', 'main {\n    a := 1\n    a := a + 1\n    print(a)\n}', []],
    ['a block scope ends with the block', 'main {\n    { let inner = 1 }\n    print(inner)\n}', ["3:11 unknown name 'inner'"]],
    ['a loop variable lives in the loop', 'main {\n    for i in range(3) { print(i) }\n    print(i)\n}', ["3:11 unknown name 'i'"]],
    ['declared shape against the literal', 'tensor w: float16[2, 3] = [[1.0, 2.0], [3.0, 4.0]]', ["1:27 'w' is declared float16[2, 3] but its value has shape [2, 2]"]],
    ['a flat literal fills any shape of that size', 'tensor w: float16[2, 3] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]', []],
    ['typed let against the literal', 'main {\n    let v: float32[4] = [1.0, 2.0]\n}', ["2:25 'v' is declared float32[4] but its value has shape [2]"]],
    ['ragged literal', 'main {\n    let m = [[1.0, 2.0], [3.0]]\n}', ['2:26 ragged tensor literal: element 2 has shape [1] but element 1 has shape [2]']],
    ['elementwise shapes that do not broadcast', 'main {\n    let a = [1.0, 2.0, 3.0] + [1.0, 2.0]\n}', ["2:13 shapes [3] and [2] do not match for '+' (nor broadcast)"]],
    ['shapes followed through let', 'main {\n    let a = [[1.0, 2.0]]\n    let b = [[1.0], [2.0], [3.0]]\n    let c = a * b\n    let d = a @ b\n}', ['5:13 matrix product of [1, 2] and [3, 1]: inner dimensions 2 and 3 differ']],
    ['broadcasting is fine', 'main {\n    let a = [[1.0], [2.0]] * [1.0, 2.0, 3.0]\n}', []],
    ['reshape to another size', 'main {\n    let r = reshape([1.0, 2.0, 3.0], [2, 2])\n}', ['2:13 cannot reshape [3] (3 elements) into [2, 2] (4 elements)']],
    ['literal argument against the parameter type', 'fn f(x: float32[2]) { x }\nmain {\n    f([1.0, 2.0, 3.0])\n}', ["3:7 argument 'x' of 'f' must be float32[2], but this has shape [3]"]],
    ['a list that grows in a loop is not a fixed shape', 'main {\n    let xs = [1.0]\n    for i in range(3) { xs = xs + [2.0, 3.0] }\n}', []],
    ['unknown relation in a query', 'main {\n    Foo(a, X)?\n}', ["2:5 unknown relation 'Foo'"]],
    ['facts and queries of declared relations', 'relation P(x: entity, y: entity)\nQ(X) <- P(X, Y)\nmain {\n    P(a, b)\n    Q(X)?\n    infer forward P(a, Y)?\n}', []],
    ['with an unknown entity type', 'main {\n    with Nobody { }\n}', ["2:5 unknown entity type 'Nobody'"]],
    ['a function used as a value', 'fn f() { 1 }\nmain {\n    let g = f\n}', ["3:13 'f' is a function: call it, 'f(...)'"]],
    ['calling a variable', 'main {\n    let x = 1\n    x(2)\n}', ["3:5 'x' is a variable, not a function"]],
    ['a variable does not hide a builtin', 'main {\n    let top_k = 3\n    let y = top_k([1.0, 2.0], top_k)\n}', []],
    ['function defined twice', 'fn f() { 1 }\nfn f() { 2 }', ["2:1 function 'f' is defined twice"]],
    ['parameter listed twice', 'fn f(a, a) { a }', ["1:9 parameter 'a' is listed twice"]],
    ['learn settings are names in its body', 'main {\n    learn {\n        epochs: 3\n        for e in range(epochs) { print(e) }\n    }\n}', []],
    ['match bindings are names in their arm', 'main {\n    let y = match 3 { n if n > 2 => n, _ => 0 }\n    print(n)\n}', ["3:11 unknown name 'n'"]],
    [
      'every error is reported, in order',
      'fn f(a: int) -> int {\n    b + 1\n}\nmain {\n    break\n    f(1, 2)\n    print(zz)\n}',
      ["2:5 unknown name 'b'", "5:5 'break' outside of a loop", "6:5 'f' takes 1 argument but 2 were given", "7:11 unknown name 'zz'"],
    ],
  ];
  for (const [name, source, errors] of cases) {
    it(`${name}${errors.length ? ` -> ${errors[0]}` : ': clean'}`, () => assert.deepEqual(problems(source), errors));
  }

  it('resolves imported declarations through resolveImport', () => {
    const lib = parse('fn area(w, h) { w * h }\ntensor pi: float32[1] = [3.14]', 'lib.tl');
    const main = parse('import "lib.tl"\nmain {\n    print(area(2.0, 3.0) * pi)\n    print(missing)\n}', 'main.tl');
    const diagnostics = check(main, { resolveImport: (p) => (p === 'lib.tl' ? lib : undefined) });
    assert.deepEqual(diagnostics.map((d) => d.message), ["unknown name 'missing'"]);
  });
});

describe('formatDiagnostic', () => {
  it('prints file:line:col, the line and a caret under the span', () => {
    const source = 'main {\n    let x = foo(1)\n}\n';
    const [d] = check(parse(source, 'chat.tl'));
    assert.equal(
      formatDiagnostic(d, source),
      ["chat.tl:2:13: error: unknown function 'foo'", '    2 |     let x = foo(1)', '      |             ^~~'].join('\n'),
    );
  });

  it('keeps tabs so the caret lines up', () => {
    const d = { message: 'here', span: { file: 'a.tl', start: 5, end: 6, line: 2, col: 3 } };
    assert.equal(formatDiagnostic(d, 'x\n\t\tb'), 'a.tl:2:3: error: here\n    2 | \t\tb\n      | \t\t^');
  });

  it('is a TlcError whose message holds every diagnostic', () => {
    const source = 'main {\n    let x = \n}';
    try {
      parse(source, 'bad.tl');
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof TlcError && e instanceof DiagnosticError);
      assert.equal(e.message, "bad.tl:2:13: error: expected an expression after '='\n    2 |     let x = \n      |             ^");
    }
  });
});

describe('tlc parse and tlc check on the command line', function () {
  this.timeout(60_000);
  const tlc = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/tlc.js'), ...args], { encoding: 'utf8' });

  it('a syntax error: file:line:col, the line, a caret, exit 1, no stack trace', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tlc-parse-'));
    const bad = path.join(dir, 'bad.tl');
    writeFileSync(bad, 'main {\n    let x = [1, 2\n}\n');
    const r = tlc('parse', bad);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `${bad}:2:18: error: expected ']' or ',' after '2'\n    2 |     let x = [1, 2\n      |                  ^\n`);
    assert.equal(r.stdout, '');
  });

  it('check: a summary line per clean file, every problem of the others, exit 1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tlc-check-'));
    writeFileSync(path.join(dir, 'good.tl'), 'fn twice(x) { x * 2 }\nmain {\n    print(twice(21))\n}\n');
    writeFileSync(path.join(dir, 'bad.tl'), 'main {\n    print(nope)\n    break\n}\n');
    const r = tlc('check', path.join(dir, 'good.tl'), path.join(dir, 'bad.tl'));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, `${path.join(dir, 'good.tl')}: ok (1 function, main, 2 statements)\n`);
    assert.match(r.stderr, /bad\.tl:2:11: error: unknown name 'nope'\n/);
    assert.match(r.stderr, /bad\.tl:3:5: error: 'break' outside of a loop\n/);
    assert.match(r.stderr, /2 problems in 1 of 2 files\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
