// The build artifact: everything `tlc run` (or the browser) needs besides the weights, as one JSON
// file: the source, the model header it was built for, the host program and graphs.
import type { IR } from './ir.ts';
import type { ModelInfo } from './model-info.ts';
import { hash } from './model-info.ts';
import { compile } from './compile.ts';
import type { ReadSource } from './imports.ts';
import type { Entry } from './lower/blocks.ts';
import { TlcError } from '../runtime/errors.ts';
import { irProblem } from './validate-ir.ts';

export const ARTIFACT_FORMAT = 'tlc-artifact';
export const ARTIFACT_VERSION = 2; // 2: device values (kept outputs, tensor inputs), row sources, sameDims

export interface Artifact {
  format: typeof ARTIFACT_FORMAT;
  version: number;
  /** imports: the text of each file the program imported, by path, so a rebuild needs no files. */
  source: { file: string; text: string; hash: string; imports?: Record<string, string> };
  model?: { path: string; fingerprint: string; name?: string }; // absent: the program loads no model
  ir: IR;
}

export function build(source: string, file: string, model?: ModelInfo, entry?: Entry, readSource?: ReadSource): Artifact {
  const imports: Record<string, string> = {};
  const read = readSource && ((path: string) => (imports[path] = readSource(path)));
  const ir = compile(source, file, { model, entry, readSource: read });
  return {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    source: { file, text: source, hash: hash(source), ...(Object.keys(imports).length ? { imports } : {}) },
    ...(model ? { model: { path: model.path, fingerprint: model.fingerprint, name: model.hparams.name } } : {}),
    ir,
  };
}

/** Parses and checks an artifact's JSON; a clear error for anything else. */
export function parseArtifact(json: string, where: string): Artifact {
  let a: Artifact;
  try {
    a = JSON.parse(json);
  } catch {
    throw new TlcError(`${where} is not a tlc build artifact (not JSON); build one with \`tlc build FILE.tl --model MODEL.gguf\`.`);
  }
  if (a?.format !== ARTIFACT_FORMAT) throw new TlcError(`${where} is not a tlc build artifact.`);
  if (a.version !== ARTIFACT_VERSION) throw new TlcError(`${where} was built by another version of tlc (artifact version ${a.version}, this tlc reads ${ARTIFACT_VERSION}); build it again.`);
  const problem = !a.source || typeof a.source.text !== 'string' || typeof a.source.file !== 'string' ? 'it has no source' : badImports(a.source.imports) ?? irProblem(a.ir);
  if (problem) throw new TlcError(`${where} is damaged or from another version of tlc (${problem}); build it again.`);
  return a;
}

function badImports(imports: unknown): string | undefined {
  if (imports === undefined) return undefined;
  const ok = typeof imports === 'object' && imports !== null && Object.values(imports).every((t) => typeof t === 'string');
  return ok ? undefined : 'its imported sources are not texts';
}

/** For rebuilding an artifact (for another model): the imported files as it recorded them, not as they are now. */
export function recordedImports(a: Artifact): ReadSource {
  return (path) => {
    const text = a.source.imports?.[path];
    if (text === undefined) throw new TlcError(`${path} is not among the files ${a.source.file} imported when it was built`);
    return text;
  };
}
