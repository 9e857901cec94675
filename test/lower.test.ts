// The lowering pass and the graph passes, as a table: source -> what the IR must hold.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compile } from '../compiler/compile.ts';
import type { Graph, HostStmt, IR } from '../compiler/ir.ts';
import { DiagnosticError } from '../compiler/diagnostics.ts';
import { fakeModel, TINYLLAMA } from './support/fake-model.ts';

const small = fakeModel({ layers: 3, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 100 });

function ops(g: Graph): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of g.nodes) c[n.op] = (c[n.op] ?? 0) + 1;
  return c;
}

function hostKinds(stmts: HostStmt[]): string[] {
  return stmts.flatMap((s): string[] => {
    if (s.k === 'for' || s.k === 'while') return [`${s.k}{`, ...hostKinds(s.body), '}'];
    if (s.k === 'if') return ['if{', ...hostKinds(s.then), '}', ...(s.else.length ? ['else{', ...hostKinds(s.else), '}'] : [])];
    return [s.k];
  });
}

const lower = (src: string, passes = true): IR => compile(src, 't.tl', { model: small, noPasses: !passes });
const main = (body: string, pre = '') => `let model = load_model("m.gguf")\n${pre}\nmain {\n${body}\n}`;

interface Case {
  name: string;
  src: string;
  passes?: boolean;
  check(ir: IR): void;
}

