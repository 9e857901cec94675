// Builds one device graph: adds nodes with their inferred shapes, deduplicates leaves.
import type { Dim, Graph, GraphInput, GraphOutput, HostExpr, Node } from '../ir.ts';
import { OPS } from '../ops.ts';
import { ShapeError, broadcastShapes } from '../shapes.ts';
import { CompileError } from './values.ts';
import type { Span } from '../ast.ts';

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly inputExprs: HostExpr[] = []; // host value for each input, evaluated when the graph runs
  readonly outputs: GraphOutput[] = [];
  readonly sameDims: [string, string][] = [];
  readonly dims = new Map<string, HostExpr>();
  /** Run-time sizes made dims (compiler/lower/tensors.ts dimOf), by host expression. */
  readonly sizes = new Map<string, { dim: string; sets: number }>();
  /** Dims bound from the shapes of tensor inputs when the graph runs (not by the host). */
  readonly inputDims = new Set<string>();
  /** Set once the host program runs this graph; later ops go to a new graph. */
  emitted = false;
  private leaves = new Map<string, number>();

  constructor(readonly id: number, readonly name: string) {}

  add(op: string, args: number[], attrs: Record<string, unknown>, span?: Span): number {
    const def = OPS[op];
    if (!def) throw new Error(`unknown op ${op}`);
    let shape: Dim[];
    try {
      shape = def.shape(args.map((a) => this.nodes[a].shape), attrs);
    } catch (e) {
      if (e instanceof ShapeError) throw new CompileError(`shape mismatch: ${e.message}`, span);
      throw e;
    }
    const at = span ? `${span.file}:${span.line}:${span.col}` : undefined;
    const dtype = (attrs.dtype as Node['dtype'] | undefined) ?? def.dtype ?? 'f32';
    const node: Node = { id: this.nodes.length, op, args, attrs, shape, dtype, ...(at ? { at } : {}) };
    this.nodes.push(node);
    return node.id;
  }

  /** A leaf that is the same whenever its key is: a weight, an input bound to the same host value. */
  leaf(key: string, make: () => number): number {
    let id = this.leaves.get(key);
    if (id === undefined) {
      id = make();
      this.leaves.set(key, id);
    }
    return id;
  }

  input(kind: GraphInput['kind'], value: HostExpr, attrs: Record<string, unknown>, span?: Span): number {
    return this.leaf(`in:${kind}:${JSON.stringify(value)}`, () => {
      const node = this.add(kind, [], attrs, span);
      this.inputs.push({ kind, node });
      this.inputExprs.push(value);
      return node;
    });
  }

  /**
   * A device value made by another graph: a 'tensor' input whose symbolic dims are bound from the
   * value's own shape when this graph runs.
   */
  tensorInput(value: HostExpr, shape: Dim[], dtype: Node['dtype'], srcDims: Map<string, HostExpr>, span?: Span): number {
    shape.forEach((d, i) => {
      if (typeof d !== 'string') return;
      this.inputDims.add(d);
      // For host uses of the size (print(shape(x))): the source's expression, or the value's own.
      if (!this.dims.has(d)) this.dims.set(d, srcDims.get(d) ?? { k: 'call', fn: 'dim', args: [value, { k: 'const', value: i }] });
    });
    return this.input('tensor', value, { shape, dtype }, span);
  }

  /** Records that two run-time sizes must be equal; the executor checks it. */
  sameDim(a: string, b: string): void {
    if (a !== b && !this.sameDims.some(([x, y]) => (x === a && y === b) || (x === b && y === a))) this.sameDims.push([a, b]);
  }

  /**
   * `y` as an operand of an elementwise op with `x`: where both have a run-time size at the same
   * place and the names differ (`seq` and `len(tokens)`), they must be one size, so `y` is viewed
   * with `x`'s names and the sizes are checked when the graph runs.
   */
  matchSizes(x: number, y: number, span?: Span): number {
    const a = this.shape(x), b = this.shape(y);
    if (broadcastsWith(a, b)) return y;
    const renamed = b.map((d, j) => {
      const other = a[a.length - b.length + j];
      return typeof d === 'string' && typeof other === 'string' ? other : d;
    });
    if (!broadcastsWith(a, renamed)) return y;
    renamed.forEach((d, j) => d !== b[j] && this.sameDim(d as string, b[j] as string));
    return this.add('reshape', [y], { shape: renamed }, span);
  }

  /** Marks (node, element) for read-back; returns the output's index. */
  output(node: number, element: number): number {
    const i = this.outputs.findIndex((o) => o.node === node && o.element === element && !o.keep);
    if (i >= 0) return i;
    this.outputs.push({ node, element });
    return this.outputs.length - 1;
  }

  /** Marks a node to stay on the device after the run, for later graphs; returns the output's index. */
  keep(node: number): number {
    const i = this.outputs.findIndex((o) => o.node === node && o.keep);
    if (i >= 0) return i;
    this.outputs.push({ node, element: -1, keep: true });
    return this.outputs.length - 1;
  }

  /** The dims the host binds when it runs the graph (those of tensor inputs come with the values). */
  hostDims(): Record<string, HostExpr> {
    return Object.fromEntries([...this.dims].filter(([d]) => !this.inputDims.has(d)));
  }

  shape(node: number): Dim[] {
    return this.nodes[node].shape;
  }

  finish(): Graph {
    const same = this.sameDims.length ? { sameDims: this.sameDims } : {};
    return { id: this.id, name: this.name, dims: [...this.dims.keys()], inputs: this.inputs, nodes: this.nodes, outputs: this.outputs, ...same };
  }
}

function broadcastsWith(a: Dim[], b: Dim[]): boolean {
  try {
    broadcastShapes(a, b);
    return true;
  } catch {
    return false;
  }
}
