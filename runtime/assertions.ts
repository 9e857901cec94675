// The assertion builtins as host functions: assert, assert_eq, assert_about_eq (the original's three).
// The compiler passes each call's "file:line:col" as its last argument, so a failure names its place;
// equality failures show both values. The build runs the same checks to fold ones known at build
// time (compiler/lower/assertions.ts).
import { TlcError } from './errors.ts';

/** What the checks see: host values, tensors already read back as numbers or flat number lists. */
type Checked = unknown;

export const ASSERTIONS = new Map<string, (args: Checked[]) => null>([
  ['assert', ([cond, message, at]) => {
    if (condition(cond, at)) return null;
    throw failure(at, message === null || message === undefined ? 'assertion failed' : `assertion failed: ${typeof message === 'string' ? message : text(message)}`);
  }],
  ['assert_eq', ([left, right, at]) => {
    const diff = difference(left, right, (a, b) => a === b || (Number.isNaN(a) && Number.isNaN(b)));
    if (diff === undefined) return null;
    throw failure(at, `assert_eq failed: left is ${text(left)}, right is ${text(right)}${diff}`);
  }],
  ['assert_about_eq', ([left, right, eps, at]) => {
    if (typeof eps !== 'number') throw failure(at, `assert_about_eq: the tolerance must be a number, got ${text(eps)}`);
    // Strictly closer than eps, as the original compares.
    const diff = difference(left, right, (a, b) => Math.abs(a - b) < eps);
    if (diff === undefined) return null;
    throw failure(at, `assert_about_eq failed: left is ${text(left)}, right is ${text(right)}, not within ${eps}${diff}`);
  }],
]);

function failure(at: Checked, message: string): TlcError {
  return new TlcError(typeof at === 'string' ? `${at}: ${message}` : message);
}

function condition(v: Checked, at: Checked): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0; // a comparison read back from the device is 0 or 1
  if (Array.isArray(v) && v.length === 1) return condition(v[0], at);
  throw failure(at, `assert: the condition must be true or false, got ${text(v)}`);
}

/**
 * Undefined when `a` and `b` are equal by `same` (numbers) and exactly otherwise; else the words that
 * say where they differ ('' when the values shown say it). Nested lists compare flat, as a tensor
 * read back is flat.
 */
function difference(a: Checked, b: Checked, same: (x: number, y: number) => boolean): string | undefined {
  if (typeof a === 'boolean' && typeof b === 'number') a = Number(a); // a device comparison reads back as 0 or 1
  if (typeof b === 'boolean' && typeof a === 'number') b = Number(b);
  if (typeof a === 'number' && typeof b === 'number') return same(a, b) ? undefined : '';
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b ? undefined : '';
  const [xs, ys] = [a.flat(Infinity), b.flat(Infinity)];
  if (xs.length !== ys.length) return ` (${xs.length} elements against ${ys.length})`;
  for (let i = 0; i < xs.length; i++) {
    const d = difference(xs[i], ys[i], same);
    if (d !== undefined) return xs.length > 1 ? ` (first at element ${i}: ${text(xs[i])} against ${text(ys[i])})` : d;
  }
  return undefined;
}

/** A value in a message: strings quoted, long lists cut short. */
function text(v: Checked): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    const shown = v.slice(0, 8).map(text).join(', ');
    return `[${shown}${v.length > 8 ? `, … (${v.length} in all)` : ''}]`;
  }
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return String(v); // a tensor left on the device, a tokenizer
  return String(v);
}
