// Queries: `Parent(alice, X)?`, `Ancestor(X, dave)? where X != carol`. The answer is the 0/1 tensor
// over the atom's variables of the atom and its conditions, made on the device; only that tensor
// (one number for a ground query) is read back, and the host prints it as the original does
// (runtime/logic-answers.ts).
import type * as A from '../ast.ts';
import type { HostExpr } from '../ir.ts';
import { CompileError, type Val } from './values.ts';
import { atomName, type Logic } from './logic.ts';
import type { AtomValue, Literal } from './logic-rules.ts';

/** The answer tensor of an atom and conditions over the atom's named variables, in order of appearance. */
export function answer(logic: Logic, atom: A.Call, where: A.Expr[]): { val: Val; vars: string[]; domains: string[] } {
  const lits: Literal[] = [atom, ...where].map((e) => logic.rules.literal(e));
  const first = lits[0];
  if (first.kind !== 'atom' || first.negated) throw new CompileError('a query asks about an atom: Name(X, alice)?', atom.span);
  const vars: string[] = [];
  const domains: string[] = [];
  first.terms.forEach((t, k) => {
    if ('v' in t && t.v !== '_' && !vars.includes(t.v)) (vars.push(t.v), domains.push(first.rel.types[k]));
  });
  const now: AtomValue = (lit) => ({ val: logic.value(lit.rel.name, lit.span), fixed: true });
  return { val: logic.rules.product(lits, vars, now, atom.span), vars, domains };
}

/** `atom? where ...` as a statement: prints `Query: ...` and its solutions. */
export function lowerQuery(logic: Logic, q: A.Query): void {
  const L = logic.L;
  if (!logic.has(atomName(q.atom))) throw new CompileError(`unknown relation '${atomName(q.atom)}'`, q.atom.callee.span);
  const { val, vars, domains } = answer(logic, q.atom, q.where);
  const text = `${atomName(q.atom)}(${q.atom.args.map((a) => termText(a)).join(', ')})`;
  L.emit({ k: 'print', args: [{ k: 'const', value: `Query: ${text}` }], end: '\n' });
  const members: HostExpr = { k: 'const', value: domains.map((d) => logic.domain(d).members) };
  L.emit({ k: 'print', args: [{ k: 'call', fn: 'logic_answers', args: [L.hostExpr(val, q.span), { k: 'const', value: vars }, members] }], end: '' });
}

function termText(e: A.Expr): string {
  if (e.kind === 'Ident') return e.name;
  if (e.kind === 'Lit') return String(e.value);
  return '?';
}
