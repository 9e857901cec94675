// Run parameters: one rule each, the same for `tlc run` (flags and --arg), the browser page and any
// other caller of Program.run. The values of the well-known names a program reads with
// `arg("temperature", ...)` are checked against these rules before the program runs.
import type { HostValue } from '../compiler/ir.ts';
import { TlcError } from './errors.ts';

export interface RunParam {
  /** What a value must be, as an error message says it. */
  rule: string;
  /** Whether a number obeys the rule (text is first read as a number). Absent: the value is text. */
  ok?(v: number): boolean;
}

const whole = (v: number) => Number.isSafeInteger(v);

/** Seeds are 32-bit (the sampler's Rng takes a u32): 0..2^32-1. */
export const MAX_SEED = 0xffffffff;

export const RUN_PARAMS: Readonly<Record<string, RunParam>> = {
  prompt: { rule: 'text' },
  max_tokens: { rule: 'a whole number >= 0', ok: (v) => whole(v) && v >= 0 },
  temperature: { rule: 'a finite number >= 0 (0 = greedy)', ok: (v) => Number.isFinite(v) && v >= 0 },
  top_k: { rule: 'a whole number >= 0 (0 = no limit)', ok: (v) => whole(v) && v >= 0 },
  top_p: { rule: 'a number in (0, 1]', ok: (v) => v > 0 && v <= 1 },
  seed: { rule: `a whole number from 0 to ${MAX_SEED}`, ok: (v) => whole(v) && v >= 0 && v <= MAX_SEED },
  ctx: { rule: 'a whole number >= 1', ok: (v) => whole(v) && v >= 1 },
};

/**
 * `value` checked against the rule of the run parameter `name`: the value to use (text read as a
 * number for numeric parameters), or the reason it breaks the rule, as `${label}: expected ..., got ...`.
 * Names without a rule pass as they are.
 */
export function checkRunParam(name: string, value: unknown, label = `arg ${name}`): { value: HostValue } | { error: string } {
  const p = Object.prototype.hasOwnProperty.call(RUN_PARAMS, name) ? RUN_PARAMS[name] : undefined;
  if (!p) return { value: value as HostValue };
  const bad = { error: `${label}: expected ${p.rule}, got ${shown(value)}` };
  if (!p.ok) return typeof value === 'string' ? { value } : bad;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return p.ok(n) ? { value: n } : bad;
}

/** The given well-known run parameters checked (checkRunParam); the first broken rule is a TlcError. */
export function checkRunArgs(args: Record<string, HostValue>): Record<string, HostValue> {
  const out = { ...args };
  for (const name of Object.keys(args)) {
    if (args[name] === undefined) continue;
    const c = checkRunParam(name, args[name]);
    if ('error' in c) throw new TlcError(c.error);
    out[name] = c.value;
  }
  return out;
}

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number') return String(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === 'boolean' ? String(v) : `a ${typeof v}`;
}
