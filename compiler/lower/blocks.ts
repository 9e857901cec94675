// `test NAME { ... }` and `bench NAME { ... }` blocks: which a program has, and the program that runs
// one of them as its `main`. `tlc test` and `tlc bench FILE.tl` build each block as a program of its
// own, as the original runs each block after the file's declarations: functions, declarations and
// top-level statements (globals) stay; `main` and the other blocks go.
import type * as A from '../ast.ts';
import { TlcError } from '../../runtime/errors.ts';

export type BlockKind = 'test' | 'bench';

/**
 * What a build runs instead of main: the `index`th top-level block of its kind (names may repeat);
 * or, for the `index`th bench written inside main, main up to that bench, with its body or without
 * (`tlc bench` times both and reports the difference).
 */
export type Entry = { kind: BlockKind; index: number } | { kind: 'main-bench'; index: number; withBody: boolean };

export type NamedBlock = A.TestBlock | A.BenchBlock;

const KIND = { test: 'TestBlock', bench: 'BenchBlock' } as const;

/** The program's top-level blocks of that kind, in source order. */
export function namedBlocks(program: A.Program, kind: BlockKind): NamedBlock[] {
  return program.items.filter((i): i is NamedBlock => i.kind === KIND[kind]);
}

/** Benches written as statements of main itself (`bench decode { ... }` in main), in source order. */
export function mainBenches(program: A.Program): A.BenchBlock[] {
  const main = program.items.find((i): i is A.MainBlock => i.kind === 'MainBlock');
  return main ? main.body.stmts.filter((s): s is A.BenchBlock => s.kind === 'BenchBlock') : [];
}

/** The program with the entry's block as its main. */
export function withEntry(program: A.Program, entry: Entry): A.Program {
  const kept = program.items.filter((i) => i.kind !== 'MainBlock' && i.kind !== 'TestBlock' && i.kind !== 'BenchBlock');
  const main = (body: A.Block, span: A.Span): A.Program => ({ ...program, items: [...kept, { kind: 'MainBlock', body, span }] });
  if (entry.kind === 'main-bench') {
    const bench = mainBenches(program)[entry.index];
    if (!bench) throw new TlcError(`${program.file}: its main has no bench block number ${entry.index + 1}`);
    const body = program.items.find((i): i is A.MainBlock => i.kind === 'MainBlock')!.body;
    const before = body.stmts.slice(0, body.stmts.indexOf(bench));
    const timed: A.Stmt[] = entry.withBody ? [{ kind: 'BlockStmt', body: keepingResults(bench.body), span: bench.span }] : [];
    return main({ ...body, stmts: [...before, ...timed], tail: undefined }, bench.span);
  }
  const block = namedBlocks(program, entry.kind)[entry.index];
  if (!block) throw new TlcError(`${program.file}: it has no ${entry.kind} block number ${entry.index + 1}`);
  return main(entry.kind === 'bench' ? keepingResults(block.body) : block.body, block.span);
}

/**
 * A bench body whose results are used. Device work runs only when something reads it, so a bench
 * like `let p = softmax(x)` would time nothing: `__bench_keep(p, ...)` at its end reads one element
 * of each tensor its top-level statements bind (and of its tail), which makes their graphs run.
 */
function keepingResults(body: A.Block): A.Block {
  const names = new Set<string>();
  for (const s of body.stmts) {
    if (s.kind === 'Let') names.add(s.name);
    else if (s.kind === 'LetTuple') s.names.forEach((n) => names.add(n));
    else if (s.kind === 'Assign' && s.target.kind === 'Ident') names.add(s.target.name);
  }
  const at = body.span;
  const args: A.Expr[] = [...names].map((name): A.Expr => ({ kind: 'Ident', name, span: at }));
  if (body.tail) args.push(body.tail);
  const keep: A.ExprStmt = { kind: 'ExprStmt', expr: { kind: 'Call', callee: { kind: 'Ident', name: '__bench_keep', span: at }, args, span: at }, span: at };
  return { ...body, stmts: [...body.stmts, keep], tail: undefined };
}
