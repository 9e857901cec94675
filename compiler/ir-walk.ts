// Walking the host program: the one place that knows which statements hold which expressions and
// bodies. (Host expressions are at most a few hundred deep: the lowering keeps them so.)
import type { HostExpr, HostStmt } from './ir.ts';

/** The expressions a statement evaluates itself (not those of nested bodies). */
export function ownExprs(s: HostStmt): HostExpr[] {
  switch (s.k) {
    case 'let':
    case 'set':
      return [s.value];
    case 'print':
      return s.args;
    case 'if':
    case 'while':
      return [s.cond];
    case 'for':
      return [s.start, s.end];
    case 'panic':
      return [s.message];
    case 'run':
      return [...Object.values(s.dims), ...s.inputs];
    default:
      return [];
  }
}

/** Every statement in `stmts`, nested bodies included, parents first. */
export function forEachStmt(stmts: HostStmt[], visit: (s: HostStmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.k === 'if') forEachStmt(s.then, visit), forEachStmt(s.else, visit);
    else if (s.k === 'for' || s.k === 'while') forEachStmt(s.body, visit);
  }
}

/** Every expression in `e`, sub-expressions included, parents first. */
export function forEachSubExpr(e: HostExpr, visit: (e: HostExpr) => void): void {
  visit(e);
  if (e.k === 'op' || e.k === 'call') e.args.forEach((a) => forEachSubExpr(a, visit));
  else if (e.k === 'list') e.items.forEach((a) => forEachSubExpr(a, visit));
  else if (e.k === 'index') forEachSubExpr(e.target, visit), forEachSubExpr(e.index, visit);
}

/** Every expression in the statements, nested bodies and sub-expressions included. */
export function forEachHostExpr(stmts: HostStmt[], visit: (e: HostExpr) => void): void {
  forEachStmt(stmts, (s) => ownExprs(s).forEach((e) => forEachSubExpr(e, visit)));
}
