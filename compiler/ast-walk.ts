// Questions about the syntax tree: does a loop leave early, which names does a block assign or
// mention, does it return. Expressions can nest thousands deep (a long sum), so walks over them use
// an explicit stack; statements nest at most MAX_NESTING deep (compiler/parse-fast.ts).
import type * as A from './ast.ts';

/** Does a block return (anywhere in it, loops included)? */
export function containsReturn(b: A.Block): boolean {
  let found = false;
  forEachNode(b.stmts, (n) => {
    if (n.kind === 'Return') found = true;
    return !found && n.kind !== 'FnDecl';
  });
  return found;
}

/** Does a loop body leave early (break, continue, return)? Nested loops own their break/continue. */
export function containsExit(b: A.Block): boolean {
  let found = false;
  const visit = (s: A.Stmt, inLoop: boolean): void => {
    if (found) return;
    if (s.kind === 'Return' || (!inLoop && (s.kind === 'Break' || s.kind === 'Continue'))) found = true;
    else if (s.kind === 'If') {
      s.then.stmts.forEach((x) => visit(x, inLoop));
      if (s.else) (s.else.kind === 'If' ? visit(s.else, inLoop) : s.else.stmts.forEach((x) => visit(x, inLoop)));
    } else if (s.kind === 'For' || s.kind === 'While' || s.kind === 'Loop') s.body.stmts.forEach((x) => visit(x, true));
    else if (s.kind === 'BlockStmt') s.body.stmts.forEach((x) => visit(x, inLoop));
  };
  b.stmts.forEach((s) => visit(s, false));
  return found;
}

/**
 * Names a block assigns (nested blocks included), each with the expressions assigned to it.
 * `changes` names what else a statement or a block's last expression changes (a fact: its relation).
 */
export function assignedNames(b: A.Block | A.If, out: Map<string, A.Expr[]>, changes?: (e: A.Expr) => string | undefined): void {
  const add = (name: string, e: A.Expr) => out.set(name, [...(out.get(name) ?? []), e]);
  const other = (e: A.Expr | undefined) => {
    const name = e && changes?.(e);
    if (name) add(name, e!);
  };
  const block = (b: A.Block) => (b.stmts.forEach(visit), other(b.tail));
  const visit = (s: A.Stmt): void => {
    if (s.kind === 'Assign' && s.target.kind === 'Ident') add(s.target.name, s.value);
    else if (s.kind === 'Assign' && s.target.kind === 'Member') add(rootName(s.target), s.value); // p.x = v changes p
    else if (s.kind === 'ExprStmt' && s.expr.kind === 'MethodCall' && s.expr.target.kind === 'Ident' && MUTATING_METHODS.has(s.expr.name)) add(s.expr.target.name, s.expr);
    else if (s.kind === 'ExprStmt') other(s.expr);
    else if (s.kind === 'If') assignedNames(s, out, changes);
    else if (s.kind === 'For' || s.kind === 'While' || s.kind === 'Loop' || s.kind === 'With' || s.kind === 'BlockStmt') block(s.body);
  };
  if (b.kind === 'If') {
    block(b.then);
    if (b.else) assignedNames(b.else, out, changes);
  } else block(b);
}

/** The variable a field assignment changes: `p` in `p.a.b = v` ('' when it is not a variable's field). */
function rootName(e: A.Expr): string {
  while (e.kind === 'Member') e = e.target;
  return e.kind === 'Ident' ? e.name : '';
}

/** Every identifier a piece of the tree mentions. */
export function mentionedNames(nodes: unknown[]): Set<string> {
  const out = new Set<string>();
  forEachNode(nodes, (n) => {
    if (n.kind === 'Ident' && typeof n.name === 'string') out.add(n.name);
    return true;
  });
  return out;
}

/**
 * Visits every node (an object with a `kind`) under `root`, parents first, with an explicit stack:
 * a 20,000-term sum is a tree that deep. `visit` returns false to skip a node's children.
 */
export function forEachNode(root: unknown, visit: (n: { kind?: string; name?: unknown }) => boolean): void {
  const stack: unknown[] = [root];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    const o = n as { kind?: string; name?: unknown };
    if (o.kind !== undefined && !visit(o)) continue;
    for (const [k, v] of Object.entries(n)) if (k !== 'span' && v && typeof v === 'object') stack.push(v);
  }
}

/** Methods that change the object they are called on (a KVCache). */
const MUTATING_METHODS = new Set(['set', 'append']);

export function endsInReturn(b: A.Block): boolean {
  const last = b.stmts[b.stmts.length - 1];
  return !b.tail && last?.kind === 'Return';
}
