// A readable text form of the IR, for `tlc ir`: the host program as indented pseudo-code, then
// each device graph, one line per node, with its inputs, outputs and a count of its ops.
import type { Graph, HostExpr, HostStmt, HostValue, IR, Node } from './ir.ts';

export function printIR(ir: IR): string {
  const names = new Map(ir.graphs.map((g) => [g.id, g.name]));
  const types = new Map(ir.weights.map((w) => [w.name, w.type]));
  const lines = ['host {', ...hostLines(ir.host, 1, names, ir.graphs), '}'];
  for (const g of ir.graphs) lines.push('', ...graphLines(g, types));
  if (ir.weights.length) lines.push('', `weights: ${ir.weights.length} (${countSummary(ir.weights.map((w) => w.type))})`);
  return lines.join('\n') + '\n';
}

// -----------------------------------------------------------------------------------------------
// Host program

type Names = Map<number, string>;

function hostLines(stmts: HostStmt[], depth: number, names: Names, graphs: Graph[]): string[] {
  const pad = '  '.repeat(depth);
  const x = (e: HostExpr) => expr(e, names);
  const body = (ss: HostStmt[]) => hostLines(ss, depth + 1, names, graphs);
  const out: string[] = [];
  for (const s of stmts) {
    switch (s.k) {
      case 'let':
        out.push(`${pad}let ${s.name} = ${x(s.value)}`);
        break;
      case 'set':
        out.push(`${pad}${s.name} = ${x(s.value)}`);
        break;
      case 'print': {
        const args = s.args.map(x).join(', ');
        const call = s.end === '\n' ? `print(${args})` : s.end === '' ? `write(${args})` : `print(${args}; end=${JSON.stringify(s.end)})`;
        out.push(pad + call);
        break;
      }
      case 'if': {
        // `if c { break }` stays on one line.
        const jump = s.then.length === 1 && (s.then[0].k === 'break' || s.then[0].k === 'continue') && s.else.length === 0;
        if (jump) {
          out.push(`${pad}if ${x(s.cond)} { ${s.then[0].k} }`);
          break;
        }
        out.push(`${pad}if ${x(s.cond)} {`, ...body(s.then));
        if (s.else.length) out.push(`${pad}} else {`, ...body(s.else));
        out.push(`${pad}}`);
        break;
      }
      case 'for':
        out.push(`${pad}for ${s.var} in ${x(s.start)}..${x(s.end)} {`, ...body(s.body), `${pad}}`);
        break;
      case 'while':
        out.push(`${pad}while ${x(s.cond)} {`, ...body(s.body), `${pad}}`);
        break;
      case 'break':
      case 'continue':
        out.push(pad + s.k);
        break;
      case 'panic':
        out.push(`${pad}panic(${x(s.message)})  @ ${s.at}`);
        break;
      case 'run': {
        const dims = Object.entries(s.dims).map(([d, e]) => `${d} = ${x(e)}`).join(', ');
        const kinds = graphs.find((g) => g.id === s.graph)?.inputs;
        const inputs = s.inputs.map((e, i) => `${kinds?.[i]?.kind ?? 'in'}=${x(e)}`).join(' ');
        out.push(`${pad}run ${graphName(s.graph, names)}(${dims})${inputs ? ' ' + inputs : ''}`);
        break;
      }
    }
  }
  return out;
}

function graphName(id: number, names: Names): string {
  return names.get(id) ?? `graph${id}`;
}

// Binding strength of the infix operators; a child that binds less loosely than its parent needs parentheses.
const PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '⊙': 6, '/': 6, '%': 6, '**': 7,
};
const PREFIX = 8;

function expr(e: HostExpr, names: Names, parent = 0, parensOnTie = false): string {
  switch (e.k) {
    case 'const':
      return value(e.value);
    case 'var':
      return e.name;
    case 'arg':
      return `arg(${e.name}, ${value(e.default)})`;
    case 'op': {
      const [a, b] = e.args;
      if (e.args.length === 1) {
        if (e.op === 'neg' || e.op === '!') return `${e.op === 'neg' ? '-' : '!'}${expr(a, names, PREFIX)}`;
        return `${e.op}(${expr(a, names)})`;
      }
      const p = PRECEDENCE[e.op] ?? 0;
      // a - (b - c) but (a - b) - c prints as a - b - c; ** groups the other way.
      const rightAssoc = e.op === '**';
      const s = `${expr(a, names, p, rightAssoc)} ${e.op} ${expr(b, names, p, !rightAssoc)}`;
      return p < parent || (p === parent && parensOnTie) ? `(${s})` : s;
    }
    case 'call':
      return `${e.fn}(${e.args.map((x) => expr(x, names)).join(', ')})`;
    case 'list':
      return `[${e.items.map((x) => expr(x, names)).join(', ')}]`;
    case 'index':
      return `${expr(e.target, names, PREFIX)}[${expr(e.index, names)}]`;
    case 'out':
      return `out(${graphName(e.graph, names)}, ${e.output})`;
  }
}

