// `tlc parse FILE...`: syntax-checks TensorLogic files; --ast prints their syntax trees as JSON.
import type { CommandModule } from 'yargs';
import type * as A from '../../compiler/ast.ts';
import { parse } from '../../compiler/parse.ts';
import { readSource } from '../source.ts';
import { forEachNode } from '../../compiler/ast-walk.ts';
import { TlcError } from '../../runtime/errors.ts';

/** `3 functions, main, 142 statements`: what a file holds, for the one-line report. */
export function summarize(p: A.Program): string {
  let statements = 0;
  forEachNode(p.items, (n) => {
    const block = n as A.Block;
    if (block.kind === 'Block') statements += block.stmts.length + (block.tail ? 1 : 0);
    return true;
  });
  const top = p.items.filter((i) => !isDecl(i)).length;
  statements += top;
  const fns = p.items.reduce((n, i) => n + (i.kind === 'FnDecl' ? 1 : i.kind === 'ImplBlock' ? i.methods.length : 0), 0);
  const parts = [`${fns} function${fns === 1 ? '' : 's'}`];
  if (p.items.some((i) => i.kind === 'MainBlock')) parts.push('main');
  const tests = p.items.filter((i) => i.kind === 'TestBlock').length;
  if (tests) parts.push(`${tests} test${tests === 1 ? '' : 's'}`);
  parts.push(`${statements} statement${statements === 1 ? '' : 's'}`);
  return parts.join(', ');
}

const DECLS = new Set(['Import', 'EntityDecl', 'TensorDecl', 'RelationDecl', 'RuleDecl', 'EmbeddingDecl', 'FnDecl', 'StructDecl', 'ImplBlock', 'MainBlock', 'TestBlock', 'BenchBlock']);
const isDecl = (i: A.Item) => DECLS.has(i.kind);

/** Prints each file's result; returns how many failed. Syntax errors go to stderr, formatted with the source line. */
export function forEachFile(files: string[], each: (file: string, source: string) => void): number {
  let failed = 0;
  for (const file of files) {
    try {
      each(file, readSource(file));
    } catch (e) {
      if (!(e instanceof TlcError)) throw e;
      process.stderr.write(`${e.message}\n`);
      failed++;
    }
  }
  return failed;
}

export const parseCommand: CommandModule<{}, { files: string[]; ast?: boolean; spans?: boolean }> = {
  command: 'parse <files..>',
  describe: 'Check TensorLogic files for syntax errors (or print their syntax trees)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: '.tl files to parse' })
      .option('ast', { type: 'boolean', describe: 'Print each syntax tree as JSON (compiler/ast.ts) instead of a summary' })
      .option('spans', { type: 'boolean', describe: 'With --ast, keep every node\'s source span (file, offsets, line, col)' })
      .example('$0 parse examples/*.tl', 'one line per file: ok, with what it holds, or the syntax error')
      .example('$0 parse --ast examples/hello.tl', 'the syntax tree as JSON')
      .epilog('Exits 0 when every file parses, 1 otherwise. Syntax errors show file:line:col, the line, and a caret.'),
  handler: (argv) => {
    const trees: A.Program[] = [];
    const failed = forEachFile(argv.files, (file, source) => {
      const program = parse(source, file);
      if (argv.ast) trees.push(program);
      else console.log(`${file}: ok (${summarize(program)})`);
    });
    if (argv.ast) {
      let json: string;
      try {
        json = JSON.stringify(trees.length === 1 ? trees[0] : trees, (k, v) => (k === 'span' && !argv.spans ? undefined : v), 2);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new TlcError('the syntax tree is too deep to print as JSON (a chain of thousands of operators); the program itself parses');
      }
      console.log(json);
    }
    if (failed) process.exitCode = 1;
  },
};
