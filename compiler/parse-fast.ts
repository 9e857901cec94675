import type * as A from './ast.ts';
import { type Diagnostic, DiagnosticError } from './diagnostics.ts';
import { syntaxErrorAt, type Expectation } from './syntax-errors.ts';
import { BINARY_PRECEDENCE, decodeString, numberLit } from './parse-shared.ts';

// The fast path of parse() (compiler/parse.ts): a hand-written parser of grammar/tensorlogic.ohm
//
// Ohm memoizes every rule application at every position, which costs about a kilobyte of memory per
// byte of source and runs at 0.2 MB/s. This parser follows grammar/tensorlogic.ohm rule by rule, with
// the same ordered choices, lookaheads and space skipping (syntactic rules skip spaces and comments
// before each token, lexical ones do not), and builds what parse.ts's semantic actions build. Shared
// prefixes of alternatives are parsed once (`(a)` and `(a, b)`), blocks, postfix chains, atoms and type
// arguments are memoized per position, and chains (binary operators, postfix operations, unary
// operators, `else if`) are loops. A change to the grammar needs the same change here.
//
// Only its successes are final: on a syntax error, Ohm matches again from a few items before the
// failing one, so the message is the grammar's own. It words the message itself only when that region
// is too large for Ohm's memory (GRAMMAR_REGION_LIMIT) or too deep for Ohm's recursion.

/** How deep brackets, blocks, `else if` chains, unary and postfix operators may nest. */
export const MAX_NESTING = 256;

const RESERVED = new Set(['let', 'fn', 'if', 'else', 'for', 'in', 'while', 'loop', 'break', 'continue', 'return', 'true', 'false', 'match', 'as', 'struct', 'impl', 'relation']);
const DTYPES = new Set(['float32', 'float16', 'int16', 'int32', 'int64', 'bool', 'complex16']);
const LETTER = /^\p{L}$/u;

/** 1: identStart (a-z, A-Z, _), 2: digit, 0: neither (ASCII). */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CLASS[c] = /[A-Za-z_]/.test(ch) ? 1 : /[0-9]/.test(ch) ? 2 : 0;
}

/** The length (1 or 2 code units) of the identPart at `i`, or 0: ASCII letters, digits, `_`, and non-ASCII letters. */
function identPartLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 128) return ASCII_CLASS[c] !== 0 ? 1 : 0;
  if (Number.isNaN(c)) return 0;
  const ch = String.fromCodePoint(s.codePointAt(i)!);
  return LETTER.test(ch) ? ch.length : 0;
}

/** Like identPartLen, for identStart (no digits). */
function identStartLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 128) return ASCII_CLASS[c] === 1 ? 1 : 0;
  return identPartLen(s, i);
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** What may start an item or an expression, for the fast parser's own messages. */
const EXPR_STARTS = ["'('", "'['", "'-'", "'!'", "'inv'", "'if'", "'match'", 'an identifier', 'a number', 'a string', "'true'", "'false'"];
const STMT_STARTS = [...['let', 'for', 'while', 'loop', 'break', 'continue', 'return', 'with', 'infer', 'learn', 'python', 'tensor', 'test', 'bench', '{'].map((k) => `'${k}'`), ...EXPR_STARTS];
const ITEM_STARTS = [...['import', 'entity', 'embedding', 'relation_embedding', 'relation', 'fn', 'struct', 'impl', 'main'].map((k) => `'${k}'`), ...STMT_STARTS];
const TYPE_STARTS = [...['float32', 'float16', 'int16', 'int32', 'int64', 'bool', 'complex16', '('].map((k) => `'${k}'`), 'an identifier'];

type Stmted = { stmt: A.Stmt; semi: boolean };
type Part = { expr: A.Expr; start: number; end: number };

/** Raised when nesting passes MAX_NESTING: a located error, never a stack overflow. */
class NestingError extends DiagnosticError {}

export class FastParser {
  pos = 0;
  /** Errors the semantic actions raise (a bad assignment target, a wrong embedding); thrown only once the whole program matched. */
  readonly semErrors: Diagnostic[] = [];
  /** The furthest offset where a token was tried, and what was expected there: the message when Ohm cannot give one. */
  furthest = 0;
  private readonly expected = new Set<string>(); // "'('" for a terminal, 'an identifier' for a described rule

  /** The top-level items parsed so far, and where each starts (after spaces and comments). */
  readonly items: A.Item[] = [];
  readonly itemStarts: number[] = [];
  private depth = 0;
  private readonly len: number;
  private skipFrom = -1;
  private skipTo = -1;
  private blockMemo = new Map<number, { end: number; node?: A.Block; errs: Diagnostic[] }>();
  private typeArgsMemo = new Map<number, { end: number; types?: A.TypeRef[] }>();
  private postfixMemo: { at: number; end: number; node?: Part } = { at: -1, end: -1 };
  private atomMemo: { at: number; end: number; node?: A.Call } = { at: -1, end: -1 };

  constructor(
    private readonly src: string,
    private readonly span: (start: number, end?: number) => A.Span,
  ) {
    this.len = src.length;
  }

  // ---- tokens

