// The run-time parameters a program reads with arg("name", ...), found in its artifact and source: what
// `tlc run --arg` checks names against (cli/params.ts), and what makes a program a chat program.
// Platform-neutral: the browser bundle has it too (the library's startChat, lib/api.ts).
import type { Artifact } from './artifact.ts';
import { forEachNode } from './ast-walk.ts';
import { forEachHostExpr } from './ir-walk.ts';
import { parse } from './parse.ts';

/**
 * The names a program reads with arg("name", ...): those in its host program, and those its source
 * uses anywhere (a model path: `load_model(arg("dir") + "/m.gguf")`), and "model" (--model).
 * Undefined when some arg(...) takes a name computed at run time (then any name may be one).
 */
export function programArgNames(artifact: Artifact): Set<string> | undefined {
  const names = new Set<string>(['model']);
  let dynamic = false;
  forEachHostExpr(artifact.ir.host, (e) => {
    if (e.k === 'arg') names.add(e.name);
    else if (e.k === 'call' && e.fn === 'arg') {
      const first = e.args[0];
      if (first?.k === 'const' && typeof first.value === 'string') names.add(first.value);
      else dynamic = true;
    }
  });
  for (const n of sourceArgNames(artifact.source.text, artifact.source.file)) names.add(n);
  return dynamic ? undefined : names;
}

/**
 * Why a program cannot be a chat program (`tlc chat`, `tlc serve`, startChat of the library): it must
 * read the conversation as token ids with arg("ids"), as CONVERSATION_TL does. Undefined when it can.
 */
export function chatProgramProblem(artifact: Artifact): string | undefined {
  const names = programArgNames(artifact);
  if (!names || names.has('ids')) return undefined;
  return `${artifact.source.file} does not read arg("ids"): a chat program takes the conversation as token ids (let tokens = arg("ids", [1])) and writes only the reply; see CONVERSATION_TL in runtime/conversation.ts.`;
}

/** The literal names of every arg("name", ...) call in a source (the build folds some away). */
export function sourceArgNames(text: string, file: string): Set<string> {
  const names = new Set<string>();
  let program: unknown;
  try {
    program = parse(text, file);
  } catch {
    return names; // a source that does not parse was not built either
  }
  forEachNode(program, (node) => {
    const n = node as { kind?: string; callee?: { kind?: string; name?: string }; args?: { kind?: string; type?: string; value?: unknown }[] };
    if (n.kind === 'Call' && n.callee?.kind === 'Ident' && n.callee.name === 'arg') {
      const first = n.args?.[0];
      if (first?.kind === 'Lit' && first.type === 'string' && typeof first.value === 'string') names.add(first.value);
    }
    return true;
  });
  return names;
}
