// The compiler's output: a host program (control flow, strings, token lists, graph calls) that the
// runtime interprets, and device graphs (typed tensor ops with concrete shapes except symbolic dims).
// Everything here is plain JSON-able data: it is what the build artifact stores.

import type { Span } from './ast.ts';

// ---------------------------------------------------------------------------------------------
// Host program

/** A host value at run time. Lists hold token ids or other numbers. */
export type HostValue = number | string | boolean | null | HostValue[];

export type HostExpr =
  | { k: 'const'; value: HostValue }
  | { k: 'var'; name: string }
  | { k: 'arg'; name: string; default: HostValue } // run-time parameter, `arg("prompt", "Hi")`
  | { k: 'op'; op: string; args: HostExpr[] } // + - * / % == != < <= > >= && || ! neg, int, float, str
  | { k: 'call'; fn: string; args: HostExpr[] } // host builtins: tokenize, detokenize, append, len, env, ...
  | { k: 'list'; items: HostExpr[] }
  | { k: 'index'; target: HostExpr; index: HostExpr }
  | { k: 'out'; graph: number; output: number }; // a graph output of its last run: read back, or a device value

export type HostStmt =
  | { k: 'let'; name: string; value: HostExpr }
  | { k: 'set'; name: string; value: HostExpr }
  | { k: 'print'; args: HostExpr[]; end: string }
  | { k: 'if'; cond: HostExpr; then: HostStmt[]; else: HostStmt[] }
  | { k: 'for'; var: string; start: HostExpr; end: HostExpr; body: HostStmt[] }
  | { k: 'while'; cond: HostExpr; body: HostStmt[] }
  | { k: 'break' }
  | { k: 'continue' }
  | { k: 'panic'; message: HostExpr; at: string }
  | { k: 'run'; graph: number; dims: Record<string, HostExpr>; inputs: HostExpr[] };

// ---------------------------------------------------------------------------------------------
// Device graphs

/** A dimension: a size known at build time, or the name of a symbolic dim bound when the graph runs. */
export type Dim = number | string;

export type DType = 'f32' | 'u32';

export interface Node {
  id: number;
  op: string; // see compiler/ops.ts for every op, its attributes and its shape rule
  args: number[]; // node ids in the same graph
  attrs: Record<string, unknown>;
  shape: Dim[];
  dtype: DType;
  at?: string; // "file:line:col" of the expression that made it
}

export interface GraphInput {
  /** Token ids (a host list), a host number, or a device value made by an earlier graph run. */
  kind: 'ids' | 'scalar' | 'tensor';
  node: number; // the leaf node that holds it (op ids, scalar or tensor)
}

export interface GraphOutput {
  node: number;
  /** Only this element (flat index) is read back, e.g. a sampled token id, or `x[0, 3]`; -1: all of it. */
  element: number;
  /** Not read back: the tensor stays on the device, a value later graphs take as a 'tensor' input. */
  keep?: boolean;
}

export interface Graph {
  id: number;
  name: string;
  dims: string[]; // symbolic dims, bound per call
  inputs: GraphInput[];
  nodes: Node[];
  outputs: GraphOutput[];
  /**
   * Set by the kv-cache pass: the graph can run on new rows of `seqDim` only. Its row sources (ids
   * inputs, or tensor inputs whose rows are the sequence) say which rows are new; K/V and every
   * output with the sequence as its leading dim keep the earlier rows between calls.
   */
  incremental?: { seqDim: string; sources: number[] };
  /** Sizes the program uses as one (`len(tokens)` and the ids' own size): checked when the graph runs. */
  sameDims?: [string, string][];
}

export interface Weight {
  name: string; // GGUF tensor name
  type: string; // GGUF type name, "Q8_0"
  shape: number[]; // GGUF order (ne0 first)
}

export interface IR {
  host: HostStmt[];
  graphs: Graph[];
  weights: Weight[];
}

export function spanText(s: Span | undefined): string | undefined {
  return s ? `${s.file}:${s.line}:${s.col}` : undefined;
}
