// Mutated example programs: the parser returns an AST or throws a located DiagnosticError, never anything
// else; check() never throws on what parses; the compiler (lowering and passes, on a model header)
// compiles it or says why in a TlcError.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { check } from '../../compiler/check.ts';
import { DiagnosticError, formatDiagnostic } from '../../compiler/diagnostics.ts';
import { parse } from '../../compiler/parse.ts';
import { compile } from '../../compiler/compile.ts';
import { TlcError } from '../../runtime/errors.ts';
import { fakeModel } from '../support/fake-model.ts';
import { fuzzRuns } from '../support/fuzz.ts';

const model = fakeModel({ layers: 2, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 100 });

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const sources = readdirSync(examples).filter((f) => f.endsWith('.tl')).sort().map((f) => readFileSync(path.join(examples, f), 'utf8'));

/** Tokens as the mutations see them: words, numbers, strings, comments, operators, single characters, spaces. */
const TOKEN = /\s+|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|[\p{L}_][\p{L}\p{N}_]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|<-|->|=>|::|:=|==|!=|<=|>=|&&|\|\||\*\*|\.\.|[^\s]/gu;
const EXTRA = ['(', ')', '{', '}', '[', ']', ',', ';', ':', '"', '=', '.', '?', '|', '@', '-', 'let', 'fn', 'if', 'else', 'for', 'in', 'match', '<-', '->', '=>', '::', '0.5', '\n', '/*', '//'];

type Mutation = { op: 'delete' | 'duplicate' | 'swap' | 'insert'; at: number; other: number; extra: string };

const mutation = fc.record<Mutation>({
  op: fc.constantFrom('delete', 'duplicate', 'swap', 'insert'),
  at: fc.nat(),
  other: fc.nat(),
  extra: fc.constantFrom(...EXTRA),
});

function mutate(tokens: string[], m: Mutation): string[] {
  if (tokens.length === 0) return [m.extra];
  const t = [...tokens];
  const i = m.at % t.length;
  const j = m.other % t.length;
  if (m.op === 'delete') t.splice(i, 1);
  else if (m.op === 'duplicate') t.splice(i, 0, t[i]);
  else if (m.op === 'swap') [t[i], t[j]] = [t[j], t[i]];
  else t.splice(i, 0, m.extra);
  return t;
}

/** A few consecutive lines of one example: small, so a thousand parses stay fast. */
const snippet = fc
  .record({ file: fc.nat(), line: fc.nat(), lines: fc.integer({ min: 1, max: 14 }) })
  .map(({ file, line, lines }) => {
    const all = sources[file % sources.length].split('\n');
    const start = line % all.length;
    return all.slice(start, start + lines).join('\n');
  });

function parsesOrReports(source: string): void {
  let program;
  try {
    program = parse(source, 'mutant.tl');
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw new Error(`not a DiagnosticError: ${e}\n--- source ---\n${source}`);
    assert.ok(e.diagnostics.length > 0);
    const lines = source.split('\n').length;
    for (const d of e.diagnostics) {
      assert.ok(d.message.length > 0);
      assert.ok(d.span.line >= 1 && d.span.line <= lines && d.span.col >= 1, `bad location ${d.span.line}:${d.span.col}`);
      assert.ok(formatDiagnostic(d, source).startsWith(`mutant.tl:${d.span.line}:${d.span.col}: error: `));
    }
    return;
  }
  if (check(program).length) return; // must return its diagnostics, never throw
  try {
    compile(source, 'mutant.tl', { model });
  } catch (e) {
    if (!(e instanceof TlcError)) throw new Error(`the compiler threw ${e instanceof Error ? e.stack : e}\n--- source ---\n${source}`);
  }
}

describe('parser robustness (fast-check)', function () {
  this.timeout(120_000);

  it('mutated snippets of the examples: an AST or a DiagnosticError, then compiled or a TlcError', () => {
    fc.assert(
      fc.property(snippet, fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, ms) => {
        const tokens = text.match(TOKEN) ?? [];
        parsesOrReports(ms.reduce(mutate, tokens).join(''));
      }),
      { seed: 21, numRuns: fuzzRuns(1000) },
    );
  });

  it('mutated whole programs: an AST or a DiagnosticError, then compiled or a TlcError', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (n, ms) => {
        const tokens = sources[n % sources.length].match(TOKEN) ?? [];
        parsesOrReports(ms.reduce(mutate, tokens).join(''));
      }),
      { seed: 22, numRuns: fuzzRuns(60) },
    );
  });
});