/** A constant as the program would write it; long lists are cut short. */
function value(v: HostValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return list(v.map(value));
  return String(v);
}

function list(items: string[], max = 8): string {
  if (items.length <= max) return `[${items.join(', ')}]`;
  return `[${items.slice(0, max).join(', ')}, … ${items.length} items]`;
}

// -----------------------------------------------------------------------------------------------
// Graphs

function graphLines(g: Graph, types: Map<string, string>): string[] {
  const inputs = g.inputs.map((inp, i) => `${i}: ${inp.kind} %${inp.node}`).join(', ');
  const outputs = g.outputs.map((o, i) => `${i}: %${o.node}${o.element >= 0 ? `[${o.element}]` : ''}${o.keep ? ' (kept)' : ''}`).join(', ');
  const lines = [`graph ${g.name}(${g.dims.join(', ')}) {`];
  lines.push(`  inputs: ${inputs || 'none'}`, `  outputs: ${outputs || 'none'}`);
  if (g.incremental) lines.push(`  incremental: new ${g.incremental.seqDim} rows, from input${g.incremental.sources.length > 1 ? 's' : ''} ${g.incremental.sources.join(', ')}, K/V and rows cached`);
  for (const n of g.nodes) lines.push('  ' + nodeLine(n, g, types));
  lines.push(`  ops: ${g.nodes.length} nodes (${countSummary(g.nodes.map((n) => n.op))})`, '}');
  return lines;
}

/** `%12 = linear(%10, %11) (seq, 172) f32  @ chat.tl:21:13` */
export function nodeLine(n: Node, g: Graph, types: Map<string, string>): string {
  const args = n.args.length ? `(${n.args.map((a) => `%${a}`).join(', ')})` : '';
  const attrs = attrText(n, g, types);
  const at = n.at ? `  @ ${n.at}` : '';
  return `%${n.id} = ${n.op}${args}${attrs ? ' ' + attrs : ''} (${n.shape.join(', ')}) ${n.dtype}${at}`;
}

/** A node's attributes, compactly: the weight's name and type, const values, `eps=1e-5`. */
function attrText(n: Node, g: Graph, types: Map<string, string>): string {
  const parts: string[] = [];
  if (n.op === 'ids' || n.op === 'scalar') {
    const i = g.inputs.findIndex((inp) => inp.node === n.id);
    if (i >= 0) parts.push(`input ${i}`);
  }
  for (const [key, v] of Object.entries(n.attrs)) {
    if (v === undefined) continue;
    if (key === 'shape' && sameShape(v, n.shape)) continue; // the node's shape says it
    if (n.op === 'ids' && key === 'dim') continue;
    if (n.op === 'weight' && key === 'name') parts.push(String(v), ...(types.has(String(v)) ? [types.get(String(v))!] : []));
    else if (n.op === 'const' && key === 'values' && Array.isArray(v)) parts.push(list(v.map(attrValue)));
    else if (key === 'fn' || key === 'eq') parts.push(attrValue(v)); // unary silu, einsum "ij,jk->ik"
    else parts.push(`${key}=${attrValue(v)}`);
  }
  return parts.join(' ');
}

function attrValue(v: unknown): string {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return /^[\w.]+$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return list(v.map(attrValue));
  return JSON.stringify(v);
}

/** 6 significant digits; small numbers in exponent form: 9.99999974e-6 prints as 1e-5. */
function num(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const r = Number(v.toPrecision(6));
  return Math.abs(r) < 1e-3 ? r.toExponential() : String(r);
}

function sameShape(a: unknown, b: unknown[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `3 linear, 2 weight`, most frequent first. */
function countSummary(keys: string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, c]) => `${c} ${k}`).join(', ');
}
