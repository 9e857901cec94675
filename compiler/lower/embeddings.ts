// `embedding E { entities: {alice, bob} dimension: 16 init: xavier }` (and `relation_embedding R
// { relations: {...} ... }`): a table of one row per member, (members, dimension), and its lookup
// `E[alice]`, the member's row, as the original defines them.
//
// The table is a tensor declared where the declaration is, learnable as a `learnable` tensor
// declaration is (./tensor-decl.ts): a `learn` block trains it. Its values are made while building,
// as the original's init methods make them: random uniform in [-0.1, 0.1), xavier uniform in
// ±sqrt(6 / (members + dimension)), he normal with standard deviation sqrt(2 / members), zeros, ones
// (random when none is given). The random ones come from tlc's seeded generator (runtime/rng.ts),
// seeded by the table's name, so every build of a program starts from the same values (the
// original draws new ones every run).
//
// `E[x]`: x a member's name (or a string), or a variable holding one, or an integer row. A row is
// picked by multiplying by a one-hot vector (einsum), so the gradient reaches the table; a row given
// by an integer known only at run time is a slice. A name that is no member is a build error.
import type * as A from '../ast.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, tensorType, type Val } from './values.ts';
import { constant, node } from './builtin-kit.ts';
import { tensorOf } from './tensors.ts';
import { sliceTensor } from './slicing.ts';
import { numType } from './numbers.ts';
import { Rng } from '../../runtime/rng.ts';

interface Table {
  decl: A.EmbeddingDecl;
  rows: Map<string, number>; // member -> row
  count: number; // rows: the members, at least 1 (as the original)
}

const tables = new WeakMap<Lowerer, Map<string, Table>>();

function tablesOf(L: Lowerer): Map<string, Table> {
  let m = tables.get(L);
  if (!m) tables.set(L, (m = new Map()));
  return m;
}

const INITS = ['random', 'xavier', 'he', 'zeros', 'ones'];

export function declareEmbedding(L: Lowerer, d: A.EmbeddingDecl): void {
  const members = membersOf(L, d);
  const rows = new Map<string, number>();
  for (const m of members) {
    if (rows.has(m)) throw new CompileError(`'${m}' is listed twice in the embedding '${d.name}'`, d.span);
    rows.set(m, rows.size);
  }
  if (!Number.isInteger(d.dimension) || d.dimension < 1) throw new CompileError(`the embedding '${d.name}' needs a dimension of at least 1, got ${d.dimension}`, d.span);
  const init = d.init ?? 'random';
  if (!INITS.includes(init)) throw new CompileError(`the embedding '${d.name}': unknown init '${init}' (tlc has ${INITS.join(', ')})`, d.span);
  const count = Math.max(rows.size, 1);
  const values = initialValues(init, count, d.dimension, d.name);
  const table = constant(L, [count, d.dimension], values, d.span);
  const type: A.TensorType = { kind: 'TensorType', dtype: 'float32', dims: [count, d.dimension], learnable: 'learnable', span: d.span };
  L.learnable.set(d.name, { kind: 'TensorDecl', name: d.name, type, span: d.span });
  L.declare(d.name, table);
  tablesOf(L).set(d.name, { decl: d, rows, count });
}

/**
 * The members, in order: an explicit list. A set given by name (`auto`, `all`, an entity type)
 * needs the members the program's entity and relation declarations give it.
 */
function membersOf(L: Lowerer, d: A.EmbeddingDecl): string[] {
  if (Array.isArray(d.members)) return d.members;
  // `entities: Person`: the entity type's members; `relations: all`: every relation; `auto`: none (as the original).
  if (d.members === 'auto') return [];
  if (d.of === 'relations' && d.members === 'all') return [...L.logic.relations.keys()];
  const domain = L.logic.domains.get(d.members);
  if (d.of === 'entities' && domain) return domain.members;
  throw new CompileError(`the embedding '${d.name}' takes its ${d.of} from '${d.members}', which is not ${d.of === 'entities' ? 'an entity type' : "'all'"}; list them instead: ${d.of}: {a, b}`, d.span);
}

