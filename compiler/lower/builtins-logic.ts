// Builtins of logic programming: entity types as values, and the fixpoint loop's rounds that
// compiler/lower/logic-rules.ts writes. An entity type's name is the list of its members, an
// entity's name is that name (Lowerer.lookup), so these take plain build-time values.
import { CompileError, stat } from './values.ts';
import { b, constant, whole, type Builtin } from './builtin-kit.ts';

function members(v: { t: string; v?: unknown }, span: Parameters<typeof constant>[3]): string[] {
  if (v.t === 'static' && Array.isArray(v.v) && v.v.every((m) => typeof m === 'string')) return v.v as string[];
  throw new CompileError('expected an entity type (its name)', span);
}

export const LOGIC_BUILTINS: Record<string, Builtin> = {
  // entity_dim(Person): how many entities the type has.
  entity_dim: b(1, 1, (_L, [t], span) => stat(members(t, span).length)),
  // entity_onehot(Person, alice): a vector over the type, 1 at the entity.
  entity_onehot: b(2, 2, (L, [t, e], span) => {
    const ms = members(t, span);
    const at = e.t === 'static' ? ms.indexOf(String(e.v)) : -1;
    if (at < 0) throw new CompileError(`${e.t === 'static' ? `'${String(e.v)}'` : 'this'} is not one of the entities {${ms.slice(0, 12).join(', ')}${ms.length > 12 ? ', ...' : ''}}`, span);
    return constant(L, [ms.length], ms.map((_, i) => (i === at ? 1 : 0)), span);
  }),
  // A fixpoint loop's round (./logic-fixpoint.ts): component and relation by number. Written by the
  // compiler; a program calling them gets an error.
  __logic_round: b(2, 2, (L, [at, i], span) => L.logic.evaluator.round(whole(at, 'component', span), whole(i, 'relation', span), span)),
  __logic_union: b(2, 2, (L, [at, i], span) => L.logic.evaluator.union(whole(at, 'component', span), whole(i, 'relation', span), span)),
  __logic_round_count: b(1, 1, (L, [at], span) => L.logic.evaluator.count(whole(at, 'component', span), span)),
};
