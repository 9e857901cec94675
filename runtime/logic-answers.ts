// A query's answer as the original interpreter prints it: the solutions of a 0/1 tensor read back
// from the device, one per true element, in row-major order (the first variable slowest).
import { TlcError } from './errors.ts';

/**
 * values: the answer tensor, flat (one number for a ground query or a single element); vars: its
 * variables; members: each variable's entity names. A dim is at least 1 even when its domain is
 * empty, so indices past the names are not solutions.
 */
export function logicAnswers(values: unknown, vars: unknown, members: unknown): string {
  const flat = typeof values === 'number' ? [values] : values;
  if (!Array.isArray(flat) || !Array.isArray(vars) || !Array.isArray(members)) throw new TlcError('logic_answers: expected the answer tensor, the variables and their entities');
  const dims = (members as string[][]).map((m) => Math.max(1, m.length));
  const lines: string[] = [];
  let found = 0;
  for (let i = 0; i < flat.length; i++) {
    if (!(flat[i] > 0)) continue;
    let rest = i;
    const names: string[] = new Array(dims.length);
    let valid = true;
    for (let k = dims.length - 1; k >= 0; k--) {
      const at = rest % dims[k];
      rest = Math.floor(rest / dims[k]);
      names[k] = (members as string[][])[k][at];
      if (names[k] === undefined) valid = false;
    }
    if (!valid) continue;
    found++;
    if (vars.length === 0) lines.push(`  Solution ${found}: Yes`);
    else lines.push(`  Solution ${found}:`, ...(vars as string[]).map((v, k) => `    ${v} = ${names[k]}`));
  }
  if (found === 0) return '  No solutions found\n';
  return [`  Found ${found} solution(s)`, ...lines].join('\n') + '\n';
}
