// The original's KVCache API, as plain tensors the compiler already knows how to carry:
//
//   let cache = KVCache::new_f16(n_layers)     n_layers pairs of hidden variables (K, V)
//   cache.set(layer, K, V)                     K_layer = K, V_layer = V
//   cache.append(layer, K, V)                  K_layer = concat(K_layer, K, 0), likewise V
//   cache.get_k(layer), cache.get_v(layer)     the tensors
//   cache.len(layer)                           rows of K_layer
//
// Changed inside the token loop, the slots become loop-carried device values, and each append writes
// the new rows in place into a buffer preallocated to the context (runtime/device-value.ts).
// K and V are kept in f32 whatever the constructor's name says.
import type * as A from '../ast.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, NONE, describe, type Val } from './values.ts';
import { concatTensors } from './builtins.ts';

const CONSTRUCTORS = new Set(['new', 'new_f16', 'new_f32']);

export function newKvCache(L: Lowerer, name: string, args: Val[], span: A.Span): Val {
  if (!CONSTRUCTORS.has(name)) throw new CompileError(`KVCache has no function '${name}' (it has new, new_f16, new_f32)`, span);
  const n = args[0];
  if (args.length !== 1 || n.t !== 'static' || typeof n.v !== 'number' || !Number.isInteger(n.v) || n.v < 1 || n.v > 4096) {
    throw new CompileError(`KVCache::${name}(layers) takes the number of layers, known at build time`, span);
  }
  const id = L.fresh('kv');
  const cache = { t: 'kvcache' as const, k: [] as string[], v: [] as string[] };
  for (let l = 0; l < n.v; l++) {
    // Names no program can write (they contain a space), declared empty.
    for (const [side, list] of [['k', cache.k], ['v', cache.v]] as const) {
      const slot = `${id} ${side}${l}`;
      L.declareGlobal(slot, NONE); // functions it is passed to see it too
      list.push(slot);
    }
  }
  return cache;
}

export function kvMethod(L: Lowerer, cache: Extract<Val, { t: 'kvcache' }>, method: string, args: Val[], span: A.Span): Val {
  const layer = (v: Val | undefined): number => {
    if (v?.t !== 'static' || typeof v.v !== 'number' || !Number.isInteger(v.v)) throw new CompileError(`KVCache.${method}: the layer must be a whole number known at build time, got ${v ? describe(v) : 'nothing'}`, span);
    if (v.v < 0 || v.v >= cache.k.length) throw new CompileError(`KVCache.${method}: layer ${v.v} is out of range for a cache of ${cache.k.length} layers`, span);
    return v.v;
  };
  const slot = (name: string): Val => {
    const v = L.lookup(name, span);
    if (v.t === 'none') throw new CompileError(`KVCache.${method}: layer ${name.split(' ')[1].slice(1)} is empty; set or append to it first`, span);
    return v;
  };
  const arity = (n: number) => {
    if (args.length !== n) throw new CompileError(`KVCache.${method} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, span);
  };
  switch (method) {
    case 'set':
    case 'append': {
      arity(3);
      const l = layer(args[0]);
      for (const [name, x] of [[cache.k[l], args[1]], [cache.v[l], args[2]]] as const) {
        const cur = L.lookup(name, span);
        L.assignName(name, method === 'set' || cur.t === 'none' ? x : concatTensors(L, cur, x, 0, span), span);
      }
      return NONE;
    }
    case 'get_k':
    case 'get_v':
      arity(1);
      return slot((method === 'get_k' ? cache.k : cache.v)[layer(args[0])]);
    case 'len': {
      const l = args.length ? layer(args[0]) : 0;
      return L.call('len', [slot(cache.k[l])], span);
    }
  }
  throw new CompileError(`KVCache has no method '${method}' (it has set, append, get_k, get_v, len)`, span);
}

