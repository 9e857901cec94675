// The grammar's text. In Node it is read from grammar/tensorlogic.ohm; the browser bundle
// replaces this module with the text inlined (see web/node/build.ts).
import { readFileSync } from 'node:fs';

export const GRAMMAR_SOURCE: string = readFileSync(new URL('./tensorlogic.ohm', import.meta.url), 'utf8');
