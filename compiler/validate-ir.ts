// Checks an IR read from a file (a build artifact) before anything runs it: every statement and
// expression of a kind this tlc knows, every graph, node, input and output id in range, every op
// known, and every node's shape the one its op's rule gives for its arguments, so a hand-edited or
// truncated artifact is refused with a reason instead of a kernel reading garbage.
import type { Graph, HostExpr, HostStmt } from './ir.ts';
import { OPS } from './ops.ts';

/** The first problem found, in words; undefined when the IR is sound. */
export function irProblem(ir: unknown): string | undefined {
  try {
    checkIR(ir);
    return undefined;
  } catch (e) {
    if (e instanceof Bad) return e.message;
    throw e;
  }
}

class Bad extends Error {}

function need(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Bad(what);
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: unknown, lo = 0): x is number => Number.isInteger(x) && (x as number) >= lo;
const isDim = (x: unknown) => isInt(x) || (typeof x === 'string' && x.length > 0);

function checkIR(ir: unknown): void {
  need(isObj(ir) && Array.isArray(ir.host) && Array.isArray(ir.graphs) && Array.isArray(ir.weights), 'the IR lacks host, graphs or weights');
  const weights = new Map<string, number[]>();
  for (const w of ir.weights as unknown[]) {
    need(isObj(w) && typeof w.name === 'string' && typeof w.type === 'string' && Array.isArray(w.shape) && w.shape.every((d) => isInt(d, 1)), 'a weight entry is malformed');
    weights.set(w.name, w.shape as number[]);
  }
  const graphs = new Map<number, Graph>();
  for (const g of ir.graphs as unknown[]) {
    need(isObj(g) && isInt(g.id) && !graphs.has(g.id as number), 'a graph has no id, or a repeated one');
    checkGraph(g as unknown as Graph, weights);
    graphs.set(g.id as number, g as unknown as Graph);
  }
  checkStmts(ir.host as unknown[], graphs);
}

const INPUT_OPS: Record<string, string> = { ids: 'ids', scalar: 'scalar', tensor: 'tensor' };

function checkGraph(g: Graph, weights: Map<string, number[]>): void {
  const at = `graph ${g.id}`;
  need(Array.isArray(g.dims) && g.dims.every((d) => typeof d === 'string'), `${at}: its dims are malformed`);
  need(Array.isArray(g.nodes) && Array.isArray(g.inputs) && Array.isArray(g.outputs), `${at}: it lacks nodes, inputs or outputs`);
  g.nodes.forEach((n, i) => {
    const where = `${at}, node ${i}`;
    need(isObj(n) && n.id === i && typeof n.op === 'string' && OPS[n.op], `${where}: an unknown op or a wrong id`);
    need(Array.isArray(n.args) && n.args.every((a) => isInt(a) && a < i), `${where} (${n.op}): an argument is not an earlier node`);
    need(isObj(n.attrs) && Array.isArray(n.shape) && n.shape.every(isDim) && (n.dtype === 'f32' || n.dtype === 'u32'), `${where} (${n.op}): malformed attributes, shape or type`);
    let shape: unknown;
    try {
      shape = OPS[n.op].shape(n.args.map((a) => g.nodes[a].shape), n.attrs);
    } catch {
      throw new Bad(`${where} (${n.op}): its arguments do not fit the op`);
    }
    need(JSON.stringify(shape) === JSON.stringify(n.shape), `${where} (${n.op}): its shape [${n.shape.join(', ')}] is not what the op gives`);
    if (n.op === 'weight') {
      const w = weights.get(n.attrs.name as string);
      need(w && JSON.stringify([...w].reverse()) === JSON.stringify(n.shape), `${where}: the weight ${String(n.attrs.name)} is not in the weight list with this shape`);
    }
  });
  g.inputs.forEach((inp, i) => {
    need(isObj(inp) && INPUT_OPS[inp.kind] && isInt(inp.node) && g.nodes[inp.node]?.op === INPUT_OPS[inp.kind], `${at}: input ${i} is malformed`);
  });
  g.outputs.forEach((o, i) => {
    need(isObj(o) && isInt(o.node) && o.node < g.nodes.length && isInt(o.element, -1), `${at}: output ${i} is malformed`);
  });
  if (g.incremental !== undefined) {
    const inc = g.incremental;
    need(isObj(inc) && typeof inc.seqDim === 'string' && Array.isArray(inc.sources) && inc.sources.every((s) => isInt(s) && s < g.inputs.length), `${at}: its incremental marks are malformed`);
  }
  if (g.sameDims !== undefined) need(Array.isArray(g.sameDims) && g.sameDims.every((p) => Array.isArray(p) && p.length === 2 && p.every(isDim)), `${at}: its sameDims are malformed`);
}

