// `tlc check FILE...`: parses TensorLogic files and runs the static checks (names, calls, loops, literal shapes).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import type * as A from '../../compiler/ast.ts';
import { check } from '../../compiler/check.ts';
import { DiagnosticError } from '../../compiler/diagnostics.ts';
import { parse } from '../../compiler/parse.ts';
import { forEachFile, summarize } from './parse.ts';
import { readImport, readSource } from '../source.ts';
import { withImports } from '../../compiler/imports.ts';

/** Reads `import "lib.tl"` relative to the importing file; undefined when absent or unparsable. */
export function importsBeside(path_: string, from: string): A.Program | undefined {
  const file = path.resolve(path.dirname(from), path_);
  if (!existsSync(file)) return undefined;
  try {
    return parse(readSource(file), file);
  } catch {
    return undefined; // its own syntax error is reported when that file is checked
  }
}

export const checkCommand: CommandModule<{}, { files: string[] }> = {
  command: 'check <files..>',
  describe: 'Check TensorLogic files: syntax, unknown names and functions, argument counts, break outside loops, literal shapes',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: '.tl files to check' })
      .example('$0 check examples/*.tl', 'one line per clean file; every problem of the others, located')
      .epilog(
        'Imports are read relative to the importing file. Exits 0 when every file is clean, 1 otherwise.\n' +
          'Calls to builtins are checked against the builtin table (compiler/builtins.ts); method calls ' +
          '(x.f()) and Type::f() calls are not.',
      ),
  handler: (argv) => {
    let problems = 0;
    const failed = forEachFile(argv.files, (file, source) => {
      const program = parse(source, file);
      const diagnostics = check(program, { resolveImport: importsBeside });
      if (diagnostics.length) {
        problems += diagnostics.length;
        throw new DiagnosticError(diagnostics, source);
      }
      try {
        withImports(program, source, readImport); // a missing file or a cycle: the error a build gets
      } catch (e) {
        problems++;
        throw e;
      }
      console.log(`${file}: ok (${summarize(program)})`);
    });
    if (failed) {
      process.stderr.write(`${problems ? `${problems} problem${problems === 1 ? '' : 's'}` : 'errors'} in ${failed} of ${argv.files.length} file${argv.files.length === 1 ? '' : 's'}\n`);
      process.exitCode = 1;
    }
  },
};
