// `import "lib.tl"`: the imported file's declarations join the program where the import stands.
//
// The compiler itself reads no files (it runs in the browser too): whoever calls it passes a
// `readSource` that does (the CLI passes one over the file system). Paths are relative to the importing
// file; each file is read and parsed once (a second import of it, e.g. through a diamond, adds
// nothing), and a file that imports itself through a chain is an error that shows the chain. As in the
// original, an imported file's `main`, tests and benches do not run; its functions, structs, impls,
// tensor declarations and top-level statements (globals) do.
import type * as A from './ast.ts';
import { DiagnosticError } from './diagnostics.ts';
import { parse } from './parse.ts';

/** The text of a source file by path; throws (with a message that says why) when it cannot be read. */
export type ReadSource = (path: string) => string;

export interface ResolvedProgram {
  /** The program with every import replaced by the imported file's items. */
  program: A.Program;
  /** The text of every file the program is made of, by the file name its spans carry (for diagnostics). */
  sources: Map<string, string>;
}

const NOT_IMPORTED = new Set(['MainBlock', 'TestBlock', 'BenchBlock']);

export function withImports(program: A.Program, source: string, readSource?: ReadSource): ResolvedProgram {
  const sources = new Map([[program.file, source]]);
  if (!program.items.some((i) => i.kind === 'Import')) return { program, sources };
  const done = new Set<string>([normalize(program.file)]);
  const chain = [normalize(program.file)]; // the files being imported, outermost first

  const expand = (p: A.Program, top: boolean): A.Item[] => {
    const out: A.Item[] = [];
    for (const item of p.items) {
      if (item.kind !== 'Import') {
        if (top || !NOT_IMPORTED.has(item.kind)) out.push(item);
        continue;
      }
      const file = importPath(p.file, item.path);
      const fail = (message: string) => new DiagnosticError([{ message, span: item.span }], sources.get(p.file));
      if (chain.includes(file)) throw fail(`import cycle: ${[...chain.slice(chain.indexOf(file)), file].join(' -> ')}`);
      if (done.has(file)) continue;
      if (!readSource) throw fail(`cannot import "${item.path}": this build reads no other files (put the declarations in one file)`);
      let text: string;
      try {
        text = readSource(file);
      } catch (e) {
        throw fail(`cannot import "${item.path}": ${String((e as Error)?.message ?? e).replace(/\.$/, '')}`);
      }
      done.add(file);
      sources.set(file, text);
      chain.push(file);
      out.push(...expand(parse(text, file), false)); // a syntax error there is located in that file
      chain.pop();
    }
    return out;
  };
  return { program: { ...program, items: expand(program, true) }, sources };
}

/** Where `import "path"` in `from` points: beside the importing file, unless the path is absolute. */
export function importPath(from: string, path: string): string {
  const p = path.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[A-Za-z]:\//.test(p)) return normalize(p);
  const dir = from.replace(/\\/g, '/').replace(/[^/]*$/, '');
  return normalize(dir + p);
}

/** `a/./b/../c.tl` -> `a/c.tl`: one spelling per file, so each is imported once. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '.' || (part === '' && parts.length > 0)) continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..' && parts[parts.length - 1] !== '') parts.pop();
    else parts.push(part);
  }
  return parts.join('/') || '.';
}
