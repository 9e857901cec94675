// Syntax errors in plain words: what Ohm (or the fast parser) would have accepted, as a user says it.
import type * as ohm from 'ohm-js';
import { DiagnosticError, spanner } from './diagnostics.ts';

/**
 * Ohm reports the tokens it would have accepted. These groups turn them into what a user thinks of:
 * when at least half of a group's tokens were expected, its word replaces them and what it absorbs.
 */
const TOKEN_GROUPS: { word: string; tokens: string[]; absorbs?: string[] }[] = [
  {
    word: 'a type',
    tokens: ["'float32'", "'float16'", "'int16'", "'int32'", "'int64'", "'bool'", "'complex16'"],
    absorbs: ['an identifier', "'('"],
  },
  {
    word: 'a declaration',
    tokens: ["'import'", "'entity'", "'embedding'", "'relation_embedding'", "'relation'", "'tensor'", "'fn'", "'struct'", "'impl'", "'main'", "'test'", "'bench'"],
  },
  {
    word: 'a statement',
    tokens: ["'let'", "'for'", "'while'", "'loop'", "'break'", "'continue'", "'return'", "'with'", "'infer'", "'learn'", "'python'", "'tensor'", "'test'", "'bench'"],
    absorbs: ["'{'"], // a nested block is a statement too
  },
  {
    word: 'an expression',
    tokens: ["'('", "'['", "'-'", "'!'", "'inv'", "'if'", "'match'", 'an identifier', 'a number', 'a string', "'true'", "'false'"],
  },
];

/** Tokens that would only have continued what came before (`x` + `.field`): noise when anything else was expected. */
const CONTINUATIONS = new Set(['an operator', "'.'", "'['", "'as'", "'?'", "'<-'", "'<'", "'='", "':='", "'+='", "'-='", "'*='", "'/='", "';'", "'..'", "'learnable'", "'frozen'", "'::'", "'then'"]);

function expectedWords(failures: Expectation[]): string[] {
  const word = (f: { getText(): string; getType(): string }) => {
    const text = f.getText();
    if (f.getType() === 'description') return text === 'end of input' ? 'the end of the file' : text;
    return f.getType() === 'string' ? `'${text}'` : undefined;
  };
  // Ohm calls a failure fluffy when an iteration (`Stmt*`) stopped there: not worth listing one by one,
  // but it still says what kind of thing could have come next ("a statement").
  const words = new Set(failures.filter((f) => !f.isFluffy()).map(word).filter((w) => w !== undefined));
  const all = new Set(failures.map(word).filter((w) => w !== undefined));
  const concepts: string[] = [];
  for (const { word, tokens, absorbs = [] } of TOKEN_GROUPS) {
    if (tokens.filter((t) => all.has(t)).length >= tokens.length / 2) {
      concepts.push(word);
      for (const t of [...tokens, ...absorbs]) words.delete(t);
    }
  }
  if (words.has('a field or method name')) words.delete('an identifier');
  // Where a statement may come, so may an expression: say only the broader word.
  const said = concepts.includes('a statement') ? concepts.filter((c) => c !== 'an expression') : concepts;
  const rest = [...words];
  const kept = rest.filter((w) => !CONTINUATIONS.has(w));
  // Closing brackets and separators first: they are what is most often missing.
  return [...(kept.length || said.length ? kept : rest), ...said];
}

/** What a parser expected at a position: a terminal ('string', its text) or a rule's description. */
export interface Expectation {
  getText(): string;
  getType(): string;
  isFluffy(): boolean;
}

/** The message for a failed match of `text.slice(from)`. */
export function syntaxError(match: ohm.MatchResult, text: string, file: string, from: number): DiagnosticError {
  const failed = match as ohm.FailedMatchResult & { getRightmostFailures(): Expectation[] };
  return syntaxErrorAt(text, file, failed.getRightmostFailurePosition() + from, failed.getRightmostFailures());
}

/** A syntax error at `pos`, given what was expected there. */
export function syntaxErrorAt(text: string, file: string, pos: number, failures: Expectation[]): DiagnosticError {
  const words = expectedWords(failures);
  const expected = words.length === 0 ? 'something else' : joinOr(words);

  // When the failure is on a later line than the token before it, point just after that token:
  // that is where the missing piece belongs (`let x =` at the end of a line).
  const prevEnd = lastTokenEnd(text, pos);
  const at = text.slice(prevEnd, pos).includes('\n') ? prevEnd + (/[ \t]/.test(text[prevEnd]) ? 1 : 0) : pos;
  const prev = tokenBefore(text, prevEnd);
  // A stray closing bracket on the same line, or one at the top level: point at it.
  const stray = at === pos || words.includes('the end of the file');
  const closer = stray && ')]}'.includes(text[pos] ?? '') && !words.includes(`'${text[pos]}'`) ? text[pos] : undefined;
  let message = `expected ${expected}${prev ? ` after ${prev}` : ''}`;
  let span = spanner(text, file)(at, at + 1);
  if (text.startsWith('"', pos) && !text.slice(pos + 1).split('\n')[0].includes('"')) message = 'unterminated string';
  else if (pos >= text.length) message = `unexpected end of file: ${message}`;
  else if (closer) {
    message = `unexpected '${closer}': expected ${expected}`;
    span = spanner(text, file)(pos, pos + 1);
  }
  return new DiagnosticError([{ message, span }], text);
}

/** The offset just past the last token (not space, not comment) that starts before `pos`. */
function lastTokenEnd(text: string, pos: number): number {
  let last = 0;
  for (let i = 0; i < pos; ) {
    if (text.startsWith('//', i)) i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i + 2) === -1 ? text.length : text.indexOf('*/', i + 2) + 2;
    else if (/\s/.test(text[i])) i++;
    else if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = last = Math.min(j + 1, text.length);
    } else last = ++i;
  }
  return Math.min(last, pos);
}

function joinOr(words: string[]): string {
  if (words.length <= 2) return words.join(' or ');
  return `${words.slice(0, -1).join(', ')}, or ${words[words.length - 1]}`;
}

/** The token that ends at `end`, quoted for a message: `'='`, `'print'`, `a string`. */
function tokenBefore(text: string, end: number): string | undefined {
  if (end === 0) return undefined;
  if (text[end - 1] === '"') return 'a string';
  const word = /[\p{L}\p{N}_.]+$/u.exec(text.slice(Math.max(0, end - 64), end));
  if (word && /[\p{L}\p{N}_]$/u.test(word[0])) {
    const w = word[0].replace(/^.*\./, ''); // `model.blk` -> 'blk'
    return `'${w || word[0]}'`;
  }
  const two = text.slice(Math.max(0, end - 2), end);
  if (['==', '!=', '<=', '>=', '&&', '||', '->', '<-', '=>', '::', ':=', '**', '+=', '-=', '*=', '/='].includes(two)) {
    return `'${two}'`;
  }
  return `'${text[end - 1]}'`;
}
