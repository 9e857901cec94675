// Structs and impl blocks, imports and tensor declarations, as tables: a program -> what it prints
// when compiled and run on the adapter (none loads a model), or the located error it gets.
// Expected outputs are what the original TensorLogic prints for the same program.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from '../compiler/artifact.ts';
import { check } from '../compiler/check.ts';
import { parse } from '../compiler/parse.ts';
import { Lowerer } from '../compiler/lower/stage.ts';
import type { HostValue } from '../compiler/ir.ts';
import { importsBeside } from '../cli/commands/check.ts';
import { readImport } from '../cli/source.ts';
import { Program } from '../runtime/program.ts';
import type { Gpu } from '../runtime/device.ts';
import { testGpu } from './support/gpu.ts';

/** Files written to a fresh directory; `main.tl` is the program. */
type Files = Record<string, string>;

interface RunCase {
  name: string;
  src: string | Files;
  args?: Record<string, HostValue>;
  out: string;
}

interface ErrorCase {
  name: string;
  src: string | Files;
  /** The diagnostic's first line; `DIR` stands for the directory the files are in. */
  error: string;
  noReader?: boolean; // compile as the browser does: no way to read imported files
}

const POINT = `
struct Point { x: float32, y: float32 }
impl Point {
  fn new(x: float32, y: float32) -> Point { Point { x: x, y: y } }
  fn origin() -> Point { return Point { x: 0.5, y: 0.5 } }
  fn dot(self, other: Point) -> float32 { self.x * other.x + self.y * other.y }
  fn scaled(self, k: float32) -> Point { Point::new(self.x * k, self.y * k) }
}
`;

const RUNS: RunCase[] = [
  {
    name: 'struct literal (fields in any order) and field access; a struct prints as its type',
    src: `${POINT}\nmain {\n  let p = Point { y: -2.5, x: 1.5 }\n  print(p.x, p.y)\n  print(p)\n}`,
    out: '1.5 -2.5\n<Point>\n',
  },
  {
    name: 'methods with self, associated functions, a method called as Type::method(value)',
    src: `${POINT}\nmain {\n  let p = Point::new(3.0, 4.0)\n  print(p.dot(p), p.scaled(2.0).y, Point::origin().x, Point::dot(p, Point::origin()))\n}`,
    out: '25 8 0.5 3.5\n',
  },
  {
    name: 'generic structs: type arguments are accepted and ignored',
    src: `struct Pair<A, B> { first: A, second: B }
impl<A, B> Pair<A, B> { fn of(a: A, b: B) -> Pair<A, B> { return Pair<A, B> { first: a, second: b } } }
main { let q = Pair<float32, int32>::of(1.5, 7)\n print(q.first, q.second) }`,
    out: '1.5 7\n',
  },
  {
    name: 'a struct holding tensors: its method does device work',
    src: `struct Dense { weight: float32[?, ?] learnable, bias: float32[?] }
impl Dense { fn forward(self, x: float32[?, ?]) -> float32[?, ?] { linear(x, self.weight) + self.bias } }
main {
  let layer = Dense { weight: [[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]], bias: [0.5, -0.5] }
  print(layer.forward([[1.0, 2.0, 3.0]]))
}`,
    out: '[7.5, 1.5]\n',
  },
  {
    name: 'nested structs, field assignment (+= too); structs are values, so a copy keeps its fields',
    src: `struct Vec2 { x: float32, y: float32 }
struct Body { pos: Vec2, mass: float32 }
main {
  let b = Body { pos: Vec2 { x: 1.0, y: 2.0 }, mass: 3.0 }
  let before = b
  b.pos.x = 10.5
  b.mass += 1.5
  print(b.pos.x, b.pos.y, b.mass, before.pos.x)
}`,
    out: '10.5 2 4.5 1\n',
  },
  {
    name: 'a struct changed by a run-time loop and if: its fields live in host variables',
    src: `struct Counter { n: int32, step: int32 }
main {
  let c = Counter { n: 0, step: 2 }
  let limit = arg("limit", 3)
  for i in range(limit) { c.n = c.n + c.step }
  print(c.n)
  if limit > 2 { c = Counter { n: c.step, step: c.n } }
  print(c.n, c.step)
}`,
    args: { limit: 4 },
    out: '8\n2 8\n',
  },
  {
    name: 'impl Drop runs as a function call and main end, latest first; a returned struct is not dropped',
    src: `struct R { id: int32 }
impl Drop for R { fn drop(self) -> void { print("drop", self.id) } }
fn work() -> int32 { let a = R { id: 1 }\n let b = R { id: 2 }\n 7 }
fn make() -> R { let r = R { id: 3 }\n r }
main { let m = R { id: 0 }\n print("work", work())\n let k = make()\n print("end") }`,
    out: 'drop 2\ndrop 1\nwork 7\nend\ndrop 3\ndrop 0\n',
  },
  {
    name: 'tensor declarations: top level and local, f16 and int types, zero-filled, flat-filled, learnable',
    src: `tensor w: float32[2, 3] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
tensor b: float16[3] learnable = [0.5, 0.5, 0.5]
tensor z: float32[2]
tensor flat: float32[2, 2] = [1.0, 2.0, 3.0, 4.0]
let n = 2
tensor ones_n: float32[n] = ones()
main {
  tensor local: int32[2] = [3, 4]
  print(w, shape(w))
  print(b + 1.0, z, flat[1, 0], local, ones_n)
}`,
    out: '[1, 2, 3, 4, 5, 6] [2, 3]\n[1.5, 1.5, 1.5] [0, 0] 3 [3, 4] [1, 1]\n',
  },
  {
    name: 'imports: relative to the importing file, each file once (a diamond), no imported main',
    src: {
      'main.tl': 'import "lib/geo.tl"\nimport "lib/consts.tl"\nmain {\n  print(area(3.0, 4.0), Square::of(2.0).area(), scale, corners)\n}',
      'lib/geo.tl': 'import "consts.tl"\nstruct Square { side: float32 }\nimpl Square {\n  fn of(s: float32) -> Square { Square { side: s } }\n  fn area(self) -> float32 { area(self.side, self.side) * scale }\n}\nfn area(w: float32, h: float32) -> float32 { w * h }\nmain { print("not this main") }',
      'lib/consts.tl': 'let scale = 2\ntensor corners: float32[2, 2] = [[0.0, 1.0], [1.0, 0.0]]\nmain { print("nor this one") }',
    },
    out: '12 8 2 [0, 1, 1, 0]\n',
  },
];

