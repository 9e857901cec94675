// Structs and impl blocks, resolved at build time like everything else the compiler can know.
//
// A struct value is a record of values: each field is whatever a `let` could hold (a build-time
// number, a run-time host value, a tensor on the device, another struct). Structs are values, as in
// the original (it copies them): `q = p` then `p.x = 1.0` leaves q as it was, so changing a field
// makes a new record. Methods and associated functions inline like functions, a method with `self`
// bound to the record. `impl Drop for T { fn drop(self) }` runs, as the original's tests expect, for
// each struct variable of type T that main or a function declares (not in nested blocks) when main
// or the call ends, latest first.
import type * as A from '../ast.ts';
import type { HostExpr } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, type Val } from './values.ts';

type Struct = Extract<Val, { t: 'struct' }>;

/** The program's struct declarations and their impl blocks. */
export class StructTable {
  private readonly decls = new Map<string, A.StructDecl>();
  private readonly methods = new Map<string, Map<string, A.FnDecl>>(); // struct -> name -> method
  private readonly drops = new Map<string, A.FnDecl>();

  /** Registers every struct, then every impl (an impl may come before its struct). */
  declare(items: A.Item[]): void {
    for (const item of items) {
      if (item.kind !== 'StructDecl') continue;
      if (this.decls.has(item.name)) throw new CompileError(`struct '${item.name}' is defined twice`, item.span);
      this.decls.set(item.name, item);
      this.methods.set(item.name, new Map());
    }
    for (const item of items) {
      if (item.kind !== 'ImplBlock') continue;
      const name = item.target.name;
      const own = this.methods.get(name);
      if (!own) throw new CompileError(`impl for '${name}', which is not a struct of this program`, item.target.span);
      for (const m of item.methods) {
        if (item.trait === 'Drop' && m.name === 'drop') {
          this.drops.set(name, m);
          continue;
        }
        if (own.has(m.name)) throw new CompileError(`${name}::${m.name} is defined twice`, m.span);
        own.set(m.name, m);
      }
    }
  }

  has(name: string): boolean {
    return this.decls.has(name);
  }

  /** `Point { x: 1.0, y: 2.0 }`: every declared field once, in declaration order. */
  literal(L: Lowerer, e: A.StructLit): Val {
    const decl = this.decls.get(e.type.name);
    if (!decl) throw new CompileError(`unknown struct '${e.type.name}'`, e.type.span);
    const given = new Map<string, Val>();
    for (const f of e.fields) {
      if (!decl.fields.some((d) => d.name === f.name)) throw new CompileError(`struct ${decl.name} has no field '${f.name}'${fieldList(decl)}`, f.span);
      if (given.has(f.name)) throw new CompileError(`field '${f.name}' is given twice`, f.span);
      given.set(f.name, fieldValue(L, L.expr(f.value), f.name)); // in source order: their side effects too
    }
    const missing = decl.fields.filter((d) => !given.has(d.name)).map((d) => `'${d.name}'`);
    if (missing.length) throw new CompileError(`${decl.name} { ... } needs a value for ${missing.join(', ')}`, e.span);
    return { t: 'struct', name: decl.name, fields: new Map(decl.fields.map((d) => [d.name, given.get(d.name)!])) };
  }

