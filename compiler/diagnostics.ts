// Errors about a program's text: each one located, and printed with its source line and a caret.
import { TlcError } from '../runtime/errors.ts';
import type { Span } from './ast.ts';

export interface Diagnostic {
  message: string; // plain words, no location: "unknown function 'foo'"
  span: Span;
}

/** One or more diagnostics about one source; its message is every diagnostic, formatted. */
export class DiagnosticError extends TlcError {
  override name = 'DiagnosticError';
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[], source?: string) {
    super(diagnostics.map((d) => formatDiagnostic(d, source)).join('\n'));
    this.diagnostics = diagnostics;
  }
}

/**
 * `file:line:col: error: message`, then (given the source) the line and a caret under the span:
 *
 *     chat.tl:12:13: error: expected an expression after '='
 *        12 |     let x =
 *           |             ^
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const { file, line, col } = d.span;
  const head = `${file}:${line}:${col}: error: ${d.message}`;
  if (source === undefined) return head;
  const lineText = source.split('\n')[line - 1]?.replace(/\r$/, '');
  if (lineText === undefined) return head;
  const gutter = String(line).padStart(5);
  // Keep tabs so the caret lines up under tab-indented code.
  const pad = lineText.slice(0, col - 1).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(d.span.end - d.span.start, lineText.length - (col - 1)));
  const marker = '^' + '~'.repeat(width - 1);
  return `${head}\n${gutter} | ${lineText}\n${' '.repeat(gutter.length)} | ${pad}${marker}`;
}

/** A function giving the Span of `start..end` in `source`, with 1-based line and column (binary search). */
export function spanner(source: string, file: string): (start: number, end?: number) => Span {
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return (start, end = start) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= start) lo = mid;
      else hi = mid - 1;
    }
    return { file, start, end, line: lo + 1, col: start - lineStarts[lo] + 1 };
  };
}