const ERRORS: ErrorCase[] = [
  {
    name: 'an import cycle shows the chain, at the import that closes it',
    src: { 'main.tl': 'import "a.tl"\nmain { }', 'a.tl': 'import "b.tl"\nfn f() -> int { 1 }', 'b.tl': '\nimport "a.tl"' },
    error: 'DIR/b.tl:2:1: error: import cycle: DIR/a.tl -> DIR/b.tl -> DIR/a.tl',
  },
  {
    name: 'a file that imports itself',
    src: { 'main.tl': 'import "./main.tl"\nmain { }' },
    error: 'DIR/main.tl:1:1: error: import cycle: DIR/main.tl -> DIR/main.tl',
  },
  {
    name: 'a missing import names the path it looked for',
    src: { 'main.tl': 'main { }\nimport "nope.tl"' },
    error: 'DIR/main.tl:2:1: error: cannot import "nope.tl": DIR/nope.tl: no such file or directory',
  },
  {
    name: 'a syntax error in an imported file is located in that file',
    src: { 'main.tl': 'import "bad.tl"\nmain { }', 'bad.tl': 'fn f( { }' },
    error: 'DIR/bad.tl:1:7:',
  },
  {
    name: 'an import where the compiler has no way to read files (the browser)',
    src: 'import "lib.tl"\nmain { }',
    noReader: true,
    error: 'main.tl:1:1: error: cannot import "lib.tl": this build reads no other files (put the declarations in one file)',
  },
  {
    name: "a tensor declaration whose value has another shape",
    src: 'main {\n  tensor w: float32[2, 3] = [[1.0, 2.0], [3.0, 4.0]]\n}',
    error: "DIR/main.tl:2:29: error: 'w' is declared float32[2, 3] but its value has shape [2, 2]",
  },
  {
    name: 'a tensor declaration of a computed value of another shape',
    src: 'tensor w: float32[2, 3] = zeros([3, 2]) * 2.0',
    error: "DIR/main.tl:1:27: error: 'w' is declared float32[2, 3] but its value has shape [3, 2]",
  },
  {
    name: 'a tensor declared without a value needs its sizes',
    src: 'tensor e: float16[vocab, 4]',
    error: "DIR/main.tl:1:11: error: 'e' is declared float16[vocab, 4] with no value: its size 'vocab' must be a number known at build time (or give a value)",
  },
  {
    name: 'complex tensors are refused',
    src: 'tensor c: complex16[2] = [1.0, 0.5]',
    error: "DIR/main.tl:1:11: error: 'c' is complex16[2]: complex tensors cannot be compiled (tlc's device tensors are real)",
  },
  {
    name: 'a struct literal with a field the struct lacks',
    src: `${POINT}\nmain { let p = Point { x: 1.0, z: 2.0 } }`.trimStart(),
    error: "DIR/main.tl:9:32: error: struct Point has no field 'z' (it has x, y)",
  },
  {
    name: 'a struct literal that leaves a field out',
    src: 'struct P { x: int, y: int }\nmain { let p = P { x: 1 } }',
    error: "DIR/main.tl:2:16: error: P { ... } needs a value for 'y'",
  },
  {
    name: 'a method the struct does not have',
    src: `${POINT}\nmain { let p = Point::origin()\n print(p.length()) }`.trimStart(),
    error: "DIR/main.tl:10:8: error: struct Point has no method 'length' (it has new, origin, dot, scaled)",
  },
  {
    name: 'a function without self called as a method',
    src: `${POINT}\nmain { print(Point::origin().origin()) }`.trimStart(),
    error: 'DIR/main.tl:9:14: error: Point::origin takes no self: call it as Point::origin(...)',
  },
  {
    name: 'a tensor field changed inside run-time control flow',
    src: 'struct L { w: float32[2] }\nmain {\n  let l = L { w: ones([2]) }\n  if arg("x", 1) > 0 { l.w = l.w * 2.0 }\n  print(l.w)\n}',
    error: "DIR/main.tl:4:24: error: 'l.w' holds a tensor and is changed inside run-time control flow, which cannot be compiled here",
  },
  {
    name: 'an impl for a type that is not a struct of the program',
    src: 'impl Shape { fn f(self) -> int { 1 } }',
    error: "DIR/main.tl:1:6: error: impl for 'Shape', which is not a struct of this program",
  },
];