const CASES: Case[] = [
  {
    name: 'constants fold; print becomes a host statement',
    src: main('let n = 2 + 3 * 4\nprint("n =", n)'),
    check: (ir) => assert.deepEqual(ir.host, [{ k: 'print', args: [{ k: 'const', value: 'n =' }, { k: 'const', value: 14 }], end: '\n' }]),
  },
  {
    name: 'a build-time false `if` disappears',
    src: main('if model.n_layer > 10 { print("big") } else { print("small") }'),
    check: (ir) => assert.deepEqual(ir.host.map((s) => s.k === 'print' && s.args[0]), [{ k: 'const', value: 'small' }]),
  },
  {
    name: 'range(model.n_layer) unrolls: one rms_norm per layer, in one graph',
    src: main('let x = embedding(model.token_embd.weight, [1, 2])\nfor i in range(model.n_layer) { x = rms_norm(x, model.blk[i].attn_norm.weight) }\nprint(x[0, 0])'),
    check: (ir) => {
      assert.equal(ir.graphs.length, 1);
      assert.equal(ops(ir.graphs[0]).rms_norm, 3);
      assert.deepEqual(hostKinds(ir.host), ['run', 'print']);
    },
  },
  {
    name: 'functions inline: no call is left, two scale ops',
    src: main('let x = embedding(model.token_embd.weight, [1])\nprint(twice(twice(x))[0, 0])', 'fn twice(t: float32[?, ?]) -> float32[?, ?] { t * 2.0 }'),
    check: (ir) => assert.equal(ops(ir.graphs[0]).scale, 2),
  },
  {
    name: 'a loop with a data-dependent break stays a host loop around one graph call',
    src: main('let ids = [1]\nfor step in range(5) {\n let logits = linear(embedding(model.token_embd.weight, ids), model.output.weight)\n let next = argmax(logits)\n if next == 2 { break }\n ids = append(ids, next)\n}'),
    check: (ir) => {
      assert.deepEqual(hostKinds(ir.host), ['let', 'for{', 'let', 'run', 'if{', 'break', '}', 'set', '}']);
      assert.equal(ir.graphs[0].dims.join(), 'seq');
    },
  },
  {
    name: 'a run-time loop bound: arg("n", 3) stays in the host program',
    src: main('let n = arg("n", 3)\nlet c = 0\nfor i in range(n) { c = c + 1 }\nprint(c)'),
    check: (ir) => assert.deepEqual(hostKinds(ir.host), ['let', 'let', 'for{', 'set', '}', 'print']),
  },
  {
    name: 'fuse-elementwise: x * sigmoid(x) then * up becomes one swiglu',
    src: main('let x = embedding(model.token_embd.weight, [1, 2])\nlet g = x * 2.0\nprint(((g * sigmoid(g)) * x)[0, 0])'),
    check: (ir) => {
      const c = ops(ir.graphs[0]);
      assert.equal(c.swiglu, 1);
      assert.equal(c.unary, undefined);
      assert.equal(c.binary, undefined);
    },
  },
  {
    name: 'fuse-linear: swiglu of a gate and an up linear of one x becomes one linear (swiglu epilogue)',
    src: main('let x = embedding(model.token_embd.weight, [1, 2])\nlet g = linear(x, model.blk[0].ffn_gate.weight)\nlet u = linear(x, model.blk[0].ffn_up.weight)\nprint(((g * sigmoid(g)) * u)[0, 0])'),
    check: (ir) => {
      const c = ops(ir.graphs[0]);
      assert.deepEqual([c.linear, c.swiglu, c.unary, c.binary], [1, undefined, undefined, undefined]);
      const lin = ir.graphs[0].nodes.find((n) => n.op === 'linear')!;
      assert.equal(lin.attrs.epilogue, 'swiglu');
      assert.deepEqual(lin.args.slice(1).map((a) => ir.graphs[0].nodes[a].attrs.name), ['blk.0.ffn_gate.weight', 'blk.0.ffn_up.weight']);
    },
  },
  {
    name: 'fuse-linear: h + linear(x, W) becomes one linear (add epilogue), unless the linear is used again',
    src: main('let h = embedding(model.token_embd.weight, [1, 2])\nlet o = linear(h, model.blk[0].attn_output.weight)\nprint((h + o)[0, 0])\nlet p = linear(h, model.blk[0].attn_q.weight)\nprint((h + p)[0, 0] + p[0, 1])'),
    check: (ir) => {
      const epilogues = ir.graphs.flatMap((g) => g.nodes.filter((n) => n.op === 'linear').map((n) => n.attrs.epilogue ?? 'none'));
      assert.deepEqual(epilogues.sort(), ['add', 'none']);
      assert.equal(ir.graphs.reduce((k, g) => k + (ops(g).binary ?? 0), 0), 1, 'the add of p stays (p is read again)');
    },
  },
  {
    name: 'examples/chat.tl: fused attention per layer, no einsum left, KV cache on',
    src: readFileSync('examples/chat.tl', 'utf8'),
    check: (ir) => {
      assert.equal(ir.graphs.length, 1);
      const c = ops(ir.graphs[0]);
      assert.equal(c.attention, 3);
      assert.equal(c.einsum, undefined);
      assert.equal(c.softmax, undefined);
      // q, k, v, o (+ residual), gate and up (one, swiglu), down (+ residual) per layer, and the head
      assert.equal(c.linear, 3 * 6 + 1);
      assert.equal(c.swiglu, undefined);
      assert.equal(c.binary, undefined);
      const epilogues = ir.graphs[0].nodes.filter((n) => n.op === 'linear').map((n) => n.attrs.epilogue ?? 'none');
      assert.deepEqual([epilogues.filter((e) => e === 'add').length, epilogues.filter((e) => e === 'swiglu').length], [2 * 3, 3]);
      assert.ok(ir.graphs[0].incremental);
    },
  },
  {
    name: 'without the passes, chat.tl keeps its einsums and has no KV cache',
    src: readFileSync('examples/chat.tl', 'utf8'),
    passes: false,
    check: (ir) => {
      assert.equal(ops(ir.graphs[0]).einsum, 6);
      assert.equal(ir.graphs[0].incremental, undefined);
    },
  },
  {
    name: 'a graph with no attention (and none downstream) has nothing to cache',
    src: main('let ids = [1]\nfor s in range(3) {\n let x = embedding(model.token_embd.weight, ids)\n print(x[0, 0])\n ids = append(ids, 5)\n}'),
    check: (ir) => assert.equal(ir.graphs[0].incremental, undefined),
  },
  {
    name: 'reading a row back in the layer loop splits the graph; both parts keep the KV cache',
    src: readFileSync('examples/chat.tl', 'utf8').replace('for layer in range(model.n_layer) {', 'for layer in range(model.n_layer) {\nif layer == 0 && step == 0 { print(x[0, 0]) }'),
    check: (ir) => {
      assert.equal(ir.graphs.length, 2);
      assert.ok(ir.graphs.every((g) => g.incremental));
      assert.deepEqual(ir.graphs[1].inputs.map((i) => i.kind).sort(), ['scalar', 'scalar', 'scalar', 'scalar', 'tensor']);
      assert.ok(ir.graphs[0].outputs.some((o) => o.keep));
    },
  },
  {
    name: 'an early return on a run-time value is an if whose branches set the result (not a constant)',
    src: main('print(f(arg("n", 3)))', 'fn f(n: int) -> int {\n if n <= 1 { return 1 }\n return 7\n}'),
    check: (ir) => {
      const branch = ir.host.find((st) => st.k === 'if') as Extract<HostStmt, { k: 'if' }>;
      assert.deepEqual([branch.then, branch.else].map((b) => (b[0] as { value: unknown }).value), [{ k: 'const', value: 1 }, { k: 'const', value: 7 }]);
    },
  },
  {
    name: 'a number list changed by arithmetic in a while loop is a tensor (adds, not joins)',
    src: main('let counter = [0.0]\nwhile counter[0] < 3.0 {\n counter = counter + [1.0]\n}\nprint(counter[0])'),
    check: (ir) => {
      assert.ok(ir.graphs.some((g) => g.nodes.some((n) => n.op === 'binary' && n.attrs.fn === 'add')));
      assert.deepEqual(hostKinds(ir.host), ['run', 'let', 'while{', 'run', 'if{', 'break', '}', 'run', 'set', '}', 'run', 'print']);
    },
  },
  {
    name: 'a while loop whose condition folds unrolls, so model.blk[i] takes its counter',
    src: main('let i = 0\nlet x = embedding(model.token_embd.weight, [1])\nwhile i < 3 {\n x = rms_norm(x, model.blk[i].attn_norm.weight)\n i = i + 1\n}\nprint(x[0, 0])'),
    check: (ir) => {
      assert.equal(ops(ir.graphs[0]).rms_norm, 3);
      assert.deepEqual(hostKinds(ir.host), ['run', 'print']);
    },
  },
  {
    name: 'a loop with a break that folds unrolls up to the break',
    src: main('let j = 0\nloop {\n if j >= 2 { break }\n print(j)\n j = j + 1\n}'),
    check: (ir) => assert.deepEqual(ir.host.map((st) => (st.k === 'print' ? (st.args[0] as { value: unknown }).value : st.k)), [0, 1]),
  },
  {
    name: 'a loop with a data-dependent break stays on the host after the unrolling attempt',
    src: main('let t = [1]\nfor s in range(5) {\n let x = embedding(model.token_embd.weight, t)\n if argmax(x) == 3 { break }\n t = append(t, 2)\n}'),
    check: (ir) => assert.deepEqual(hostKinds(ir.host).slice(0, 2), ['let', 'for{']),
  },
  {
    name: 'a size the host computes (len(tokens)) and the ids size used as one are checked as one',
    src: main('let ids = arg("ids", [1, 2])\nlet n = len(ids)\nlet x = embedding(model.token_embd.weight, ids)\nlet m = broadcast_to(reshape(causal_mask(n), [n, 1, n]), [n, 4, n])\nlet s = einsum("ihd,jhd->ihj", reshape(x, [n, 4, 16]), reshape(x, [n, 4, 16]))\nprint(apply_attention_mask(s, m)[0, 0, 0])'),
    check: (ir) => assert.ok(ir.graphs[0].sameDims?.length, 'the graph says which sizes must agree'),
  },
  {
    name: 'a tensor carried by a run-time loop lives in a host variable; its growing dim is symbolic',
    src: main('let h = embedding(model.token_embd.weight, [1, 2])\nfor s in range(arg("n", 3)) {\n h = concat(h, h, 0)\n}\nprint(len(h))'),
    check: (ir) => {
      const concat = ir.graphs.flatMap((g) => g.nodes).find((n) => n.op === 'concat')!;
      assert.equal(typeof concat.shape[0], 'string');
      assert.match(String(concat.shape[0]), /\+/);
    },
  },
];

