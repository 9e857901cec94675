// The value of a run-time `if` (a block's last statement, or a function's early return): each
// branch stores its value into one host variable, a host value or a device value.
import type * as A from '../ast.ts';
import type { DType, Dim, HostExpr } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, NONE, describe, type Val } from './values.ts';
import { deviceExpr, tensorOf } from './tensors.ts';

/** The value of a run-time if: each branch stores its own into one host variable. */
export class BranchResult {
  returned = false;
  stored = false; // a branch sets the variable
  private kind?: 'host' | 'dev' | 'none' | 'mixed';
  private shapes: Dim[][] = [];
  private dtype: DType = 'f32';

  constructor(private L: Lowerer, readonly name: string) {}

  store(v: Val, span: A.Span): void {
    const kind = v.t === 'none' ? 'none' : v.t === 'tensor' || v.t === 'dev' || v.t === 'weight' ? 'dev' : 'host';
    if (this.kind && kind !== this.kind) {
      // Only a function's result must have one kind; an if used as a statement has no value.
      if (this.returned) throw new CompileError(`the branches of this if give different kinds of value (${this.kind === 'dev' ? 'a tensor' : this.kind === 'none' ? 'nothing' : 'a host value'} and ${describe(v)})`, span);
      this.kind = 'mixed';
    }
    this.kind ??= kind;
    if (this.kind !== kind) return;
    if (kind === 'none') return;
    this.stored = true;
    if (kind === 'host') return this.L.emit({ k: 'set', name: this.name, value: this.L.hostExpr(v, span) });
    const g = v.t === 'tensor' ? v.g : this.L.graph();
    const node = v.t === 'tensor' ? v.node : tensorOf(this.L, v, span);
    this.shapes.push(g.shape(node));
    this.dtype = g.nodes[node].dtype;
    this.L.emit({ k: 'set', name: this.name, value: deviceExpr(this.L, { t: 'tensor', g, node }, span) });
  }

  value(): Val {
    const e: HostExpr = { k: 'var', name: this.name };
    if (this.kind === 'host') return { t: 'host', e };
    if (this.kind !== 'dev') return NONE;
    const [a, b] = [this.shapes[0], this.shapes[1] ?? this.shapes[0]];
    if (a.length !== b.length) throw new CompileError(`the branches of this if give tensors of different ranks ([${a.join(', ')}] and [${b.join(', ')}])`);
    const shape = a.map((d, i) => (d === b[i] ? d : this.L.fresh(`${this.name}_${i}`)));
    return { t: 'dev', e, shape, dtype: this.dtype, dims: new Map() };
  }
}
