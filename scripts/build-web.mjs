#!/usr/bin/env node
// Builds the browser page and library into dist/web/ (see web/node/build.ts). `npm run build:web`.
import { register } from 'tsx/esm/api';
register();
const { buildWeb } = await import('../web/node/build.ts');
try {
  const { outDir, files, warnings } = await buildWeb();
  for (const w of warnings) console.warn(`warning: ${w}`);
  console.log(`built ${outDir}: ${files.join(', ')}`);
} catch (e) {
  console.error(e.name === 'WebBuildError' ? e.message : e);
  process.exit(1);
}
