// The one way a test may skip: for a documented reason that cannot hold in CI (a user's fresh clone
// without ../shared/models, a machine without Chromium). With CI set (CI=true: .ci/run sets it, as
// most CI services do) the same condition is a failure, so CI never passes by skipping.

/** True on CI: CI set to anything but '', '0' or 'false'. */
export function onCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Skips the current mocha test (or suite, from a before hook) with `reason` printed; fails instead on CI. */
export function skipUnlessCI(ctx: Mocha.Context, reason: string): never {
  if (onCI()) throw new Error(`${reason}, and CI must not skip (CI=${process.env.CI})`);
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
}
