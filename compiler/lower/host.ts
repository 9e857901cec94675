// Host-program emission: blocks of host statements, and the rule that places graph runs.
//
// A graph runs lazily: its `run` statement is emitted just before the first host statement that
// reads one of its values (a sampled token compared with EOS, a printed element). Host statements
// that do not read it come before, in program order, so the graph sees their effects.
import type { HostStmt } from '../ir.ts';
import { forEachHostExpr } from '../ir-walk.ts';
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
  forEachHostExpr([stmt], (e) => e.k === 'out' && out.add(e.graph));
  return out;
}