  /** `p.norm(a)`: the method inlined with self = p. */
  callMethod(L: Lowerer, self: Struct, name: string, args: Val[], span: A.Span): Val {
    const fn = this.methods.get(self.name)?.get(name);
    if (!fn) throw new CompileError(`struct ${self.name} has no method '${name}'${methodList(this.methods.get(self.name))}`, span);
    if (fn.params[0]?.name !== 'self') throw new CompileError(`${self.name}::${name} takes no self: call it as ${self.name}::${name}(...)`, span);
    const n = fn.params.length - 1;
    if (args.length !== n) throw new CompileError(`${self.name}.${name} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, span);
    return L.inlineVals(fn, [self, ...args], span, `${self.name}.${name}`);
  }

  /** `Point::new(3.0, 4.0)`, and `Point::norm(p)` for a method. */
  callAssociated(L: Lowerer, struct: string, name: string, args: Val[], span: A.Span): Val {
    const fn = this.methods.get(struct)?.get(name);
    if (!fn) throw new CompileError(`struct ${struct} has no function '${name}'${methodList(this.methods.get(struct))}`, span);
    return L.inlineVals(fn, args, span, `${struct}::${name}`);
  }

  /**
   * At the end of main or of a function call: `drop(self)` for each of its struct variables whose
   * type implements Drop, latest first, except the value the call returns (it lives on).
   */
  dropLocals(L: Lowerer, locals: [string, Val][], result: Val, span: A.Span): void {
    for (const [, v] of [...locals].reverse()) {
      if (v.t !== 'struct' || v === result) continue;
      const drop = this.drops.get(v.name);
      if (drop) L.inlineVals(drop, [v], span, `${v.name}::drop`);
    }
  }
}

/** A field's value: a host expression gets a variable now, so it is evaluated once, here. */
function fieldValue(L: Lowerer, v: Val, name: string): Val {
  if (v.t === 'host' && v.e.k !== 'var' && v.e.k !== 'const') return { t: 'host', e: L.snapshot(v.e, name) };
  return v;
}

/** `s.name`. */
export function fieldOf(s: Struct, name: string, span: A.Span): Val {
  const v = s.fields.get(name);
  if (!v) throw new CompileError(`struct ${s.name} has no field '${name}' (it has ${[...s.fields.keys()].join(', ')})`, span);
  return v;
}

/** `a.b.c` as an assignment target: the variable `a` and the path b, c. */
export function fieldPath(target: A.Member): { root: A.Ident; path: A.Member[] } {
  const path: A.Member[] = [];
  let e: A.Expr = target;
  for (; e.kind === 'Member'; e = e.target) path.unshift(e);
  if (e.kind !== 'Ident') throw new CompileError("only a variable's fields can be assigned (p.x = ..., p.a.b = ...)", target.span);
  return { root: e, path };
}

/** The field at `path` inside `v`. */
export function fieldAt(v: Val, path: A.Member[]): Val {
  for (const m of path) {
    if (v.t !== 'struct') throw new CompileError(`${describe(v)} has no fields`, m.span);
    v = fieldOf(v, m.name, m.span);
  }
  return v;
}

/** `v` with the field at `path` replaced by `val`: new records along the path, the rest shared. */
export function withField(L: Lowerer, v: Val, path: A.Member[], val: Val): Val {
  const [m, ...rest] = path;
  if (v.t !== 'struct') throw new CompileError(`${describe(v)} has no fields`, m.span);
  const next = rest.length ? withField(L, fieldOf(v, m.name, m.span), rest, val) : fieldValue(L, val, m.name);
  fieldOf(v, m.name, m.span); // an unknown field is an error, not a new one
  return { ...v, fields: new Map([...v.fields].map(([k, x]) => [k, k === m.name ? next : x])) };
}

/**
 * Before run-time control flow that assigns to a struct variable or its fields: each field that
 * holds a number, a list or a run-time value moves into a host variable of its own (`p_x`), so the
 * loop or if can set it. Tensor fields stay (number lists too when the assignments do arithmetic:
 * that is tensor arithmetic); a run-time change to one is refused where it happens.
 */
export function hostFields(L: Lowerer, s: Struct, base: string, arithmetic: boolean): Struct {
  const fields = new Map<string, Val>();
  for (const [name, v] of s.fields) {
    const varName = `${base}_${name}`;
    if (v.t === 'struct') fields.set(name, hostFields(L, v, varName, arithmetic));
    else if (v.t === 'host' && v.e.k === 'var') fields.set(name, v);
    else if (arithmetic && isNumberList(v)) fields.set(name, v); // tensor arithmetic: stays, like a tensor
    else if (v.t === 'static' || v.t === 'sym' || v.t === 'host' || v.t === 'list') {
      const hostName = L.fresh(varName);
      L.emit({ k: 'let', name: hostName, value: L.hostExpr(v) });
      fields.set(name, { t: 'host', e: { k: 'var', name: hostName } });
    } else fields.set(name, v);
  }
  return { ...s, fields };
}

/**
 * `p = Point { ... }` where every field of p lives in a host variable (p changes in run-time control
 * flow): each field is set. False when p is not like that (the caller refuses or rebinds).
 */
export function assignHostFields(L: Lowerer, cur: Struct, val: Val, span: A.Span): boolean {
  const sets: { name: string; value: HostExpr }[] = [];
  const collect = (c: Val, v: Val): boolean => {
    if (c.t === 'host' && c.e.k === 'var') return (sets.push({ name: c.e.name, value: L.hostExpr(v, span) }), true);
    if (c.t !== 'struct') return false;
    if (v.t !== 'struct' || v.name !== c.name) throw new CompileError(`this variable holds a ${c.name} struct, and is given ${describe(v)}`, span);
    return [...c.fields].every(([k, x]) => collect(x, v.fields.get(k)!));
  };
  if (!collect(cur, val)) return false;
  // Every new value is read before any field is set: `p = Point { x: p.y, y: p.x }` swaps.
  const values = sets.length > 1 ? sets.map((s) => L.snapshot(s.value, s.name)) : sets.map((s) => s.value);
  sets.forEach((s, i) => L.emit({ k: 'set', name: s.name, value: values[i] }));
  return true;
}

function fieldList(decl: A.StructDecl): string {
  return decl.fields.length ? ` (it has ${decl.fields.map((f) => f.name).join(', ')})` : '';
}

function methodList(methods: Map<string, A.FnDecl> | undefined): string {
  return methods?.size ? ` (it has ${[...methods.keys()].join(', ')})` : '';
}

function isNumberList(v: Val): boolean {
  return v.t === 'static' && Array.isArray(v.v) && v.v.length > 0 && v.v.flat(8).every((x) => typeof x === 'number');
}
