// Host builtins of the original for lists, strings and token ids: host calls (runtime/host.ts),
// folded when their arguments are known at build time.
import type * as A from '../ast.ts';
import type { HostExpr, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, NONE, stat, type Val } from './values.ts';
import { b, host, whole, type Builtin, type Lower } from './builtin-kit.ts';
import { stringLength, substring } from '../../runtime/host.ts';
import { TlcError } from '../../runtime/errors.ts';

/** A host call whose fold may fail with the runtime's own error: a build error at the call then. */
function folded(fn: string, fold: (...xs: HostValue[]) => HostValue): Lower {
  return (L, args, span) => {
    try {
      return host(fn, fold)(L, args, span);
    } catch (e) {
      if (e instanceof TlcError) throw new CompileError(e.message, span);
      throw e;
    }
  };
}

const tokenizerArg = (L: Lowerer, v: Val, span: A.Span): HostExpr => (v.t === 'model' ? { k: 'call', fn: 'model_tokenizer', args: [] } : L.hostExpr(v, span));

/** detokenize_single(tok, id, skip_special): the text of one token id, decoded on its own. */
const detokenizeSingle: Lower = (L, [tok, id, skip], span) => ({
  t: 'host',
  e: { k: 'call', fn: 'detokenize', args: [tokenizerArg(L, tok, span), { k: 'list', items: [L.hostExpr(id, span)] }, L.hostExpr(skip, span)] },
});

/** detokenize_incremental(tok, ids): as the original, the text of all the ids (special tokens kept). */
const detokenizeIncremental: Lower = (L, [tok, ids], span) => ({
  t: 'host',
  e: { k: 'call', fn: 'detokenize', args: [tokenizerArg(L, tok, span), L.hostExpr(ids, span), { k: 'const', value: false }] },
});

export const HOST_BUILTINS: Record<string, Builtin> = {
  // get(xs, i): xs[i], as indexing does.
  get: b(2, 2, (L, [xs, i], span) => L.call('__index', [xs, i], span)),
  string_length: b(1, 1, folded('string_length', (s) => stringLength(s))),
  string_substring: b(3, 3, folded('string_substring', (s, start, n) => substring(s, start, n))),
  detokenize_single: b(3, 3, detokenizeSingle),
  detokenize_incremental: b(2, 2, detokenizeIncremental),
  int_to_tokenids: b(1, 1, (L, [id], span) => (id.t === 'static' ? stat([id.v]) : { t: 'host', e: { k: 'list', items: [L.hostExpr(id, span)] } })),
  // range_i(n), range_i(start, end): the integers as a list (known at build time).
  range_i: b(1, 2, (L, [a, c], span) => {
    const [start, end] = c ? [whole(a, 'range_i: start', span), whole(c, 'range_i: end', span)] : [0, whole(a, 'range_i: n', span)];
    return stat(Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i));
  }),
  // Memory management of the original's Metal backend: tlc pools GPU buffers itself.
  cleanup: b(0, 0, () => NONE),
};
