// `tlc ir`'s text form of the IR, on small hand-written IR values.
import assert from 'node:assert/strict';
import type { Graph, HostExpr, HostStmt, HostValue, IR, Node } from '../compiler/ir.ts';
import { printIR } from '../compiler/ir-print.ts';

const c = (value: HostValue): HostExpr => ({ k: 'const', value });
const v = (name: string): HostExpr => ({ k: 'var', name });
const op = (o: string, ...args: HostExpr[]): HostExpr => ({ k: 'op', op: o, args });
const call = (fn: string, ...args: HostExpr[]): HostExpr => ({ k: 'call', fn, args });

const graph0: Graph = {
  id: 0,
  name: 'graph0',
  dims: ['seq'],
  inputs: [{ kind: 'ids', node: 0 }, { kind: 'scalar', node: 5 }],
  outputs: [{ node: 6, element: 0 }],
  nodes: [],
};

/** The host program of an IR that has graph0, printed, without the `host {` `}` lines. */
function host(stmts: HostStmt[]): string[] {
  const lines = printIR({ host: stmts, graphs: [graph0], weights: [] }).split('\n');
  return lines.slice(1, lines.indexOf('}'));
}

describe('IR printer', () => {
  describe('host statements -> lines', () => {
    const cases: [string, HostStmt[], string[]][] = [
      ['let and set', [{ k: 'let', name: 'n', value: c(0) }, { k: 'set', name: 'n', value: op('+', v('n'), c(1)) }], ['  let n = 0', '  n = n + 1']],
      ['print, write, another end', [{ k: 'print', args: [c('a'), v('x')], end: '\n' }, { k: 'print', args: [v('t')], end: '' }, { k: 'print', args: [], end: '|' }], ['  print("a", x)', '  write(t)', '  print(; end="|")']],
      ['a for loop over a run-time bound', [{ k: 'for', var: 'step', start: c(0), end: { k: 'arg', name: 'max_tokens', default: 64 }, body: [{ k: 'break' }] }], ['  for step in 0..arg(max_tokens, 64) {', '    break', '  }']],
      ['a graph run with its dims and inputs by kind', [{ k: 'run', graph: 0, dims: { seq: call('len', v('_ids')) }, inputs: [v('_ids'), call('random')] }], ['  run graph0(seq = len(_ids)) ids=_ids scalar=random()']],
      ['if with a lone break stays on one line', [{ k: 'if', cond: op('==', { k: 'out', graph: 0, output: 0 }, c(2)), then: [{ k: 'break' }], else: [] }], ['  if out(graph0, 0) == 2 { break }']],
      ['if and else nest', [{ k: 'while', cond: c(true), body: [{ k: 'if', cond: v('a'), then: [{ k: 'continue' }], else: [{ k: 'break' }] }] }], ['  while true {', '    if a {', '      continue', '    } else {', '      break', '    }', '  }']],
      ['panic with its place', [{ k: 'panic', message: c('no'), at: 'a.tl:1:2' }], ['  panic("no")  @ a.tl:1:2']],
    ];
    for (const [name, stmts, expected] of cases) it(name, () => assert.deepEqual(host(stmts), expected));
  });

  describe('host expressions -> text', () => {
    const [a, b, x] = [v('a'), v('b'), v('x')];
    const cases: [HostExpr, string][] = [
      [op('*', op('+', a, b), x), '(a + b) * x'],
      [op('+', a, op('*', b, x)), 'a + b * x'],
      [op('-', op('-', a, b), x), 'a - b - x'],
      [op('-', a, op('-', b, x)), 'a - (b - x)'],
      [op('**', a, op('**', b, x)), 'a ** b ** x'],
      [op('**', op('**', a, b), x), '(a ** b) ** x'],
      [op('&&', op('||', a, b), op('<', a, c(3))), '(a || b) && a < 3'],
      [op('neg', op('+', a, b)), '-(a + b)'],
      [op('!', op('==', a, b)), '!(a == b)'],
      [op('int', op('/', a, c(2))), 'int(a / 2)'],
      [{ k: 'index', target: v('tokens'), index: op('neg', c(1)) }, 'tokens[-1]'],
      [{ k: 'index', target: call('tokenize', v('t'), c('Hi "you"'), c(null)), index: c(0) }, 'tokenize(t, "Hi \\"you\\"", null)[0]'],
      [{ k: 'list', items: [a, c(1.5), c(false)] }, '[a, 1.5, false]'],
      [c([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), '[1, 2, 3, 4, 5, 6, 7, 8, … 10 items]'],
      [{ k: 'arg', name: 'prompt', default: 'Once' }, 'arg(prompt, "Once")'],
      [{ k: 'out', graph: 7, output: 2 }, 'out(graph7, 2)'],
    ];
    for (const [e, expected] of cases) it(expected, () => assert.deepEqual(host([{ k: 'let', name: 'y', value: e }]), [`  let y = ${expected}`]));
  });

  describe('graphs', () => {
    const node = (id: number, op: string, args: number[], attrs: Record<string, unknown>, shape: (number | string)[], extra: Partial<Node> = {}): Node =>
      ({ id, op, args, attrs, shape, dtype: 'f32', ...extra });
    const ir: IR = {
      host: [],
      weights: [{ name: 'blk.0.attn_q.weight', type: 'Q8_0', shape: [64, 32] }, { name: 'norm.weight', type: 'F32', shape: [64] }],
      graphs: [{
        ...graph0,
        outputs: [{ node: 6, element: 0 }, { node: 4, element: -1 }],
        incremental: { seqDim: 'seq', sources: [0] },
        nodes: [
          node(0, 'ids', [], { dim: 'seq' }, ['seq'], { dtype: 'u32', at: 'chat.tl:3:9' }),
          node(1, 'weight', [], { name: 'blk.0.attn_q.weight', shape: [32, 64] }, [32, 64]),
          node(2, 'embedding', [1, 0], {}, ['seq', 64], { at: 'chat.tl:3:9' }),
          node(3, 'weight', [], { name: 'norm.weight', shape: [64] }, [64]),
          node(4, 'rms_norm', [2, 3], { eps: 9.999999747378752e-6 }, ['seq', 64]),
          node(5, 'scalar', [], {}, []),
          node(6, 'sample', [4, 5], {}, ['seq'], { dtype: 'u32' }),
          node(7, 'const', [], { shape: [2, 2], values: [1, 0, 0, 1] }, [2, 2]),
          node(8, 'unary', [7], { fn: 'silu' }, [2, 2]),
          node(9, 'einsum', [7, 8], { eq: 'ij,jk->ik' }, [2, 2]),
          node(10, 'reshape', [9], { shape: [4] }, [4]),
          node(11, 'transpose', [7], { perm: [1, 0] }, [2, 2]),
          node(12, 'scale', [11], { value: 0.35355339059327373, bias: 0 }, [2, 2]),
        ],
      }],
    };
    const lines = printIR(ir).split('\n');
    const cases: [string, string][] = [
      ['the header names its dims', 'graph graph0(seq) {'],
      ['inputs by kind and node', '  inputs: 0: ids %0, 1: scalar %5'],
      ['outputs: one element, or the whole tensor', '  outputs: 0: %6[0], 1: %4'],
      ['an incremental graph says so', '  incremental: new seq rows, from input 0, K/V and rows cached'],
      ['an ids input', '  %0 = ids input 0 (seq) u32  @ chat.tl:3:9'],
      ['a weight with its GGUF type', '  %1 = weight blk.0.attn_q.weight Q8_0 (32, 64) f32'],
      ['an op with arguments and its place', '  %2 = embedding(%1, %0) (seq, 64) f32  @ chat.tl:3:9'],
      ['an f32 attribute, compactly', '  %4 = rms_norm(%2, %3) eps=1e-5 (seq, 64) f32'],
      ['a scalar input', '  %5 = scalar input 1 () f32'],
      ['a const with its values', '  %7 = const [1, 0, 0, 1] (2, 2) f32'],
      ['a unary op names its function', '  %8 = unary(%7) silu (2, 2) f32'],
      ['einsum shows its equation', '  %9 = einsum(%7, %8) "ij,jk->ik" (2, 2) f32'],
      ['a reshape target is its shape', '  %10 = reshape(%9) (4) f32'],
      ['list attributes', '  %11 = transpose(%7) perm=[1, 0] (2, 2) f32'],
      ['numbers keep 6 digits', '  %12 = scale(%11) value=0.353553 bias=0 (2, 2) f32'],
      ['ops are counted, most frequent first', '  ops: 13 nodes (2 weight, 1 const, 1 einsum, 1 embedding, 1 ids, 1 reshape, 1 rms_norm, 1 sample, 1 scalar, 1 scale, 1 transpose, 1 unary)'],
      ['weights are summed up by type', 'weights: 2 (1 F32, 1 Q8_0)'],
    ];
    for (const [name, line] of cases) it(name, () => assert.ok(lines.includes(line), `no line ${JSON.stringify(line)} in\n${lines.join('\n')}`));

    it('prints the host program first, then each graph in order', () => {
      const text = printIR({ ...ir, host: [{ k: 'run', graph: 0, dims: { seq: c(3) }, inputs: [c([1, 2, 3]), c(0.5)] }] });
      assert.deepEqual(text.split('\n').slice(0, 5), ['host {', '  run graph0(seq = 3) ids=[1, 2, 3] scalar=0.5', '}', '', 'graph graph0(seq) {']);
      assert.ok(text.endsWith('weights: 2 (1 F32, 1 Q8_0)\n'));
    });
  });
});