/** The original's init methods, row-major (count, dim). */
function initialValues(init: string, count: number, dim: number, name: string): number[] {
  const n = count * dim;
  if (init === 'zeros' || init === 'ones') return new Array(n).fill(init === 'ones' ? 1 : 0);
  const rng = new Rng(hash(name));
  if (init === 'he') {
    const std = Math.sqrt(2 / count);
    return Array.from({ length: n }, () => rng.normal() * std);
  }
  const limit = init === 'xavier' ? Math.sqrt(6 / (count + dim)) : 0.1;
  return Array.from({ length: n }, () => rng.uniform(-limit, limit));
}

/** FNV-1a of the name: a seed per table. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * `E[x]` where E names an embedding table in scope: the row, shape (dimension). Undefined for any
 * other index (a tensor's own indexing and slicing then apply: `E[0:2]`, `E[i, j]`).
 */
export function embeddingRow(L: Lowerer, e: A.Index): Val | undefined {
  if (e.target.kind !== 'Ident' || e.indices.length !== 1) return undefined;
  const table = tablesOf(L).get(e.target.name);
  const ix = e.indices[0];
  if (!table || ix.kind === 'Slice') return undefined;
  const name = e.target.name;
  const current = L.lookup(name, e.target.span);
  const shape = tensorType(current)?.shape;
  if (!shape || shape.length !== 2 || shape[0] !== table.count || shape[1] !== table.decl.dimension) return undefined; // a local of that name
  let key: Val;
  if (ix.kind === 'Lit' && (typeof ix.value === 'string' || typeof ix.value === 'number')) key = stat(ix.value);
  else if (ix.kind === 'Ident') {
    const bound = lookupOrUndefined(L, ix.name, ix.span);
    if (bound === undefined) key = stat(ix.name); // a member's name, written as it is
    else if (isKey(bound)) key = bound;
    else throw new CompileError(`'${ix.name}' holds ${describe(bound)}: an embedding is indexed by a member's name, a string or an integer row`, ix.span);
  } else return undefined;

  if (key.t === 'static' && typeof key.v === 'string') {
    const row = table.rows.get(key.v);
    if (row === undefined) throw new CompileError(`'${key.v}' is not in the embedding '${name}' (${describeMembers(table)})`, ix.span);
    return pick(L, current, table, row, e.span);
  }
  if (key.t === 'static') {
    const row = key.v as number;
    if (!Number.isInteger(row) || row < 0 || row >= table.count) throw new CompileError(`row ${row} is out of range for the embedding '${name}' (0..${table.count - 1})`, ix.span);
    return pick(L, current, table, row, e.span);
  }
  // An integer known at run time: a slice (a string known only then cannot pick a row yet).
  if (numType(L, key) !== 'int') throw new CompileError(`'${(ix as A.Ident).name}' is known only at run time: an embedding's row is picked by a member's name known at build time, or an integer`, ix.span);
  return sliceTensor(L, current, [{ at: key }], e.span);
}

function isKey(v: Val): boolean {
  if (v.t === 'static') return typeof v.v === 'string' || (typeof v.v === 'number' && Number.isInteger(v.v));
  return v.t === 'host' || v.t === 'sym';
}

function lookupOrUndefined(L: Lowerer, name: string, span: A.Span): Val | undefined {
  try {
    const v = L.lookup(name, span);
    return v.t === 'fn' ? undefined : v;
  } catch (err) {
    if (err instanceof CompileError) return undefined;
    throw err;
  }
}

/** Row `row` of the table: a one-hot vector times the table, so a learn block's gradient reaches it. */
function pick(L: Lowerer, tableVal: Val, table: Table, row: number, span: A.Span): Val {
  const oneHot = new Array(table.count).fill(0);
  oneHot[row] = 1;
  const hot = tensorOf(L, constant(L, [table.count], oneHot, span), span);
  return node(L, 'einsum', [hot, tensorOf(L, tableVal, span)], { eq: 'n,nd->d' }, span);
}

function describeMembers(t: Table): string {
  const names = [...t.rows.keys()];
  if (names.length === 0) return 'it has no members';
  const shown = names.slice(0, 8).join(', ');
  return `its members are ${shown}${names.length > 8 ? `, and ${names.length - 8} more` : ''}`;
}
