// `learn { stmts  objective: loss, optimizer: adam(lr: 0.01), epochs: 100 }`: training, as the
// original runs it. Every tensor declared `learnable` (and in scope) is a parameter. Each epoch
// runs the block's statements and evaluates the objective (a one-element tensor) on the device,
// then the gradient of the objective by reverse-mode differentiation of that graph (./autodiff.ts),
// then the optimizer's update, all in the same graph. The epochs are a host loop; the parameters
// (and Adam's moments) live in host variables as device values between epochs, as tensors changed
// by any run-time loop do, so after the block the parameters hold their trained values.
import type * as A from '../ast.ts';
import type { HostExpr } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, tensorType, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';
import { gradients } from './autodiff.ts';

/** Each optimizer with its parameters and their defaults (the original's documented ones). */
export const OPTIMIZERS: Record<string, Record<string, number>> = {
  sgd: { lr: 0.01, momentum: 0, weight_decay: 0 },
  adam: { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weight_decay: 0 },
  adamw: { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weight_decay: 0.01 },
};
const ALIASES: Record<string, string> = { eps: 'epsilon', learning_rate: 'lr' };

interface Param {
  name: string;
  state: string[]; // hidden names of the optimizer's per-parameter tensors (momentum, Adam's m and v)
}

export function lowerLearn(L: Lowerer, s: A.Learn): void {
  const setting = (name: string) => s.settings.find((x) => x.name === name);
  for (const x of s.settings) {
    if (!['objective', 'optimizer', 'epochs'].includes(x.name)) {
      throw new CompileError(`learn: the setting '${x.name}' cannot be compiled (tlc compiles objective, optimizer and epochs)`, x.span);
    }
  }
  const objective = setting('objective');
  if (!objective || objective.value.kind === 'Optimizer') {
    throw new CompileError('learn: a training loop that calls backward() cannot be compiled; give the loss as `objective: loss,` with `optimizer:` and `epochs:` (as the original grammar does)', s.span);
  }
  const objectiveExpr = objective.value;
  const opt = optimizer(L, setting('optimizer'), s.span);
  const epochs = epochCount(L, setting('epochs'), s.span);

  const params: Param[] = [];
  for (const name of L.learnable.keys()) {
    let v: Val;
    try {
      v = L.lookup(name, s.span);
    } catch {
      continue; // declared in a scope that has ended
    }
    const type = tensorType(v);
    if (!type) continue;
    if (type.shape.some((d) => typeof d !== 'number')) throw new CompileError(`learn: the parameter '${name}' has a size known only at run time`, s.span);
    const state = opt.name === 'sgd' ? (opt.p.momentum ? ['velocity'] : []) : ['m', 'v'];
    const p: Param = { name, state: state.map((k) => `${name}#${k}`) };
    // The optimizer's state starts at zero (declared where the block is, under names no program can write).
    for (const k of p.state) L.declare(k, L.call('zeros', [stat(type.shape as number[])], s.span));
    params.push(p);
  }
  if (params.length === 0) throw new CompileError("learn: no learnable parameters: declare them as `tensor w: float32[n] learnable = ...`", s.span);

  const changed = params.flatMap((p) => [p.name, ...p.state]);
  L.hostFor(changed, epochs, s.span, (epoch) => {
    L.declare('epochs', stat(epochs)); // the settings are names the statements can read, as the checker has them
    L.blockStmts(s.body);
    const loss = L.expr(objectiveExpr);
    const g = L.graph();
    if (loss.t !== 'tensor' || loss.g !== g) {
      const why = loss.t === 'tensor' || loss.t === 'dev'
        ? 'it was computed before the block or read back in it; compute it in the block (it is recomputed every epoch)'
        : `it is ${describe(loss)}`;
      throw new CompileError(`learn: the objective must be a tensor computed in this learn block's graph; ${why}`, objectiveExpr.span);
    }
    const lossShape = g.shape(loss.node);
    if (!lossShape.every((d) => d === 1)) throw new CompileError(`learn: the objective must be one number, got a tensor of shape [${lossShape.join(', ')}] (sum or mean it)`, objectiveExpr.span);
    const leaves = params.map((p) => tensorOf(L, L.lookup(p.name, s.span), s.span));
    const grads = gradients(g, loss.node, leaves, objectiveExpr.span);
    const t: HostExpr = { k: 'op', op: '+', args: [epoch, { k: 'const', value: 1 }] }; // the step, from 1
    params.forEach((p, i) => {
      const grad = grads.get(leaves[i]);
      if (grad === undefined) return; // the objective does not depend on it: left as it is
      const updates = step(L, opt, leaves[i], grad, p.state.map((k) => tensorOf(L, L.lookup(k, s.span), s.span)), t, s.span);
      [p.name, ...p.state].forEach((name, j) => L.assignName(name, { t: 'tensor', g, node: updates[j] }, s.span));
    });
  });
}

