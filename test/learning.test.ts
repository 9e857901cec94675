// `learn` blocks: training compiled to the GPU. Linear regression against a plain TypeScript
// reference trained the same way (same data, init, optimizer, lr, epochs); the gradient of every
// op with a rule (compiler/lower/autodiff.ts) against central finite differences of the same
// objective, both evaluated on the adapter in f32; and what is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from '../compiler/artifact.ts';
import { Program } from '../runtime/program.ts';
import type { Gpu } from '../runtime/device.ts';
import { testGpu } from './support/gpu.ts';

let gpu: Gpu;

async function run(text: string): Promise<string> {
  const program = await Program.load(gpu, build(text, 'main.tl'), undefined);
  let out = '';
  try {
    await program.run({}, { write: (t) => (out += t) });
  } finally {
    program.destroy();
  }
  return out;
}

const numbers = (s: string) => [...s.matchAll(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)].map((m) => Number(m[0]));

// ---------------------------------------------------------------------------------------------
// The reference: y = X W + b, loss = mean((y - Y)^2), in float64.

const X = [1, 2, 3, 4, 5], Y = [3, 5, 7, 9, 11];

function reference(opt: 'sgd' | 'adam', lr: number, epochs: number, w0 = 0.5, b0 = 0): [number, number] {
  let [w, b] = [w0, b0];
  const m = [0, 0], v = [0, 0];
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let t = 1; t <= epochs; t++) {
    const err = X.map((x, i) => x * w + b - Y[i]);
    const g = [(2 / X.length) * err.reduce((s, e, i) => s + e * X[i], 0), (2 / X.length) * err.reduce((s, e) => s + e, 0)];
    const p = [w, b];
    for (let k = 0; k < 2; k++) {
      if (opt === 'sgd') p[k] -= lr * g[k];
      else {
        m[k] = b1 * m[k] + (1 - b1) * g[k];
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
        const mHat = m[k] / (1 - b1 ** t), vHat = v[k] / (1 - b2 ** t);
        p[k] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
    [w, b] = p;
  }
  return [w, b];
}

const EXAMPLE = readFileSync(new URL('../examples/learning_linear.tl', import.meta.url), 'utf8');

describe('learn blocks', () => {
  before(async () => {
    gpu = await testGpu();
  });

  const cases: { name: string; optimizer: string; opt: 'sgd' | 'adam'; lr: number; epochs: number }[] = [
    { name: 'examples/learning_linear.tl as written (adam, lr 0.1, 300 epochs)', optimizer: 'adam(lr: 0.1)', opt: 'adam', lr: 0.1, epochs: 300 },
    { name: 'the same with sgd (lr 0.02, 400 epochs)', optimizer: 'sgd(lr: 0.02)', opt: 'sgd', lr: 0.02, epochs: 400 },
    { name: 'the same with adam, lr 0.05, 150 epochs', optimizer: 'adam(lr=0.05, beta1=0.9, beta2=0.999)', opt: 'adam', lr: 0.05, epochs: 150 },
  ];
  for (const c of cases) {
    it(`linear regression: ${c.name} reaches the reference's parameters`, async () => {
      const text = EXAMPLE.replace('adam(lr: 0.1)', c.optimizer).replace('epochs: 300', `epochs: ${c.epochs}`);
      const out = await run(text);
      const [w, b] = numbers(out.split('\n').filter((l) => l.startsWith('W ') || l.startsWith('b ')).map((l) => l.split(':')[1]).join(' '));
      const [rw, rb] = reference(c.opt, c.lr, c.epochs);
      assert.ok(Math.abs(w - rw) < 1e-3 && Math.abs(b - rb) < 1e-3, `learned W ${w}, b ${b}; reference W ${rw}, b ${rb}`);
      if (c.opt === 'adam' && c.lr === 0.1) assert.ok(Math.abs(w - 2) < 0.01 && Math.abs(b - 1) < 0.02, `W ${w}, b ${b} should be near 2 and 1`);
    });
  }

  it("the original's tutorial 01 (w*w + b*b, sgd lr 0.1, 50 epochs) gives 0.5 * 0.8^50", async () => {
    const out = await run(`tensor w: float16[1] learnable = [0.5]
tensor b: float16[1] learnable = [0.5]
main {
    learn {
        objective: w * w + b * b,
        optimizer: sgd(lr: 0.1),
        epochs: 50
    }
    print(w, b)
}`);
    for (const x of numbers(out)) assert.ok(Math.abs(x - 0.5 * 0.8 ** 50) < 1e-9, out);
  });

  it('block statements with :=, epochs readable, sgd with momentum and adamw run', async () => {
    const base = (opt: string) => `tensor W: float32[1] learnable = [0.5]
tensor x: float32[2] = [1.0, -2.0]
tensor y: float32[2] = [3.0, -6.0]
main {
    learn {
        err := x * W - y
        total := sum(err * err)
        objective: total,
        optimizer: ${opt},
        epochs: 200
    }
    print(W)
}`;
    for (const opt of ['sgd(lr: 0.01, momentum: 0.9)', 'adamw(lr: 0.05, weight_decay: 0.0)', 'adam(lr: 0.05, eps: 0.00000001)']) {
      const [w] = numbers(await run(base(opt)));
      assert.ok(Math.abs(w - 3) < 1e-2, `${opt}: W = ${w}, expected about 3`);
    }
  });

  // -------------------------------------------------------------------------------------------
  // Gradient checks: each objective is a function of p; its gradient from the learn block (one
  // sgd step with lr 1: p - p') against (f(p + h e_i) - f(p - h e_i)) / 2h, both on the GPU.

  interface GradCase {
    op: string;
    expr: string; // of p; Q: float32[2, 3], R: float32[3, 2], V: float32[3], W4: float32[4, 3] are constants
    shape?: number[]; // p's shape, [2, 3] unless given
    init?: number[]; // p's values
  }
  const P0 = [0.7, -1.2, 0.4, 1.5, -0.3, 0.9];
  const POS = [0.7, 1.2, 0.4, 1.5, 0.3, 0.9];
  const GRADS: GradCase[] = [
    { op: 'add', expr: 'sum((p + Q) * Q)' },
    { op: 'add (p broadcast)', expr: 'sum((p + Q) * (p + Q))', shape: [3], init: [0.5, -1, 2] },
    { op: 'sub', expr: 'sum((Q - p) * (p - V))' },
    { op: 'mul', expr: 'sum(p * Q * p)' },
    { op: 'div (numerator)', expr: 'sum(p / Q)' },
    { op: 'div (denominator)', expr: 'sum(Q / p)', init: POS },
    { op: 'max / min', expr: 'sum(max(p, Q) + min(p, V) * 2.0)' },
    { op: 'neg', expr: 'sum(-p * Q)' },
    { op: 'scale', expr: 'sum((p * 3.0 + 1.0) * Q)' },
    { op: 'exp', expr: 'sum(exp(p))' },
    { op: 'log', expr: 'sum(log(p) * Q)', init: POS },
    { op: 'sqrt', expr: 'sum(sqrt(p) * Q)', init: POS },
    { op: 'square (pow 2)', expr: 'sum(pow(p, 2.0) * Q)' },
    { op: 'pow 3 (exp log)', expr: 'sum(pow(p, 3.0))', init: POS },
    { op: 'recip (pow -1)', expr: 'sum(pow(p, -1.0) * Q)', init: POS },
    { op: 'abs', expr: 'sum(abs(p) * Q)' },
    { op: 'sin / cos', expr: 'sum(sin(p) * Q + cos(p))' },
    { op: 'sigmoid', expr: 'sum(sigmoid(p) * Q)' },
    { op: 'relu', expr: 'sum(relu(p) * Q)' },
    { op: 'tanh', expr: 'sum(tanh(p) * Q)' },
    { op: 'silu', expr: 'sum(silu(p) * Q)' },
    { op: 'sum', expr: 'sum(sum(p, 1) * sum(p, 1))' },
    { op: 'sum over axis 0', expr: 'sum(sum(p * p, 0) * V)' },
    { op: 'mean', expr: 'mean(p * p * Q)' },
    { op: 'mean over an axis', expr: 'sum(mean(p, 1) * mean(p, 1))' },
    { op: 'matmul (left)', expr: 'sum(matmul(p, R) * matmul(p, R))' },
    { op: 'matmul (right)', expr: 'sum(matmul(R, p) * matmul(R, p))' },
    { op: '@', expr: 'sum((p @ R) * (p @ R))' },
    { op: 'linear', expr: 'sum(linear(p, W4) * linear(p, W4))' },
    { op: 'linear (weight)', expr: 'sum(linear(R, p) * linear(R, p))', shape: [3, 2], init: P0 },
    { op: 'einsum', expr: 'sum(einsum("ij,kj->ik", p, W4) * einsum("ij,kj->ik", p, W4))' },
    { op: 'einsum with a summed index', expr: 'sum(einsum("ij,ij->i", p, Q) * einsum("ij->i", p))' },
    { op: 'reshape', expr: 'sum(reshape(p, [3, 2]) * R)' },
    { op: 'broadcast_to', expr: 'sum(broadcast_to(p, [2, 3]) * Q * broadcast_to(p, [2, 3]))', shape: [3], init: [0.5, -1, 2] },
    { op: 'transpose', expr: 'sum(transpose(p) * R * transpose(p))' },
    { op: 'softmax', expr: 'sum(softmax(p, 1) * Q)' },
    { op: 'softmax over axis 0', expr: 'sum(softmax(p, 0) * Q)' },
  ];
  const CONSTS = `tensor Q: float32[2, 3] = [[0.5, 1.5, -1.0], [2.0, -0.5, 1.0]]
tensor R: float32[3, 2] = [[1.0, -0.5], [0.5, 2.0], [-1.5, 1.0]]
tensor V: float32[3] = [0.2, -0.4, 1.1]
tensor W4: float32[4, 3] = [[0.1, 0.2, -0.3], [0.5, -0.1, 0.4], [-0.2, 0.3, 0.6], [0.7, 0.1, -0.5]]
`;
  const nest = (v: number[], shape: number[]): string => {
    if (shape.length === 1) return `[${v.map((x) => x.toFixed(6)).join(', ')}]`;
    const size = v.length / shape[0];
    return `[${Array.from({ length: shape[0] }, (_, i) => nest(v.slice(i * size, (i + 1) * size), shape.slice(1))).join(', ')}]`;
  };

  for (const c of GRADS) {
    it(`gradient of ${c.op} matches finite differences`, async () => {
      const shape = c.shape ?? [2, 3];
      const p0 = (c.init ?? P0).slice(0, shape.reduce((a, b) => a * b, 1));
      const h = 1e-2;
      const f = (v: number[]) => c.expr.replace(/\bp\b/g, `(${nest(v, shape)} * 1.0)`);
      const probes = p0.flatMap((_, i) => [1, -1].map((s) => `print(${f(p0.map((x, j) => (j === i ? x + s * h : x)))})`));
      const text = `${CONSTS}tensor p: float32[${shape.join(', ')}] learnable = ${nest(p0, shape)}
main {
${probes.join('\n')}
learn {
  objective: ${c.expr},
  optimizer: sgd(lr: 1.0),
  epochs: 1
}
print(p)
}`;
      const out = numbers(await run(text));
      const fd = p0.map((_, i) => (out[2 * i] - out[2 * i + 1]) / (2 * h));
      const learned = out.slice(2 * p0.length);
      const grad = p0.map((x, i) => x - learned[i]);
      grad.forEach((g, i) => assert.ok(Math.abs(g - fd[i]) <= 2e-3 + 1e-2 * Math.abs(fd[i]), `${c.op}: d/dp[${i}] is ${g} from learn, ${fd[i]} by finite differences (all: ${grad} vs ${fd})`));
    });
  }

  // -------------------------------------------------------------------------------------------

  const REFUSED: { name: string; src: string; error: RegExp }[] = [
    { name: 'an op with no gradient rule, named with its place', src: 'learn { objective: sum(gelu(w)), optimizer: sgd(lr: 0.1), epochs: 3 }', error: /cannot differentiate the function gelu \(made at main\.tl:\d+:\d+\)/ },
    { name: 'a reduction with no rule', src: 'learn { objective: max(w), optimizer: sgd(lr: 0.1), epochs: 3 }', error: /cannot differentiate the reduction max/ },
    { name: 'an objective of more than one number', src: 'learn { objective: w * 2.0, optimizer: sgd(lr: 0.1), epochs: 3 }', error: /the objective must be one number, got a tensor of shape \[2\]/ },
    { name: 'an objective computed before the block', src: 'let loss = sum(w * w)\nlearn { objective: loss, optimizer: sgd(lr: 0.1), epochs: 3 }', error: /computed before the block/ },
    { name: 'an unknown optimizer', src: 'learn { objective: sum(w), optimizer: rmsprop(lr: 0.1), epochs: 3 }', error: /unknown optimizer 'rmsprop' \(tlc has sgd, adam, adamw\)/ },
    { name: 'an unknown optimizer parameter', src: 'learn { objective: sum(w), optimizer: adam(lr: 0.1, gamma: 2), epochs: 3 }', error: /adam has no parameter 'gamma'/ },
    { name: 'a scheduler', src: 'learn { objective: sum(w), optimizer: sgd(lr: 0.1), epochs: 3, scheduler: step(step_size: 2) }', error: /the setting 'scheduler' cannot be compiled/ },
    { name: 'a training loop with backward() and no objective', src: 'learn { optimizer: sgd(lr=0.1)\nepochs: 3\nfor e in range(epochs) { backward(sum(w)) } }', error: /a training loop that calls backward\(\) cannot be compiled/ },
    { name: 'no learnable tensor', src: 'let v = [1.0, 2.0] * 1.0\nlearn { objective: sum(v), optimizer: sgd(lr: 0.1), epochs: 3 }', error: /no learnable parameters/ },
  ];
  for (const c of REFUSED) {
    it(`refused: ${c.name}`, () => {
      const text = c.name === 'no learnable tensor' ? `main {\n${c.src}\n}` : `tensor w: float32[2] learnable = [1.0, 2.0]\nmain {\n${c.src}\n}`;
      assert.throws(() => build(text, 'main.tl'), (e: Error) => (assert.match(e.message, c.error), true));
    });
  }
});