  /** The offset after the spaces and comments at `p` (Ohm's implicit space skipping). */
  skip(p: number): number {
    if (p === this.skipFrom) return this.skipTo;
    const s = this.src;
    let i = p;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c <= 32) i++;
      else if (c === 47 && s.charCodeAt(i + 1) === 47) {
        const nl = s.indexOf('\n', i + 2);
        i = nl < 0 ? this.len : nl;
      } else if (c === 47 && s.charCodeAt(i + 1) === 42) {
        const e = s.indexOf('*/', i + 2);
        if (e < 0) break; // not a comment: the grammar fails on it
        i = e + 2;
      } else break;
    }
    this.skipFrom = p;
    this.skipTo = i;
    return i;
  }

  /** A failure at `q`, expecting each of `what` ("'('" for a terminal, a description otherwise). */
  private miss(q: number, ...what: string[]): undefined {
    if (q < this.furthest) return undefined;
    if (q > this.furthest) {
      this.furthest = q;
      this.expected.clear();
    }
    for (const w of what) this.expected.add(w);
    return undefined;
  }

  /** A terminal in a syntactic rule: spaces, then `s`. */
  private lit(s: string): boolean {
    const q = this.skip(this.pos);
    if (this.src.startsWith(s, q)) {
      this.pos = q + s.length;
      return true;
    }
    this.miss(q, `'${s}'`);
    return false;
  }

  /** kw<word>, applied from a syntactic rule. */
  private kw(word: string): boolean {
    const q = this.skip(this.pos);
    if (this.src.startsWith(word, q) && identPartLen(this.src, q + word.length) === 0) {
      this.pos = q + word.length;
      return true;
    }
    this.miss(q, `'${word}'`);
    return false;
  }

  /** The end of the identifier-shaped word at `q` (reserved or not), or -1. */
  private wordEnd(q: number): number {
    const s = this.src;
    let n = identStartLen(s, q);
    if (n === 0) return -1;
    let e = q + n;
    while ((n = identPartLen(s, e)) !== 0) e += n;
    return e;
  }

  private wordAt(q: number): string | undefined {
    const e = this.wordEnd(q);
    return e < 0 ? undefined : this.src.slice(q, e);
  }

  /** `ident` at `q` without skipping (lexical): its end, or -1. */
  private identEnd(q: number): number {
    const e = this.wordEnd(q);
    return e < 0 || RESERVED.has(this.src.slice(q, e)) ? -1 : e;
  }

  /** `ident` from a syntactic rule: its name. */
  private ident(): string | undefined {
    const q = this.skip(this.pos);
    const e = this.identEnd(q);
    if (e < 0) return this.miss(q, 'an identifier');
    this.pos = e;
    return this.src.slice(q, e);
  }

  /** Only spaces and tabs from `p`, then `(`: the offset of the `(`, or -1 (sameLine "("). */
  private sameLineParen(p: number): number {
    const s = this.src;
    let i = p;
    for (let c = s.charCodeAt(i); c === 32 || c === 9; c = s.charCodeAt(++i));
    return s.charCodeAt(i) === 40 ? i : -1;
  }

  /** lineBreakBefore<"[">: spaces without a newline, a newline, spaces, then `[`. */
  private lineBreakThenBracket(p: number): boolean {
    const s = this.src;
    let i = p;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 10) break;
      if (c <= 32) i++;
      else if (c === 47 && s.charCodeAt(i + 1) === 47) {
        const nl = s.indexOf('\n', i + 2);
        i = nl < 0 ? this.len : nl;
      } else if (c === 47 && s.charCodeAt(i + 1) === 42) {
        const e = s.indexOf('*/', i + 2);
        if (e < 0) return false;
        i = e + 2;
      } else return false;
    }
    return s.charCodeAt(this.skip(i + 1)) === 91;
  }

  /** `number` at `q` (lexical): its end, or -1. */
  private numberEnd(q: number): number {
    const s = this.src;
    let i = q;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === q) return -1;
    if (s.charCodeAt(i) === 46 && isDigit(s.charCodeAt(i + 1))) {
      i += 2;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const c = s.charCodeAt(i);
    if (c === 101 || c === 69) {
      let j = i + 1;
      const sign = s.charCodeAt(j);
      if (sign === 43 || sign === 45) j++;
      if (isDigit(s.charCodeAt(j))) {
        while (isDigit(s.charCodeAt(j))) j++;
        i = j;
      }
    }
    return i;
  }

  /** `string` at `q` (lexical): its end, or -1. */
  private stringEnd(q: number): number {
    const s = this.src;
    if (s.charCodeAt(q) !== 34) return -1;
    for (let i = q + 1; i < this.len; ) {
      const c = s.charCodeAt(i);
      if (c === 34) return i + 1;
      if (c === 10) return -1;
      if (c === 92) {
        if (i + 1 >= this.len) return -1;
        i += 1 + (s.codePointAt(i + 1)! > 0xffff ? 2 : 1);
      } else i++;
    }
    return -1;
  }

  /** `binop` at `q` (lexical), or undefined. */
  private binopAt(q: number): A.BinaryOp | undefined {
    const s = this.src;
    const c = s.charCodeAt(q);
    const d = s.charCodeAt(q + 1);
    switch (c) {
      case 124: return d === 124 ? '||' : undefined; // |
      case 38: return d === 38 ? '&&' : undefined; // &
      case 61: return d === 61 ? '==' : undefined; // =
      case 33: return d === 61 ? '!=' : undefined; // !
      case 60: return d === 61 ? '<=' : '<';
      case 62: return d === 61 ? '>=' : '>';
      case 43: return d === 61 ? undefined : '+';
      case 45: return d === 61 || d === 62 ? undefined : '-';
      case 42: return d === 42 ? '**' : d === 61 ? undefined : '*';
      case 47: return d === 61 ? undefined : '/';
      case 37: return '%';
      case 64: return '@';
      case 0x2299: return '⊙';
      case 0x2297: return '⊗';
      default: return undefined;
    }
  }

  private enter(at: number): void {
    if (++this.depth > MAX_NESTING) {
      throw new NestingError([{ message: `nesting deeper than ${MAX_NESTING} (brackets, blocks, else-ifs, unary and postfix operators)`, span: this.span(at, at + 1) }], this.src);
    }
  }

  // ---- the program

  /** Item* end: true when the whole text matched; otherwise items.length is the index of the item that failed. */
  program(): boolean {
    for (;;) {
      this.blockMemo = new Map();
      this.typeArgsMemo = new Map();
      const q = this.skip(this.pos);
      if (q >= this.len) return true;
      const item = this.item();
      if (!item) {
        this.miss(q, 'end of input', ...ITEM_STARTS);
        return false;
      }
      this.itemStarts.push(q);
      this.items.push(item);
    }
  }

  /** A syntax error at the furthest token tried, in the grammar's words as far as they go: when Ohm cannot word it (too large a region, too deep). */
  syntaxError(file: string): DiagnosticError {
    const failures = [...this.expected].map((w): Expectation => {
      const quoted = w.startsWith("'") && w.length > 2;
      return { getText: () => (quoted ? w.slice(1, -1) : w), getType: () => (quoted ? 'string' : 'description'), isFluffy: () => false };
    });
    return syntaxErrorAt(this.src, file, Math.min(this.furthest, this.len), failures);
  }

  private reset(p: number, e: number): undefined {
    this.pos = p;
    this.semErrors.length = e;
    return undefined;
  }

  private item(): A.Item | undefined {
    const q = this.skip(this.pos);
    let node: A.Item | undefined;
    switch (this.wordAt(q)) {
      case 'import': node = this.importDecl(); break;
      case 'entity': node = this.entityDecl(); break;
      case 'embedding': case 'relation_embedding': node = this.embeddingDecl(); break;
      case 'relation': node = this.relationDecl(); break;
      case 'tensor': node = this.tensorDecl(); break;
      case 'fn': node = this.fnDecl(); break;
      case 'struct': node = this.structDecl(); break;
      case 'impl': node = this.implBlock(); break;
      case 'main': node = this.namedBlock('main'); break;
      case 'test': node = this.namedBlock('test'); break;
      case 'bench': node = this.namedBlock('bench'); break;
      case 'let': node = this.letStmt(true); break;
    }
    node ??= this.stmtBody();
    if (!node) return undefined;
    while (this.lit(';'));
    return node;
  }

  // ---- declarations

  private importDecl(): A.Import | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    if (!this.kw('import')) return;
    const q = this.skip(this.pos);
    const e = this.stringEnd(q);
    if (e < 0) return this.reset(p0, this.semErrors.length);
    this.pos = e;
    return { kind: 'Import', path: decodeString(this.src.slice(q, e)), span: this.span(start, e) };
  }

  private entityDecl(): A.EntityDecl | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    if (!this.kw('entity')) return;
    const name = this.ident();
    if (name === undefined) return this.reset(p0, this.semErrors.length);
    const save = this.pos;
    let members: string[] | undefined;
    if (this.lit('=') && this.lit('{')) {
      members = this.identList();
      this.lit(',');
      if (!this.lit('}')) members = undefined;
    }
    if (!members) this.pos = save;
    return { kind: 'EntityDecl', name, ...(members && { members }), span: this.span(start, this.pos) };
  }

  /** ListOf<ident, ","> */
  private identList(): string[] {
    const names = this.listOf(() => this.ident());
    return names;
  }

  private embeddingDecl(): A.EmbeddingDecl | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    const kw = this.kw('relation_embedding') ? 'relation_embedding' : this.kw('embedding') ? 'embedding' : undefined;
    if (!kw) return;
    const name = this.ident();
    if (name === undefined || !this.lit('{')) return this.reset(p0, e0);
    const got = new Map<string, { value: unknown; start: number; end: number }>();
    for (;;) {
      // EmbeddingField = ident ":" EmbeddingValue ","?
      const save = this.pos;
      const fStart = this.skip(this.pos);
      const field = this.ident();
      if (field === undefined || !this.lit(':')) {
        this.pos = save;
        break;
      }
      let value: unknown;
      const afterColon = this.pos;
      const q = this.skip(afterColon);
      if (this.lit('{')) {
        const names = this.identList();
        this.lit(',');
        if (this.lit('}')) value = names;
        else this.pos = afterColon;
      }
      if (value === undefined) {
        const ie = isDigit(this.src.charCodeAt(q)) ? this.digitsEnd(q) : -1;
        if (ie >= 0) {
          value = Number(this.src.slice(q, ie));
          this.pos = ie;
        } else value = this.ident();
      }
      if (value === undefined) {
        this.pos = save;
        break;
      }
      this.lit(',');
      got.set(field, { value, start: fStart, end: this.pos });
    }
    if (!this.lit('}')) return this.reset(p0, e0);
    const span = this.span(start, this.pos);
    const of = kw === 'embedding' ? 'entities' : 'relations';
    const members = got.get(of)?.value;
    const dimension = got.get('dimension')?.value;
    const semErr = (message: string, s: A.Span) => this.semErrors.push({ message, span: s });
    if (members === undefined) semErr(`${kw} '${name}' needs '${of}: ...'`, span);
    else if (typeof dimension !== 'number') semErr(`${kw} '${name}' needs 'dimension: <integer>'`, span);
    else {
      for (const [k, f] of got) {
        if (![of, 'dimension', 'init'].includes(k)) {
          semErr(`unknown ${kw} field '${k}' (expected ${of}, dimension, init)`, this.span(f.start, f.end));
          break;
        }
      }
    }
    const init = got.get('init')?.value;
    return {
      kind: 'EmbeddingDecl', of, name, members: members as string[] | string, dimension: dimension as number,
      ...(typeof init === 'string' && { init }), span,
    };
  }

  private digitsEnd(q: number): number {
    let i = q;
    while (isDigit(this.src.charCodeAt(i))) i++;
    return i === q ? -1 : i;
  }

  private relationDecl(): A.RelationDecl | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    if (!this.kw('relation')) return;
    const name = this.ident();
    if (name === undefined || !this.lit('(')) return this.reset(p0, this.semErrors.length);
    const params = this.params();
    if (!params || !this.lit(')')) return this.reset(p0, this.semErrors.length);
    const save = this.pos;
    let embed: A.TensorType | undefined;
    if (this.kw('embed')) embed = this.tensorType();
    if (!embed) this.pos = save;
    return { kind: 'RelationDecl', name, params, ...(embed && { embed }), span: this.span(start, this.pos) };
  }

  /** Params = ListOf<Param, ","> ","? */
  private params(): A.Param[] {
    const out: A.Param[] = [];
    const param = (): A.Param | undefined => {
      const start = this.skip(this.pos);
      const name = this.ident();
      if (name === undefined) return;
      const type = this.optTypeAnnotation();
      return { kind: 'Param', name, ...(type && { type }), span: this.span(start, this.pos) };
    };
    out.push(...this.listOf(param));
    this.lit(',');
    return out;
  }

  /** (":" Type)? */
  private optTypeAnnotation(): A.TypeRef | undefined {
    const save = this.pos;
    if (!this.lit(':')) return;
    const t = this.type();
    if (!t) this.pos = save;
    return t;
  }

  private tensorDecl(): A.TensorDecl | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('tensor')) return;
    const name = this.ident();
    if (name === undefined || !this.lit(':')) return this.reset(p0, e0);
    const type = this.tensorType();
    if (!type) return this.reset(p0, e0);
    const save = this.pos;
    let init: A.Expr | undefined;
    if (this.lit('=')) init = this.expr();
    if (!init) this.pos = save;
    return { kind: 'TensorDecl', name, type, ...(init && { init }), span: this.span(start, this.pos) };
  }

  private fnDecl(): A.FnDecl | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('fn')) return;
    const name = this.ident();
    if (name === undefined || !this.lit('(')) return this.reset(p0, e0);
    const params = this.params();
    if (!this.lit(')')) return this.reset(p0, e0);
    const save = this.pos;
    let ret: A.TypeRef | undefined;
    if (this.lit('->')) ret = this.type();
    if (!ret) this.pos = save;
    const body = this.block();
    if (!body) return this.reset(p0, e0);
    return { kind: 'FnDecl', name, params, ...(ret && { ret }), body, span: this.span(start, this.pos) };
  }

  /** TypeParams = "<" NonemptyListOf<ident, ","> ">" */
  private typeParams(): string[] | undefined {
    const save = this.pos;
    if (!this.lit('<')) return;
    const names = this.identList();
    if (names.length === 0 || !this.lit('>')) {
      this.pos = save;
      return;
    }
    return names;
  }

  private structDecl(): A.StructDecl | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    if (!this.kw('struct')) return;
    const name = this.ident();
    if (name === undefined) return this.reset(p0, this.semErrors.length);
    const typeParams = this.typeParams();
    if (!this.lit('{')) return this.reset(p0, this.semErrors.length);
    const fields: A.Field[] = [];
    for (;;) {
      // Field ","?, Field = ident ":" Type learnability?
      const save = this.pos;
      const fStart = this.skip(this.pos);
      const fname = this.ident();
      const type = fname !== undefined && this.lit(':') ? this.type() : undefined;
      if (!type) {
        this.pos = save;
        break;
      }
      const l = (this.learnability() ?? (type.kind === 'TensorType' ? type.learnable : undefined)) as A.Field['learnable'];
      fields.push({ kind: 'Field', name: fname!, type, ...(l && { learnable: l }), span: this.span(fStart, this.pos) });
      this.lit(',');
    }
    if (!this.lit('}')) return this.reset(p0, this.semErrors.length);
    return { kind: 'StructDecl', name, typeParams: typeParams ?? [], fields, span: this.span(start, this.pos) };
  }

  private learnability(): 'learnable' | 'frozen' | undefined {
    return this.kw('learnable') ? 'learnable' : this.kw('frozen') ? 'frozen' : undefined;
  }

  private implBlock(): A.ImplBlock | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('impl')) return;
    const typeParams = this.typeParams();
    // ImplTrait? = (ident kw<"for">)?
    let trait: string | undefined;
    const save = this.pos;
    const t = this.ident();
    if (t !== undefined && this.kw('for')) trait = t;
    else this.pos = save;
    const target = this.namedType();
    if (!target || !this.lit('{')) return this.reset(p0, e0);
    const methods: A.FnDecl[] = [];
    for (let m = this.fnDecl(); m; m = this.fnDecl()) methods.push(m);
    if (!this.lit('}')) return this.reset(p0, e0);
    return { kind: 'ImplBlock', typeParams: typeParams ?? [], ...(trait && { trait }), target, methods, span: this.span(start, this.pos) };
  }

  /** MainBlock, TestBlock, BenchBlock */
  private namedBlock(kw: 'main' | 'test' | 'bench'): A.MainBlock | A.TestBlock | A.BenchBlock | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw(kw)) return;
    const name = kw === 'main' ? '' : this.ident();
    if (name === undefined) return this.reset(p0, e0);
    const body = this.block();
    if (!body) return this.reset(p0, e0);
    const span = this.span(start, this.pos);
    if (kw === 'main') return { kind: 'MainBlock', body, span };
    return { kind: kw === 'test' ? 'TestBlock' : 'BenchBlock', name, body, span };
  }

  // ---- types

  private type(): A.TypeRef | undefined {
    return this.tensorType() ?? this.tupleType() ?? this.namedType();
  }

  private tensorType(): A.TensorType | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const e = this.wordEnd(q);
    if (e < 0 || !DTYPES.has(this.src.slice(q, e))) return this.miss(q, ...TYPE_STARTS);
    this.pos = e;
    if (!this.lit('[')) return this.reset(p0, this.semErrors.length);
    const dims: A.Dim[] = [];
    const dim = (): A.Dim | undefined => {
      const r = this.skip(this.pos);
      const de = this.digitsEnd(r);
      if (de >= 0) {
        this.pos = de;
        return Number(this.src.slice(r, de));
      }
      if (this.lit('?')) return '?';
      const n = this.ident();
      return n === undefined ? undefined : /^\d+$/.test(n) ? Number(n) : n;
    };
    dims.push(...this.listOf(dim));
    if (!this.lit(']')) return this.reset(p0, this.semErrors.length);
    const l = this.learnability();
    return { kind: 'TensorType', dtype: this.src.slice(q, e) as A.DType, dims, ...(l && { learnable: l }), span: this.span(q, this.pos) };
  }

  private tupleType(): A.TupleType | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    if (!this.lit('(')) return;
    if (this.depth >= MAX_NESTING) return this.reset(p0, this.semErrors.length); // the grammar's fallback decides
    this.depth++;
    const first = this.type();
    const elems = first && this.lit(',') ? this.typeList() : undefined;
    this.depth--;
    if (!first || !elems || !this.lit(')')) return this.reset(p0, this.semErrors.length);
    return { kind: 'TupleType', elems: [first, ...elems], span: this.span(q, this.pos) };
  }

  /** NonemptyListOf<Type, ","> */
  private typeList(): A.TypeRef[] | undefined {
    const out = this.listOf(() => this.type());
    return out.length ? out : undefined;
  }

  private namedType(): A.NamedType | undefined {
    const q = this.skip(this.pos);
    const name = this.ident();
    if (name === undefined) return;
    const args = this.typeArgs();
    return { kind: 'NamedType', name, args: args ?? [], span: this.span(q, this.pos) };
  }

  /** TypeArgs = "<" NonemptyListOf<Type, ","> ">", memoized: `a < b` tries it at every name. */
  private typeArgs(): A.TypeRef[] | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    if (this.src.charCodeAt(q) !== 60) return this.miss(q);
    const memo = this.typeArgsMemo.get(q);
    if (memo) {
      if (memo.types) this.pos = memo.end;
      return memo.types;
    }
    // Past the nesting limit a type list simply fails here; the grammar's fallback has the last word.
    if (this.depth >= MAX_NESTING) return;
    this.depth++;
    this.pos = q + 1;
    const types = this.typeList();
    this.depth--;
    if (!types || !this.lit('>')) {
      this.typeArgsMemo.set(q, { end: -1 });
      this.pos = p0;
      return;
    }
    this.typeArgsMemo.set(q, { end: this.pos, types });
    return types;
  }

  // ---- statements

  /** Block = "{" Stmt* "}", memoized by position. */
  private block(): A.Block | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    if (this.src.charCodeAt(q) !== 123) return this.miss(q);
    const memo = this.blockMemo.get(q);
    if (memo) {
      if (!memo.node) return;
      this.pos = memo.end;
      this.semErrors.push(...memo.errs);
      return memo.node;
    }
    const e0 = this.semErrors.length;
    const depth = this.depth;
    this.enter(q);
    this.pos = q + 1;
    const parsed: Stmted[] = [];
    for (;;) {
      const stmt = this.stmtBody();
      if (!stmt) {
        this.miss(this.skip(this.pos), ...STMT_STARTS);
        break;
      }
      let semi = false;
      while (this.lit(';')) semi = true;
      parsed.push({ stmt, semi });
    }
    this.depth = depth;
    if (!this.lit('}')) {
      this.blockMemo.set(q, { end: -1, errs: [] });
      return this.reset(p0, e0);
    }
    const last = parsed[parsed.length - 1];
    const tail = last && !last.semi && last.stmt.kind === 'ExprStmt' ? (parsed.pop(), last.stmt.expr) : undefined;
    const node: A.Block = { kind: 'Block', stmts: parsed.map((p) => p.stmt), ...(tail && { tail }), span: this.span(q, this.pos) };
    this.blockMemo.set(q, { end: this.pos, node, errs: this.semErrors.slice(e0) });
    return node;
  }

  private stmtBody(): A.Stmt | undefined {
    const q = this.skip(this.pos);
    let node: A.Stmt | undefined;
    switch (this.wordAt(q)) {
      case 'let': node = this.letTuple() ?? this.letStmt(false); break;
      case 'if': node = this.ifStmt(); break;
      case 'for': node = this.forStmt(); break;
      case 'while': node = this.whileStmt(); break;
      case 'loop': node = this.loopStmt(); break;
      case 'break': node = this.kw('break') ? { kind: 'Break', span: this.span(q, this.pos) } : undefined; break;
      case 'continue': node = this.kw('continue') ? { kind: 'Continue', span: this.span(q, this.pos) } : undefined; break;
      case 'return': node = this.returnStmt(); break;
      case 'with': node = this.withStmt(); break;
      case 'infer': node = this.infer(); break;
      case 'learn': node = this.learn(); break;
      case 'python': node = this.pythonImport(); break;
      case 'tensor': node = this.tensorDecl(); break;
      case 'test': node = this.namedBlock('test') as A.TestBlock | undefined; break;
      case 'bench': node = this.namedBlock('bench') as A.BenchBlock | undefined; break;
    }
    if (node) return node;
    return this.query() ?? this.ruleDecl() ?? this.assign() ?? this.blockStmt() ?? this.exprStmt();
  }

  /** Let (in a block) or GlobalLet (at the top level, where the value may be left out). */
  private letStmt(global: boolean): A.Let | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('let')) return;
    const name = this.ident();
    if (name === undefined) return this.reset(p0, e0);
    const type = this.optTypeAnnotation();
    const save = this.pos;
    const init = this.lit('=') ? this.expr() : undefined;
    if (!init) {
      if (!global) return this.reset(p0, e0);
      this.pos = save;
    }
    return { kind: 'Let', name, ...(type && { type }), ...(init && { init }), span: this.span(start, this.pos) } as A.Let;
  }

  private letTuple(): A.LetTuple | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('let') || !this.lit('(')) return this.reset(p0, e0);
    const names = this.identList();
    if (names.length === 0 || !this.lit(')') || !this.lit('=')) return this.reset(p0, e0);
    const init = this.expr();
    if (!init) return this.reset(p0, e0);
    return { kind: 'LetTuple', names, init, span: this.span(start, this.pos) };
  }

  /** If = kw<"if"> Expr Block (kw<"else"> (If | Block))?, an `else if` chain as a loop. */
  private ifStmt(): A.If | undefined {
    const [p0, e0] = [this.pos, this.semErrors.length];
    const depth = this.depth;
    const head = (): { start: number; cond: A.Expr; then: A.Block } | undefined => {
      const s = this.skip(this.pos);
      if (!this.kw('if')) return;
      const cond = this.expr();
      const then = cond && this.block();
      return then ? { start: s, cond: cond!, then } : undefined;
    };
    const first = head();
    if (!first) return this.reset(p0, e0);
    const levels = [first];
    let last: A.Block | undefined;
    for (;;) {
      const [save, se] = [this.pos, this.semErrors.length];
      if (!this.kw('else')) break;
      const afterElse = this.pos;
      if (this.wordAt(this.skip(afterElse)) === 'if') {
        this.enter(this.skip(afterElse));
        const next = head();
        if (next) {
          levels.push(next);
          continue;
        }
        this.depth--;
        this.reset(afterElse, se);
      }
      last = this.block();
      if (!last) this.reset(save, se);
      break;
    }
    this.depth = depth;
    const end = this.pos;
    let node: A.Block | A.If | undefined = last;
    for (let i = levels.length - 1; i >= 0; i--) {
      const l = levels[i];
      node = { kind: 'If', cond: l.cond, then: l.then, ...(node && { else: node }), span: this.span(l.start, end) };
    }
    return node as A.If;
  }

  private forStmt(): A.For | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('for')) return;
    const v = this.ident();
    if (v === undefined || !this.kw('in')) return this.reset(p0, e0);
    // Iterable = Expr ".." Expr -- range | Expr
    const iStart = this.skip(this.pos);
    let iter = this.expr();
    if (!iter) return this.reset(p0, e0);
    const save = this.pos;
    if (this.lit('..')) {
      const end = this.expr();
      if (end) iter = { kind: 'Range', start: iter, end, span: this.span(iStart, this.pos) };
      else this.pos = save;
    }
    const body = this.block();
    if (!body) return this.reset(p0, e0);
    return { kind: 'For', var: v, iter, body, span: this.span(start, this.pos) };
  }

  private whileStmt(): A.While | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('while')) return;
    const cond = this.expr();
    const body = cond && this.block();
    if (!body) return this.reset(p0, e0);
    return { kind: 'While', cond: cond!, body, span: this.span(start, this.pos) };
  }

  private loopStmt(): A.Loop | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('loop')) return;
    const body = this.block();
    if (!body) return this.reset(p0, e0);
    return { kind: 'Loop', body, span: this.span(start, this.pos) };
  }

  private returnStmt(): A.Return | undefined {
    const start = this.skip(this.pos);
    if (!this.kw('return')) return;
    const value = this.expr();
    return { kind: 'Return', ...(value && { value }), span: this.span(start, this.pos) };
  }

  private withStmt(): A.With | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('with')) return;
    const name = this.ident();
    const body = name !== undefined ? this.block() : undefined;
    if (!body) return this.reset(p0, e0);
    return { kind: 'With', name: name!, body, span: this.span(start, this.pos) };
  }

  private infer(): A.Infer | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('infer')) return;
    const inferItem = (): A.Infer['items'][number] | undefined => {
      const save = this.pos;
      const q = this.skip(this.pos);
      const w = this.wordAt(q);
      if (w !== 'forward' && w !== 'backward' && w !== 'gradient' && w !== 'symbolic') return;
      this.pos = q + w.length;
      const query = this.query();
      if (!query) {
        this.pos = save;
        return;
      }
      return { method: w, query };
    };
    let items: A.Infer['items'] | undefined;
    const save = this.pos;
    if (this.lit('{')) {
      items = [];
      for (let it = inferItem(); it; it = inferItem()) items.push(it);
      if (!this.lit('}')) {
        items = undefined;
        this.pos = save;
      }
    }
    if (!items) {
      const one = inferItem();
      if (!one) return this.reset(p0, e0);
      items = [one];
    }
    return { kind: 'Infer', items, span: this.span(start, this.pos) };
  }

  private learn(): A.Learn | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('learn') || !this.lit('{')) return this.reset(p0, e0);
    const settings: A.LearnSetting[] = [];
    const stmts: A.Stmt[] = [];
    for (;;) {
      const setting = this.learnSetting();
      if (setting) {
        settings.push(setting);
        this.lit(',');
        continue;
      }
      const stmt = this.stmtBody();
      if (!stmt) break;
      while (this.lit(';'));
      stmts.push(stmt);
    }
    if (!this.lit('}')) return this.reset(p0, e0);
    const span = this.span(start, this.pos);
    return { kind: 'Learn', settings, body: { kind: 'Block', stmts, span: this.span(start, this.pos) }, span };
  }

  /** LearnSetting = ident ":" (Optimizer | Expr) */
  private learnSetting(): A.LearnSetting | undefined {
    const p0 = this.pos;
    const start = this.skip(p0);
    const name = this.ident();
    if (name === undefined || !this.lit(':')) {
      this.pos = p0;
      return;
    }
    let value: A.Expr | A.Optimizer | undefined = this.optimizer() ?? this.expr();
    if (!value) {
      this.pos = p0;
      return;
    }
    // `optimizer: adam()` names an optimizer whatever its argument list.
    if (['optimizer', 'scheduler'].includes(name) && value.kind === 'Call' && value.callee.kind === 'Ident' && value.args.length === 0) {
      value = { kind: 'Optimizer', name: value.callee.name, params: [], span: value.span };
    }
    return { kind: 'LearnSetting', name, value, span: this.span(start, this.pos) };
  }

  /** Optimizer = ident "(" NonemptyListOf<OptimizerParam, ","> ","? ")" */
  private optimizer(): A.Optimizer | undefined {
    const p0 = this.pos;
    const start = this.skip(p0);
    const name = this.ident();
    if (name === undefined || !this.lit('(')) {
      this.pos = p0;
      return;
    }
    const params = this.namedValues(['=', ':'], ')', p0);
    if (!params) return;
    return { kind: 'Optimizer', name, params, span: this.span(start, this.pos) };
  }

  private pythonImport(): A.PythonImport | undefined {
    const [p0, e0, start] = [this.pos, this.semErrors.length, this.skip(this.pos)];
    if (!this.kw('python') || !this.kw('import')) return this.reset(p0, e0);
    // dottedName = ident ("." ident)*, lexical: no spaces inside
    const q = this.skip(this.pos);
    let e = this.identEnd(q);
    if (e < 0) return this.reset(p0, e0);
    for (let n; this.src.charCodeAt(e) === 46 && (n = this.identEnd(e + 1)) >= 0; ) e = n;
    this.pos = e;
    const save = this.pos;
    let alias: string | undefined;
    if (this.kw('as')) alias = this.ident();
    if (alias === undefined) this.pos = save;
    return { kind: 'PythonImport', module: this.src.slice(q, e), ...(alias && { alias }), span: this.span(start, this.pos) };
  }

  /** Atom = callee "(" Args ")", the head of a query or a rule (memoized: both try it). */
  private atom(): A.Call | undefined {
    const q = this.skip(this.pos);
    if (this.atomMemo.at === q) {
      if (this.atomMemo.node) this.pos = this.atomMemo.end;
      return this.atomMemo.node;
    }
    const node = this.plainCall();
    this.atomMemo = { at: q, end: this.pos, node };
    return node;
  }

  /** callee "(" Args ")" (Call_plain, Atom) */
  private plainCall(): A.Call | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const e = this.identEnd(q);
    if (e < 0) return this.miss(q);
    const paren = this.sameLineParen(e);
    if (paren < 0) return this.miss(e);
    const args = this.argsFrom(paren, p0);
    if (!args) return;
    const callee: A.Ident = { kind: 'Ident', name: this.src.slice(q, e), span: this.span(q, e) };
    return { kind: 'Call', callee, args, span: this.span(q, this.pos) };
  }

  private query(): A.Query | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    const atom = this.atom();
    if (!atom || !this.lit('?')) {
      this.pos = p0;
      return;
    }
    const save = this.pos;
    let where: A.Expr[] = [];
    if (this.kw('where')) {
      const conds = this.literalList();
      if (conds) where = conds;
      else this.pos = save;
    }
    return { kind: 'Query', atom, where, span: this.span(start, this.pos) };
  }

  private ruleDecl(): A.RuleDecl | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    const head = this.atom();
    const body = head && this.lit('<-') ? this.literalList() : undefined;
    if (!body) {
      this.pos = p0;
      return;
    }
    return { kind: 'RuleDecl', head: head!, body, span: this.span(start, this.pos) };
  }

  /** NonemptyListOf<Literal, ",">: conditions where `not X` is `!X`. */
  private literalList(): A.Expr[] | undefined {
    const out = this.listOf(() => {
      const [p0, start] = [this.pos, this.skip(this.pos)];
      if (!this.kw('not')) return this.expr();
      const operand = this.expr();
      if (!operand) {
        this.pos = p0;
        return this.expr(); // `not` as a name
      }
      return { kind: 'Unary', op: '!', operand, span: this.span(start, this.pos) } as A.Unary;
    });
    return out.length ? out : undefined;
  }

  /** NonemptyListOf<Expr, ","> */
  private exprList(): A.Expr[] | undefined {
    const out = this.listOf(() => this.expr());
    return out.length ? out : undefined;
  }

  private assign(): A.Assign | undefined {
    const [p0, e0] = [this.pos, this.semErrors.length];
    const target = this.postfix();
    if (!target) return;
    // assignOp = ":=" | "+=" | "-=" | "*=" | "/=" | "=" ~("=" | ">")
    const q = this.skip(this.pos);
    const s = this.src;
    const c = s.charCodeAt(q);
    const d = s.charCodeAt(q + 1);
    let op: A.Assign['op'] | undefined;
    if (d === 61 && (c === 58 || c === 43 || c === 45 || c === 42 || c === 47)) op = s.slice(q, q + 2) as A.Assign['op'];
    else if (c === 61 && d !== 61 && d !== 62) op = '=';
    if (!op) return this.reset(p0, e0);
    this.pos = q + op.length;
    const t = target.expr;
    if (t.kind !== 'Ident' && t.kind !== 'Index' && t.kind !== 'Member') {
      this.semErrors.push({ message: `cannot assign to this expression: the left of '${op}' must be a name, an index or a field`, span: this.span(target.start, target.end) });
    }
    const value = this.expr();
    if (!value) return this.reset(p0, e0);
    return { kind: 'Assign', op, target: t as A.Assign['target'], value, span: this.span(target.start, this.pos) };
  }

  private blockStmt(): A.BlockStmt | undefined {
    const body = this.block();
    return body && { kind: 'BlockStmt', body, span: this.span(body.span.start, body.span.end) };
  }

  private exprStmt(): A.ExprStmt | undefined {
    const start = this.skip(this.pos);
    const expr = this.expr();
    return expr && { kind: 'ExprStmt', expr, span: this.span(start, this.pos) };
  }

  // ---- expressions

  /** Expr = Unary (binop Unary | kw<"as"> ident)*, the tree built by precedence (BINARY_PRECEDENCE). */
  expr(): A.Expr | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const depth = this.depth;
    this.enter(q);
    const first = this.unary();
    if (!first) {
      this.depth = depth;
      this.pos = p0;
      return;
    }
    const operands: Part[] = [first];
    const ops: (A.BinaryOp | 'as')[] = [];
    for (;;) {
      const save = this.pos;
      const r = this.skip(save);
      const op = this.binopAt(r);
      if (op) {
        this.pos = r + op.length;
        const right = this.unary();
        if (right) {
          ops.push(op);
          operands.push(right);
          continue;
        }
        this.pos = save;
        break;
      }
      this.miss(r, 'an operator');
      if (this.kw('as')) {
        const start = this.skip(this.pos);
        const name = this.ident();
        if (name !== undefined) {
          ops.push('as');
          operands.push({ expr: { kind: 'Ident', name, span: this.span(start, this.pos) }, start, end: this.pos });
          continue;
        }
      }
      this.pos = save;
      break;
    }
    this.depth = depth;
    return ops.length === 0 ? first.expr : this.tree(operands, ops);
  }

  /** Precedence climbing over a flat operand list, every operator left-associative (as binaryTree). */
  private tree(operands: Part[], ops: (A.BinaryOp | 'as')[]): A.Expr {
    let i = 0;
    const climb = (node: Part, minPrec: number): Part => {
      let left = node;
      while (i < ops.length && BINARY_PRECEDENCE[ops[i]] >= minPrec) {
        const op = ops[i];
        const rightNode = operands[++i];
        if (op === 'as') {
          const end = rightNode.end;
          left = { expr: { kind: 'Cast', expr: left.expr, to: (rightNode.expr as A.Ident).name, span: this.span(left.start, end) }, start: left.start, end };
        } else {
          const right = climb(rightNode, BINARY_PRECEDENCE[op] + 1);
          left = { expr: { kind: 'Binary', op, left: left.expr, right: right.expr, span: this.span(left.start, right.end) }, start: left.start, end: right.end };
        }
      }
      return left;
    };
    return climb(operands[0], 0).expr;
  }

  /** Unary = ("-" | "!" ~"=" | kw<"inv">) Unary -- op | Postfix, as a loop over the operators. */
  private unary(): Part | undefined {
    const p0 = this.pos;
    const depth = this.depth;
    const ops: { op: '-' | '!' | 'inv'; at: number }[] = [];
    const s = this.src;
    for (;;) {
      const q = this.skip(this.pos);
      const c = s.charCodeAt(q);
      let op: '-' | '!' | 'inv' | undefined;
      if (c === 45) op = '-';
      else if (c === 33 && s.charCodeAt(this.skip(q + 1)) !== 61) op = '!';
      else if (c === 105 && s.startsWith('inv', q) && identPartLen(s, q + 3) === 0) op = 'inv';
      if (!op) break;
      this.enter(q);
      ops.push({ op, at: q });
      this.pos = q + op.length;
    }
    let operand = this.postfix();
    // An operator whose operand fails leaves Postfix to try at its place: `inv` may be a name there.
    while (!operand && ops.length > 0) {
      const { op, at } = ops.pop()!;
      if (op !== 'inv') continue;
      this.pos = at;
      operand = this.postfix();
    }
    this.depth = depth;
    if (!operand) {
      this.pos = p0;
      return;
    }
    let expr = operand.expr;
    const end = operand.end;
    for (let i = ops.length - 1; i >= 0; i--) {
      const { op, at } = ops[i];
      // `-2.0` is one literal, so shapes and constants read as numbers.
      if (op === '-' && expr.kind === 'Lit' && (expr.type === 'int' || expr.type === 'float') && !expr.text.startsWith('-')) {
        expr = numberLit(this.span(at, end), `-${expr.text}`);
      } else {
        expr = { kind: 'Unary', op, operand: expr, span: this.span(at, end) };
      }
    }
    return { expr, start: ops.length ? ops[0].at : operand.start, end };
  }

  /** Postfix = Primary (~#(lineBreakBefore<"[">) PostfixOp)*, memoized (Assign and Expr both try it). */
  private postfix(): Part | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    if (this.postfixMemo.at === q) {
      if (this.postfixMemo.node) this.pos = this.postfixMemo.end;
      return this.postfixMemo.node;
    }
    const node = this.postfixChain(q);
    if (!node) this.pos = p0;
    this.postfixMemo = { at: q, end: this.pos, node };
    return node;
  }

  private postfixChain(q: number): Part | undefined {
    const depth = this.depth;
    let target = this.primary();
    if (!target) return;
    const s = this.src;
    for (;;) {
      const save = this.pos;
      if (this.lineBreakThenBracket(save)) break;
      const r = this.skip(save);
      const c = s.charCodeAt(r);
      let next: A.Expr | undefined;
      if (c === 46) {
        // "." callee "(" Args ")" -- method | "." memberName -- member
        const n = this.skip(r + 1);
        const e = this.identEnd(n);
        const paren = e >= 0 ? this.sameLineParen(e) : -1;
        if (paren >= 0) {
          this.enter(r);
          this.pos = paren + 1;
          const args = this.args();
          if (this.lit(')')) next = { kind: 'MethodCall', target, name: s.slice(n, e), args, span: this.span(q, this.pos) };
        }
        if (!next) {
          const m = e >= 0 ? e : this.digitsEnd(n);
          if (m < 0) this.miss(n, 'a field or method name');
          if (m >= 0) {
            this.enter(r);
            this.pos = m;
            next = { kind: 'Member', target, name: s.slice(n, m), span: this.span(q, m) };
          }
        }
      } else if (c === 91) {
        this.enter(r);
        this.pos = r + 1;
        const indices = this.indices();
        if (indices && this.lit(']')) next = { kind: 'Index', target, indices, span: this.span(q, this.pos) };
      }
      if (!next) {
        this.miss(r, "'.'", "'['");
        this.pos = save;
        break;
      }
      target = next;
    }
    this.depth = depth;
    return { expr: target, start: q, end: this.pos };
  }

  /** Args = ListOf<Expr, ","> ","? */
  private args(): A.Expr[] {
    const list = this.exprList() ?? [];
    this.lit(',');
    return list;
  }

  /** Indices = NonemptyListOf<IndexItem, ",">; IndexItem = Slice | Expr; Slice = Expr? ":" Expr? (":" Expr?)? */
  private indices(): (A.Expr | A.Slice)[] | undefined {
    const item = (): A.Expr | A.Slice | undefined => {
      const p0 = this.pos;
      const q = this.skip(p0);
      const start = this.expr();
      if (!this.lit(':')) {
        if (!start) this.pos = p0;
        return start;
      }
      const end = this.expr();
      let step: A.Expr | undefined;
      const save = this.pos;
      if (this.lit(':')) step = this.expr(); // `(":" Expr?)`: the colon stays even without a step
      else this.pos = save;
      return { kind: 'Slice', ...(start && { start }), ...(end && { end }), ...(step && { step }), span: this.span(q, this.pos) };
    };
    const out = this.listOf(item);
    return out.length ? out : undefined;
  }

  private primary(): A.Expr | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const s = this.src;
    const c = s.charCodeAt(q);
    if (c === 40) {
      // "(" Expr "," ListOf<Expr, ","> ","? ")" -- tuple | "(" Expr ")" -- paren
      this.pos = q + 1;
      const first = this.expr();
      if (first) {
        if (this.lit(',')) {
          const rest = this.exprList() ?? [];
          this.lit(',');
          if (this.lit(')')) return { kind: 'TupleLit', elements: [first, ...rest], span: this.span(q, this.pos) };
        } else if (this.lit(')')) return first;
      }
      this.pos = p0;
      return;
    }
    if (c === 91) {
      // "[" Expr ";" Expr "]" -- repeat | "[" ListOf<Expr, ","> ","? "]" -- list
      this.pos = q + 1;
      const first = this.expr();
      if (first && this.lit(';')) {
        const count = this.expr();
        if (count && this.lit(']')) return { kind: 'ListRepeat', value: first, count, span: this.span(q, this.pos) };
        this.pos = p0;
        return;
      }
      let elements: A.Expr[] = [];
      if (first) {
        elements = [first];
        for (;;) {
          const save = this.pos;
          if (!this.lit(',')) break;
          const e = this.expr();
          if (!e) {
            this.pos = save;
            break;
          }
          elements.push(e);
        }
      }
      this.lit(',');
      if (this.lit(']')) return { kind: 'ListLit', elements, span: this.span(q, this.pos) };
      this.pos = p0;
      return;
    }
    if (isDigit(c)) {
      const e = this.numberEnd(q);
      this.pos = e;
      return numberLit(this.span(q, e), s.slice(q, e));
    }
    if (c === 34) {
      const e = this.stringEnd(q);
      if (e < 0) return this.miss(q, 'a string');
      this.pos = e;
      return { kind: 'Lit', type: 'string', value: decodeString(s.slice(q, e)), span: this.span(q, e) };
    }
    const we = this.wordEnd(q);
    if (we < 0) return this.miss(q, ...EXPR_STARTS);
    const word = s.slice(q, we);
    switch (word) {
      case 'match':
        return this.matchExpr();
      case 'if':
        return this.ifExpr();
      case 'true':
      case 'false':
        this.pos = we;
        return { kind: 'Lit', type: 'bool', value: word === 'true', span: this.span(q, we) };
    }
    if (RESERVED.has(word)) return this.miss(q, ...EXPR_STARTS);
    const node = this.assocCall() ?? this.structLit() ?? this.plainCall() ?? this.genericCall();
    if (node) return node;
    this.pos = we;
    return { kind: 'Ident', name: word, span: this.span(q, we) };
  }

  private matchExpr(): A.Match | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    this.kw('match');
    const subject = this.expr();
    if (!subject || !this.lit('{')) {
      this.pos = p0;
      return;
    }
    const arm = (): A.MatchArm | undefined => {
      const save = this.pos;
      const s = this.skip(this.pos);
      const pattern = this.pattern();
      if (!pattern) return;
      const gSave = this.pos;
      let guard: A.Expr | undefined;
      if (this.kw('if')) guard = this.expr();
      if (!guard) this.pos = gSave;
      const body = this.lit('=>') ? this.expr() : undefined;
      if (!body) {
        this.pos = save;
        return;
      }
      return { kind: 'MatchArm', pattern, ...(guard && { guard }), body, span: this.span(s, this.pos) };
    };
    const arms = this.listOf(arm);
    this.lit(',');
    if (!this.lit('}')) {
      this.pos = p0;
      return;
    }
    return { kind: 'Match', subject, arms, span: this.span(start, this.pos) };
  }

  /** Pattern = NonemptyListOf<PatternTerm, "|"> */
  private pattern(): A.Pattern | undefined {
    const p0 = this.pos;
    const start = this.skip(p0);
    const depth = this.depth;
    this.enter(start);
    const alts: A.Pattern[] = [];
    for (let t = this.patternTerm(); t; ) {
      alts.push(t);
      const save = this.pos;
      if (!this.lit('|')) break;
      t = this.patternTerm();
      if (!t) this.pos = save;
    }
    this.depth = depth;
    if (alts.length === 0) {
      this.pos = p0;
      return;
    }
    return alts.length === 1 ? alts[0] : { kind: 'OrPat', alts, span: this.span(start, this.pos) };
  }

  private patternTerm(): A.Pattern | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const s = this.src;
    const c = s.charCodeAt(q);
    // "_" ~identPart -- wildcard (in a syntactic rule: the lookahead skips spaces first)
    if (c === 95 && identPartLen(s, this.skip(q + 1)) === 0) {
      this.pos = q + 1;
      return { kind: 'WildcardPat', span: this.span(q, q + 1) };
    }
    // "-" number -- neg
    if (c === 45) {
      const n = this.skip(q + 1);
      const e = isDigit(s.charCodeAt(n)) ? this.numberEnd(n) : -1;
      if (e >= 0) {
        this.pos = e;
        const span = this.span(q, e);
        return { kind: 'LitPat', value: numberLit(this.span(q, e), `-${s.slice(n, e)}`), span } as A.Pattern;
      }
      return this.miss(q);
    }
    // literal -- lit
    let lit: A.Lit | undefined;
    if (isDigit(c)) {
      const e = this.numberEnd(q);
      this.pos = e;
      lit = numberLit(this.span(q, e), s.slice(q, e));
    } else if (c === 34) {
      const e = this.stringEnd(q);
      if (e >= 0) {
        this.pos = e;
        lit = { kind: 'Lit', type: 'string', value: decodeString(s.slice(q, e)), span: this.span(q, e) };
      }
    } else {
      const w = this.wordAt(q);
      if (w === 'true' || w === 'false') {
        this.pos = q + w.length;
        lit = { kind: 'Lit', type: 'bool', value: w === 'true', span: this.span(q, this.pos) };
      }
    }
    if (lit) return { kind: 'LitPat', value: lit, span: this.span(q, this.pos) } as A.Pattern;
    // "(" NonemptyListOf<Pattern, ","> ")" -- tuple
    if (c === 40) {
      this.pos = q + 1;
      const elems = this.listOf(() => this.pattern());
      if (elems.length > 0 && this.lit(')')) return { kind: 'TuplePat', elems, span: this.span(q, this.pos) } as A.Pattern;
      this.pos = p0;
      return;
    }
    // NamedType "{" ListOf<FieldPattern, ","> ","? "}" -- struct
    const type = this.namedType();
    if (type && this.lit('{')) {
      const fields: { name: string; pattern: A.Pattern; span: A.Span }[] = [];
      const field = () => {
        const save = this.pos;
        const fs = this.skip(this.pos);
        const name = this.ident();
        const pattern = name !== undefined && this.lit(':') ? this.pattern() : undefined;
        if (!pattern) {
          this.pos = save;
          return;
        }
        return { name: name!, pattern, span: this.span(fs, this.pos) };
      };
      fields.push(...this.listOf(field));
      this.lit(',');
      if (this.lit('}')) return { kind: 'StructPat', type, fields, span: this.span(q, this.pos) } as A.Pattern;
    }
    this.pos = p0;
    // ident -- bind
    const name = this.ident();
    if (name === undefined) return;
    return { kind: 'BindPat', name, span: this.span(q, this.pos) } as A.Pattern;
  }

  private ifExpr(): A.IfExpr | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    this.kw('if');
    const cond = this.expr();
    const then = cond && this.kw('then') ? this.expr() : undefined;
    const otherwise = then && this.kw('else') ? this.expr() : undefined;
    if (!otherwise) {
      this.pos = p0;
      return;
    }
    return { kind: 'IfExpr', cond: cond!, then: then!, else: otherwise, span: this.span(start, this.pos) };
  }

  /** AssocCall = NamedType "::" callee "(" Args ")" */
  private assocCall(): A.AssocCall | undefined {
    const [p0, start] = [this.pos, this.skip(this.pos)];
    const type = this.namedType();
    if (!type || !this.lit('::')) {
      this.pos = p0;
      return;
    }
    const q = this.skip(this.pos);
    const e = this.identEnd(q);
    const paren = e >= 0 ? this.sameLineParen(e) : -1;
    if (paren < 0) {
      this.pos = p0;
      return;
    }
    const args = this.argsFrom(paren, p0);
    if (!args) return;
    return { kind: 'AssocCall', type, name: this.src.slice(q, e), args, span: this.span(start, this.pos) };
  }

  /** StructLit = structName TypeArgs? "{" NonemptyListOf<FieldInit, ","> ","? "}" */
  private structLit(): A.StructLit | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const c = this.src.charCodeAt(q);
    if (!(c >= 65 && c <= 90)) return;
    const name = this.ident();
    if (name === undefined) return;
    const nameEnd = this.pos;
    const typeArgs = this.typeArgs();
    const type: A.NamedType = { kind: 'NamedType', name, args: typeArgs ?? [], span: this.span(q, typeArgs ? this.pos : nameEnd) };
    if (!this.lit('{')) {
      this.pos = p0;
      return;
    }
    const fields = this.namedValues([':'], '}', p0);
    if (!fields) return;
    return { kind: 'StructLit', type, fields, span: this.span(q, this.pos) };
  }

  /**
   * `name SEP expr, ...` (an optional trailing comma), then `close`: optimizer parameters and struct
   * fields. Undefined, with the position back at p0, when there is not at least one pair and the close.
   */
  private namedValues(seps: string[], close: string, p0: number): { name: string; value: A.Expr; span: A.Span }[] | undefined {
    const pair = () => {
      const save = this.pos;
      const s = this.skip(this.pos);
      const n = this.ident();
      const value = n !== undefined && seps.some((sep) => this.lit(sep)) ? this.expr() : undefined;
      if (!value) {
        this.pos = save;
        return undefined;
      }
      return { name: n!, value, span: this.span(s, this.pos) };
    };
    const pairs = this.listOf(pair);
    this.lit(',');
    if (pairs.length === 0 || !this.lit(close)) {
      this.pos = p0;
      return undefined;
    }
    return pairs;
  }

  /** The arguments after the `(` at `paren`, through the `)`; undefined (position back at p0) without it. */
  private argsFrom(paren: number, p0: number): A.Expr[] | undefined {
    this.pos = paren + 1;
    const args = this.args();
    if (this.lit(')')) return args;
    this.pos = p0;
    return undefined;
  }

  /** ListOf<item, ",">: items between commas; a comma with no item after it is left unread. */
  private listOf<T>(item: () => T | undefined): T[] {
    const out: T[] = [];
    for (let x = item(); x !== undefined; ) {
      out.push(x);
      const save = this.pos;
      if (!this.lit(',')) break;
      x = item();
      if (x === undefined) this.pos = save;
    }
    return out;
  }

  /** ident TypeArgs #(sameLine "(") Args ")" -- generic */
  private genericCall(): A.Call | undefined {
    const p0 = this.pos;
    const q = this.skip(p0);
    const name = this.ident();
    if (name === undefined) return;
    const nameEnd = this.pos;
    const typeArgs = this.typeArgs();
    const paren = typeArgs ? this.sameLineParen(this.pos) : -1;
    if (paren < 0) {
      this.pos = p0;
      return;
    }
    const args = this.argsFrom(paren, p0);
    if (!args) return;
    const callee: A.Ident = { kind: 'Ident', name, span: this.span(q, nameEnd) };
    return { kind: 'Call', callee, typeArgs: typeArgs!, args, span: this.span(q, this.pos) };
  }
}