interface Opt {
  name: string;
  p: Record<string, number>;
}

function optimizer(L: Lowerer, s: A.LearnSetting | undefined, span: A.Span): Opt {
  if (!s) throw new CompileError('learn: no optimizer: add `optimizer: sgd(lr: 0.1),` or adam(...)', span);
  if (s.value.kind !== 'Optimizer') throw new CompileError('learn: the optimizer is written like sgd(lr: 0.1) or adam(lr: 0.01)', s.span);
  const o = s.value;
  const defaults = OPTIMIZERS[o.name];
  if (!defaults) throw new CompileError(`learn: unknown optimizer '${o.name}' (tlc has ${Object.keys(OPTIMIZERS).join(', ')})`, o.span);
  const p = { ...defaults };
  for (const param of o.params) {
    const key = ALIASES[param.name] ?? param.name;
    if (!(key in defaults)) throw new CompileError(`learn: ${o.name} has no parameter '${param.name}' (it has ${Object.keys(defaults).join(', ')})`, param.span);
    const v = L.expr(param.value);
    if (v.t !== 'static' || typeof v.v !== 'number') throw new CompileError(`learn: ${o.name}'s ${param.name} must be a number known at build time, got ${describe(v)}`, param.span);
    p[key] = v.v;
  }
  return { name: o.name, p };
}

function epochCount(L: Lowerer, s: A.LearnSetting | undefined, span: A.Span): number {
  if (!s) throw new CompileError('learn: no epochs: add `epochs: 100`', span);
  const v = s.value.kind === 'Optimizer' ? undefined : L.expr(s.value);
  if (!v || v.t !== 'static' || typeof v.v !== 'number' || !Number.isInteger(v.v) || v.v < 0) {
    throw new CompileError(`learn: epochs must be a whole number known at build time${v ? `, got ${describe(v)}` : ''}`, s.span);
  }
  return v.v;
}

/**
 * One optimizer step for parameter `p` with gradient `grad` and its state tensors (nodes of the
 * current graph); returns the new parameter and the new state, in the order of Param.state.
 */
function step(L: Lowerer, opt: Opt, p: number, grad: number, state: number[], t: HostExpr, span: A.Span): number[] {
  const g = L.graph();
  const add = (op: string, args: number[], attrs: Record<string, unknown> = {}) => g.add(op, args, attrs, span);
  const bin = (fn: string, a: number, b: number) => add('binary', [a, b], { fn });
  const scale = (a: number, value: number, bias = 0) => add('scale', [a], { value, bias });
  const { lr, weight_decay: wd } = opt.p;
  if (opt.name === 'sgd') {
    let d = wd ? bin('add', grad, scale(p, wd)) : grad;
    if (!opt.p.momentum) return [bin('add', p, scale(d, -lr))];
    d = bin('add', scale(state[0], opt.p.momentum), d); // PyTorch's form: v = mu v + g; p -= lr v
    return [bin('add', p, scale(d, -lr)), d];
  }
  const { beta1: b1, beta2: b2, epsilon: eps } = opt.p;
  let d = grad;
  let q = p;
  if (opt.name === 'adam' && wd) d = bin('add', d, scale(p, wd)); // L2, as Adam's weight_decay
  if (opt.name === 'adamw') q = scale(p, 1 - lr * wd); // decoupled decay
  const m = bin('add', scale(state[0], b1), scale(d, 1 - b1));
  const v = bin('add', scale(state[1], b2), scale(add('unary', [d], { fn: 'square' }), 1 - b2));
  // Bias corrections 1 / (1 - beta^t), computed by the host each epoch.
  const correction = (beta: number) => {
    const e: HostExpr = { k: 'op', op: '/', args: [{ k: 'const', value: 1 }, { k: 'op', op: '-', args: [{ k: 'const', value: 1 }, { k: 'op', op: '**', args: [{ k: 'const', value: beta }, t] }] }] };
    return tensorOf(L, { t: 'host', e }, span);
  };
  const mHat = bin('mul', m, correction(b1));
  const vHat = bin('mul', v, correction(b2));
  const denom = scale(add('unary', [vHat], { fn: 'sqrt' }), 1, eps);
  const update = scale(bin('div', mHat, denom), -lr);
  return [bin('add', q, update), m, v];
}