const ERRORS: { name: string; src: string; message: RegExp; at: string }[] = [
  { name: 'a tensor the model lacks', src: main('let w = model.blk[0].attn_qq.weight\nprint(linear(embedding(model.token_embd.weight, [1]), w)[0, 0])'), message: /no tensor named 'blk\.0\.attn_qq\.weight'/, at: '4:9' },
  { name: 'a layer past the last', src: main('print(rms_norm(embedding(model.token_embd.weight, [1]), model.blk[9].attn_norm.weight)[0, 0])'), message: /no tensor named 'blk\.9\.attn_norm\.weight'/, at: '4:57' },
  { name: 'a linear whose width does not fit', src: main('let x = embedding(model.token_embd.weight, [1])\nprint(linear(x, model.blk[0].ffn_down.weight)[0, 0])'), message: /shape mismatch: linear: input \[1, 64\] has 64 features but the weight \[64, 96\] expects 96/, at: '5:7' },
  { name: 'a reshape that changes the size', src: main('let x = embedding(model.token_embd.weight, [1, 2])\nprint(reshape(x, [3, 64])[0, 0])'), message: /cannot reshape \[2, 64\] to \[3, 64\]/, at: '5:7' },
  { name: 'a builtin with too many arguments', src: main('print(softmax(1, 2, 3))'), message: /softmax takes 1 to 2 arguments, got 3/, at: '4:7' },
  { name: 'updating an undeclared name (= declares it, as in the original; += cannot)', src: main('y += 3'), message: /'y' \+= \.\.\.: 'y' is not declared/, at: '4:1' },
  { name: 'an unknown function', src: main('frobnicate(2)'), message: /unknown function 'frobnicate'/, at: '4:1' },
  { name: 'a token id past the embedding table', src: main('print(embedding(model.token_embd.weight, [999999])[0, 0])'), message: /token id 999999 is outside the embedding table \(0\.\.99\)/, at: '4:7' },
  { name: 'a negative token id', src: main('print(embedding(model.token_embd.weight, [-5])[0, 0])'), message: /token id -5 is outside the embedding table/, at: '4:7' },
  { name: 'a constant too big for the GPU', src: main('print(arange(40000000)[0])'), message: /a constant of shape \[40000000\] needs 160000000 bytes, more than one GPU buffer binding holds/, at: '4:7' },
  { name: 'a fill too big for the GPU, where its elements are needed', src: main('print(ones([8192, 8192])[0, 0])'), message: /the broadcast_to here makes a tensor of shape \[8192, 8192\]: 256 MiB, more than one GPU buffer binding holds/, at: '4:7' },
  { name: 'a broadcast too big for the GPU', src: main('let x = embedding(model.token_embd.weight, [1])\nprint(broadcast_to(x, [1048576, 64])[0, 0])'), message: /the broadcast_to here makes a tensor of shape \[1048576, 64\]: 256 MiB, more than one GPU buffer binding holds \(128 MiB\)/, at: '5:7' },
  { name: 'an einsum too big for the GPU', src: main('let x = ones([64, 64])\nprint(einsum("ab,cd,ef->abcdef", x, x, x)[0, 0, 0, 0, 0, 0])'), message: /the einsum here makes a tensor of shape \[64, 64, 64, 64, 64, 64\]/, at: '5:7' },
  { name: "'return' outside a function", src: main('return'), message: /'return' outside a function/, at: '4:1' },
  { name: 'a second model', src: main('let other = load_model("other.gguf")'), message: /loads a second model; tlc runs one model per program/, at: '4:13' },
];

describe('lowering', () => {
  for (const c of CASES) {
    it(c.name, () => c.check(lower(c.src, c.passes ?? true)));
  }

  it('examples/tinyllama_chat.tl on a TinyLlama-shaped header: 22 layers of ops', () => {
    const src = readFileSync('examples/tinyllama_chat.tl', 'utf8'); // tracked: required
    const ir = compile(src, 'examples/tinyllama_chat.tl', { model: fakeModel(TINYLLAMA) });
    const g = ir.graphs.find((x) => x.nodes.some((n) => n.op === 'attention'))!;
    assert.equal(ops(g).attention, 22);
    assert.equal(ops(g).rms_norm, 22 * 2 + 1);
  });

  describe('errors point at the source', () => {
    for (const e of ERRORS) {
      it(e.name, () => {
        assert.throws(
          () => lower(e.src),
          (err: unknown) => {
            assert.ok(err instanceof DiagnosticError, String(err));
            assert.match(err.message, e.message);
            assert.match(err.message, new RegExp(`^t\\.tl:${e.at}: error:`));
            assert.match(err.message, /\n\s+\d+ \| .*\n\s+\| \s*\^/); // the line and a caret
            return true;
          },
        );
      });
    }
  });
});