const STMT_KEYS: Record<string, string[]> = {
  let: ['name', 'value'], set: ['name', 'value'], print: ['args', 'end'], if: ['cond', 'then', 'else'], for: ['var', 'start', 'end', 'body'],
  while: ['cond', 'body'], break: [], continue: [], panic: ['message', 'at'], run: ['graph', 'dims', 'inputs'],
};

function checkStmts(stmts: unknown[], graphs: Map<number, Graph>): void {
  for (const s of stmts) {
    need(isObj(s) && typeof s.k === 'string' && STMT_KEYS[s.k], `a host statement of an unknown kind (${isObj(s) ? String(s.k) : typeof s})`);
    for (const key of STMT_KEYS[s.k]) need(key in s, `a host '${s.k}' statement lacks '${key}'`);
    const st = s as unknown as HostStmt;
    const expr = (e: unknown) => checkExpr(e, graphs);
    switch (st.k) {
      case 'let':
      case 'set':
        need(typeof st.name === 'string', `a host '${st.k}' names no variable`);
        expr(st.value);
        break;
      case 'print':
        need(Array.isArray(st.args) && typeof st.end === 'string', 'a host print is malformed');
        st.args.forEach(expr);
        break;
      case 'if':
        expr(st.cond);
        need(Array.isArray(st.then) && Array.isArray(st.else), 'a host if is malformed');
        checkStmts(st.then, graphs);
        checkStmts(st.else, graphs);
        break;
      case 'for':
        expr(st.start);
        expr(st.end);
        need(Array.isArray(st.body), 'a host for is malformed');
        checkStmts(st.body, graphs);
        break;
      case 'while':
        expr(st.cond);
        need(Array.isArray(st.body), 'a host while is malformed');
        checkStmts(st.body, graphs);
        break;
      case 'panic':
        expr(st.message);
        break;
      case 'run': {
        const g = graphs.get(st.graph);
        need(g, `a run of graph ${String(st.graph)}, which the artifact does not have`);
        need(Array.isArray(st.inputs) && st.inputs.length === g.inputs.length, `a run of graph ${st.graph} with the wrong number of inputs`);
        need(isObj(st.dims), `a run of graph ${st.graph} without dims`);
        Object.values(st.dims).forEach(expr);
        st.inputs.forEach(expr);
        break;
      }
    }
  }
}

const EXPR_KINDS = new Set(['const', 'var', 'arg', 'op', 'call', 'list', 'index', 'out']);

function checkExpr(e: unknown, graphs: Map<number, Graph>): void {
  need(isObj(e) && typeof e.k === 'string' && EXPR_KINDS.has(e.k), `a host expression of an unknown kind (${isObj(e) ? String(e.k) : typeof e})`);
  const x = e as unknown as HostExpr;
  const sub = (y: unknown) => checkExpr(y, graphs);
  switch (x.k) {
    case 'var':
    case 'arg':
      need(typeof x.name === 'string', `a host '${x.k}' without a name`);
      break;
    case 'op':
    case 'call':
      need((x.k === 'op' ? typeof x.op : typeof x.fn) === 'string' && Array.isArray(x.args), `a host '${x.k}' is malformed`);
      x.args.forEach(sub);
      break;
    case 'list':
      need(Array.isArray(x.items), 'a host list is malformed');
      x.items.forEach(sub);
      break;
    case 'index':
      sub(x.target);
      sub(x.index);
      break;
    case 'out': {
      const g = graphs.get(x.graph);
      need(g && isInt(x.output) && x.output < g.outputs.length, `a read of output ${String(x.output)} of graph ${String(x.graph)}, which does not exist`);
      break;
    }
  }
}
