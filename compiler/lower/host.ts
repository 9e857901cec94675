// Host-program emission: blocks of host statements, and the rule that places graph runs.
//
// A graph runs lazily: its `run` statement is emitted just before the first host statement that
// reads one of its values (a sampled token compared with EOS, a printed element). Host statements
// that do not read it come before, in program order, so the graph sees their effects.
import type { HostExpr, HostStmt } from '../ir.ts';
import type { GraphBuilder } from './graph-builder.ts';

export class HostBlock {
  readonly stmts: HostStmt[] = [];
  graph?: GraphBuilder; // the graph this block is filling, if any
  readonly owned: GraphBuilder[] = []; // every graph opened in this block

  constructor(readonly parent?: HostBlock) {}

  emit(stmt: HostStmt): void {
    for (const g of graphsRead(stmt)) {
      const owner = this.owned.find((o) => o.id === g);
      if (owner && !owner.emitted) this.emitRun(owner);
    }
    this.stmts.push(stmt);
  }

  emitRun(g: GraphBuilder): void {
    // A run reads the graphs its inputs come from, so emit is used for it too.
    g.emitted = true;
    this.emit({ k: 'run', graph: g.id, dims: g.hostDims(), inputs: g.inputExprs });
  }
}

/** Ids of the graphs whose outputs a statement (or anything nested in it) reads. */
export function graphsRead(stmt: HostStmt): Set<number> {
  const out = new Set<number>();
  const expr = (e: HostExpr): void => {
    switch (e.k) {
      case 'out':
        out.add(e.graph);
        break;
      case 'op':
      case 'call':
        e.args.forEach(expr);
        break;
      case 'list':
        e.items.forEach(expr);
        break;
      case 'index':
        expr(e.target);
        expr(e.index);
        break;
    }
  };
  const walk = (s: HostStmt): void => {
    switch (s.k) {
      case 'let':
      case 'set':
        expr(s.value);
        break;
      case 'print':
        s.args.forEach(expr);
        break;
      case 'if':
        expr(s.cond);
        s.then.forEach(walk);
        s.else.forEach(walk);
        break;
      case 'for':
        expr(s.start);
        expr(s.end);
        s.body.forEach(walk);
        break;
      case 'while':
        expr(s.cond);
        s.body.forEach(walk);
        break;
      case 'panic':
        expr(s.message);
        break;
      case 'run':
        Object.values(s.dims).forEach(expr);
        s.inputs.forEach(expr);
        break;
    }
  };
  walk(stmt);
  return out;
}
