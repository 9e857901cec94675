#!/usr/bin/env node
// npm run mutate [-- --mutate FILE[,FILE...]] [-- other stryker options]
// StrykerJS over the host-side core (stryker.config.mjs), one Stryker run per module: each with its
// own spec files, incremental file and reports under reports/mutation/<module>/. Without --mutate it
// runs every module; with it, the modules whose files are named (a file may carry Stryker's line
// range, runtime/quant.ts:10-40, which then limits that module's run). Prints a score table at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../stryker.config.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let picked = null; // module name -> --mutate value for it, or null for all
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const m = /^(?:--mutate|-m)(?:=(.*))?$/.exec(a);
  if (!m) { rest.push(a); continue; }
  const value = m[1] ?? args[++i];
  if (value === undefined) throw new Error(`${a} needs a value`);
  picked ??= new Map();
  for (const item of value.split(',')) {
    const file = item.replace(/:\d+(?::\d+)?-\d+(?::\d+)?$/, '');
    const hit = Object.entries(MODULES).filter(([name, mod]) => name === file || mod.mutate.includes(file));
    if (!hit.length) {
      console.error(`mutate: ${item} is not a file of a module in stryker.config.mjs (${Object.values(MODULES).flatMap((x) => x.mutate).join(', ')})`);
      process.exit(2);
    }
    for (const [name] of hit) picked.set(name, [...(picked.get(name) ?? []), ...(item === name ? [] : [item])]);
  }
}

const env = { ...process.env };
// The mocha runner cannot load Mocha 12's cli internals by itself (see the file).
env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${path.join(root, 'scripts/stryker-mocha12.cjs')}`.trim();
// The sandbox (.stryker-tmp/sandbox-*) has no ../shared beside it: point the real-model tests at ours.
const shared = path.resolve(root, '../shared/models');
if (!env.TLC_SHARED_MODELS && existsSync(shared)) env.TLC_SHARED_MODELS = shared;
delete env.CI; // a skip (no shared models) is fine here, not a failure

const rows = [];
let failed = false;
for (const name of picked ? [...picked.keys()] : Object.keys(MODULES)) {
  const files = picked?.get(name);
  const cmd = ['stryker', 'run', 'stryker.config.mjs', ...(files?.length ? ['--mutate', files.join(',')] : []), ...rest];
  console.log(`\n=== mutate ${name}: npx ${cmd.join(' ')}`);
  const start = Date.now();
  const r = spawnSync('npx', cmd, { cwd: root, stdio: 'inherit', env: { ...env, TLC_MUTATE_MODULE: name } });
  const secs = Math.round((Date.now() - start) / 1000);
  if (r.status !== 0) { failed = true; rows.push([name, 'stryker failed', '', '', '', '', `${secs} s`]); continue; }
  rows.push([name, ...score(path.join(root, `reports/mutation/${name}/mutation.json`)), `${secs} s`]);
}

console.log('\n| module | score (killed / valid) | killed | survived | timeout | no coverage | time |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exit(failed ? 1 : 0);

/** Counts from a mutation-testing-report-schema JSON file. */
function score(file) {
  const n = { Killed: 0, Survived: 0, Timeout: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const f of Object.values(report.files)) for (const m of f.mutants) n[m.status] = (n[m.status] ?? 0) + 1;
  const detected = n.Killed + n.Timeout, valid = detected + n.Survived + n.NoCoverage;
  const pct = valid ? ((100 * detected) / valid).toFixed(1) : '-';
  return [`${pct}% (${detected} / ${valid})`, n.Killed, n.Survived, n.Timeout, n.NoCoverage];
}