describe('structs, impl blocks, imports, tensor declarations', () => {
  let gpu: Gpu;
  let dir: string;
  before(async () => (gpu = await testGpu()));
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'tlc-structs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the files; the path of main.tl. */
  function write(src: string | Files): string {
    const files = typeof src === 'string' ? { 'main.tl': src } : src;
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return path.join(dir, 'main.tl');
  }

  for (const c of RUNS) {
    it(c.name, async () => {
      const file = write(c.src);
      const text = typeof c.src === 'string' ? c.src : c.src['main.tl'];
      const program = await Program.load(gpu, build(text, file, undefined, undefined, readImport), undefined);
      let out = '';
      try {
        await program.run(c.args ?? {}, { write: (t) => (out += t) });
      } finally {
        program.destroy();
      }
      assert.equal(out, c.out);
    });
  }

  for (const c of ERRORS) {
    it(`refused: ${c.name}`, () => {
      const file = typeof c.src === 'string' && c.noReader ? 'main.tl' : write(c.src);
      const text = typeof c.src === 'string' ? c.src : c.src['main.tl'];
      assert.throws(
        () => build(text, file, undefined, undefined, c.noReader ? undefined : readImport),
        (e: Error) => (assert.equal(e.message.split('\n')[0].slice(0, c.error.replaceAll('DIR', dir).length), c.error.replaceAll('DIR', dir)), true),
      );
    });
  }

  it('an artifact keeps the imported sources: a rebuild reads no files', () => {
    const file = write({ 'main.tl': 'import "lib.tl"\nmain { print(twice(2)) }', 'lib.tl': 'fn twice(x: int) -> int { 2 * x }' });
    const artifact = build('import "lib.tl"\nmain { print(twice(2)) }', file, undefined, undefined, readImport);
    assert.deepEqual(artifact.source.imports, { [path.join(dir, 'lib.tl')]: 'fn twice(x: int) -> int { 2 * x }' });
  });

  it('learnable tensors are recorded for learning; frozen and plain ones are not', () => {
    const L = new Lowerer({});
    L.lowerProgram(parse('tensor w: float16[1] learnable = [0.5]\ntensor f: float32[1] frozen = [1.0]\nmain { tensor v: float32[2] learnable }', 't.tl'));
    assert.deepEqual([...L.learnable.keys()], ['w', 'v']);
  });

  it('tlc check knows what imported files declare', () => {
    const file = write({ 'main.tl': 'import "lib.tl"\nmain { print(area(1.0, 2.0), unit, Box::of(1).v) }', 'lib.tl': 'struct Box { v: int }\nimpl Box { fn of(v: int) -> Box { Box { v: v } } }\nfn area(w: float32, h: float32) -> float32 { w * h }\ntensor unit: float32[1] = [1.0]' });
    assert.deepEqual(check(parse('import "lib.tl"\nmain { print(area(1.0, 2.0), unit, Box::of(1).v) }', file), { resolveImport: importsBeside }), []);
  });
});
