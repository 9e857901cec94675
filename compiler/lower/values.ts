// What an expression evaluates to while the compiler runs the program symbolically.
import type { FnDecl, Span } from '../ast.ts';
import type { DType, Dim, HostExpr, HostValue } from '../ir.ts';
import type { GraphBuilder } from './graph-builder.ts';

export type Val =
  | { t: 'static'; v: HostValue; float?: true } // known at build time: folded (float: a whole number typed float, see numbers.ts)
  | { t: 'sym'; dim: string; e: HostExpr } // a size known per graph call (a dim of a graph), e.g. len(tokens)
  | { t: 'host'; e: HostExpr } // known only at run time: strings, token lists, sampled ids read back
  | { t: 'tensor'; g: GraphBuilder; node: number; sampling?: Sampling } // a value on the device
  | { t: 'dev'; e: HostExpr; shape: Dim[]; dtype: DType; dims: Map<string, HostExpr> } // a device value a host variable holds
  | { t: 'kvcache'; k: string[]; v: string[] } // KVCache::new(n): per layer, the names of two hidden variables
  | { t: 'tensorbuffer'; capacity: number; slot: string } // new_tensor_buffer(bytes): its bookkeeping in a hidden variable (./tensor-buffer.ts)
  | { t: 'list'; items: Val[] } // a list with symbolic or device parts, e.g. a shape [seq, 32, 64]
  | { t: 'model'; path: string[]; span?: Span } // the model, or a path into it: model.blk[3].attn_q
  | { t: 'weight'; name: string } // a GGUF tensor
  | { t: 'fn'; decl: FnDecl }
  | { t: 'struct'; name: string; fields: ReadonlyMap<string, Val> } // fields of any kind; a value: a change makes a new one (./structs.ts)
  | { t: 'none' };

/** top_k / top_p applied to logits, waiting for the sampler. */
export interface Sampling {
  topK?: Val;
  topP?: Val;
}

export const NONE: Val = { t: 'none' };

export function stat(v: HostValue): Val {
  return { t: 'static', v };
}

export class CompileError extends Error {
  constructor(message: string, readonly span?: Span) {
    super(message);
  }
}

export function describe(v: Val): string {
  switch (v.t) {
    case 'static':
      return Array.isArray(v.v) ? 'a list' : v.v === null ? 'nothing' : `the ${typeof v.v} ${JSON.stringify(v.v)}`;
    case 'sym':
      return `the size ${v.dim}`;
    case 'host':
      return 'a run-time value';
    case 'tensor':
    case 'dev':
      return 'a tensor';
    case 'list':
      return 'a list';
    case 'model':
      return v.path.length ? `model.${v.path.join('.')}` : 'the model';
    case 'weight':
      return `the weight ${v.name}`;
    case 'fn':
      return `the function ${v.decl.name}`;
    case 'kvcache':
      return 'a KVCache';
    case 'tensorbuffer':
      return 'a TensorBuffer';
    case 'struct':
      return `a ${v.name} struct`;
    case 'none':
      return 'nothing';
  }
}

/** Shape and type of a value on the device that is not a weight: a graph node, or one a host variable holds. */
export function tensorType(v: Val): { shape: Dim[]; dtype: DType } | undefined {
  if (v.t === 'tensor') return { shape: v.g.shape(v.node), dtype: v.g.nodes[v.node].dtype };
  if (v.t === 'dev') return { shape: v.shape, dtype: v.dtype };
  return undefined;
}
