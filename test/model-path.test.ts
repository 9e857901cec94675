// The model a program names itself: load_model(PATH) with PATH evaluated before the run (literals, +,
// env(), arg(), let variables), a missing file or a run-time path as a clear error, the demo model only
// for a program that names none; then `tlc build` / `tlc run` as a user runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseModel, DEMO_MODEL } from '../cli/model.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';

const TLC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/tlc.js');

/** Sets environment variables (undefined: unset) for the length of `f`, then puts them back. */
function withEnv<T>(vars: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (vs: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vs)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  set(vars);
  try {
    return f();
  } finally {
    set(saved);
  }
}

describe('the model path a program names', function () {
  this.timeout(60000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlc-model-path-'));
  const home = path.join(dir, 'home');
  const tiny = path.join(home, '.llm/models/tiny.gguf');
  before(() => {
    mkdirSync(path.dirname(tiny), { recursive: true });
    writeFileSync(path.join(dir, 'm.gguf'), synthLlama({ layers: 1, embd: 32, heads: 2, seed: 1 }));
    writeFileSync(tiny, synthLlama({ layers: 1, embd: 32, heads: 2, seed: 2 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const main = (body: string) => `main {\n${body}\n    print("ok")\n}\n`;
  interface Case {
    what: string;
    src: string;
    env?: Record<string, string | undefined>;
    args?: Record<string, string>;
    given?: string;
    want: string | undefined | RegExp; // the path chosen (DEMO_MODEL for the demo), or the error
    says?: RegExp; // the notice, when there is one
  }
  const cases = (): Case[] => [
    { what: 'a literal absolute path', src: main(`    let model = load_model("${path.join(dir, 'm.gguf')}")`), want: path.join(dir, 'm.gguf') },
    { what: "a literal relative path: the program's directory", src: main('    let model = load_model("m.gguf")'), want: path.join(dir, 'm.gguf') },
    { what: "arg()'s default", src: main('    let model = load_model(arg("model", "m.gguf"))'), want: path.join(dir, 'm.gguf') },
    { what: '--arg model=... over the default', src: main('    let model = load_model(arg("model", "m.gguf"))'), args: { model: tiny }, want: tiny },
    { what: '--arg for another name, through a let and +', src: main('    let d = arg("models", "nowhere")\n    let model = load_model(d + "/m.gguf")'), args: { models: dir }, want: path.join(dir, 'm.gguf') },
    {
      what: 'env("HOME") + a literal through a let variable',
      src: main('    let model_path = env("HOME") + "/.llm/models/tiny.gguf"\n    let model = load_model(model_path)'),
      env: { HOME: home },
      want: tiny,
    },
    {
      what: 'an arg() whose default reads env() (examples/tinyllama_chat.tl)',
      src: main('    let model_path = arg("model", env("HOME") + "/.llm/models/tiny.gguf")\n    let model = load_model(model_path)'),
      env: { HOME: home },
      want: tiny,
    },
    { what: "env()'s default when the variable is unset", src: main(`    let model = load_model(env("TLC_TEST_NO_SUCH_VAR", "${dir}") + "/m.gguf")`), env: { TLC_TEST_NO_SUCH_VAR: undefined }, want: path.join(dir, 'm.gguf') },
    { what: 'a top-level let, read in main', src: `let p = "m.gguf"\n${main('    let model = load_model(p)')}`, want: path.join(dir, 'm.gguf') },
    { what: 'a let in the enclosing fn', src: `fn open() {\n    let p = "m.gguf"\n    load_model(p)\n}\n${main('    let model = open()')}`, want: path.join(dir, 'm.gguf') },
    { what: 'a let assigned again in its block', src: main('    let p = env("HOME")\n    p = p + "/.llm/models/tiny.gguf"\n    let model = load_model(p)'), env: { HOME: home }, want: tiny },
    { what: 'load_model_f16 too', src: main('    let model = load_model_f16("m.gguf")'), want: path.join(dir, 'm.gguf') },
    { what: '--model over everything', src: main('    let model = load_model(input("model? "))'), given: 'x.gguf', want: 'x.gguf' },
    {
      what: 'a missing file: the path it tried and how it was computed',
      src: main('    let model_path = env("HOME") + "/.llm/models/tiny.gguf"\n    let model = load_model(model_path)'),
      env: { HOME: path.join(dir, 'nohome') },
      want: new RegExp(`^prog\\.tl:3:17: the model file ${path.join(dir, 'nohome/.llm/models/tiny.gguf')} \\(\\$HOME/\\.llm/models/tiny\\.gguf\\) does not exist\\. Put the model there or give one with --model MODEL\\.gguf\\.$`),
    },
    {
      what: 'a missing relative file: both places it looked',
      src: main('    let model = load_model(arg("model", "models/none-such.gguf"))'),
      want: new RegExp(`the model file models/none-such\\.gguf does not exist: not beside the program \\(${path.join(dir, 'models/none-such.gguf')}\\) nor in the current directory \\(${path.resolve('models/none-such.gguf')}\\)`),
    },
    { what: 'a program without load_model: no model', src: main('    print(1 + 2)'), want: undefined },
    { what: 'load_model(arg("model")) with nothing given: the demo, loudly', src: main('    let model = load_model(arg("model"))'), want: DEMO_MODEL, says: /no model given \(--model\) and the program names none \(arg\("model"\) is not given and has no default\); .*RANDOM weights/ },
    {
      what: 'a path known only at run time',
      src: main('    let p = input("model? ")\n    let model = load_model(p)'),
      want: /^prog\.tl:3:17: cannot tell which model file the program loads before it runs: `input\("model\? "\)` \(prog\.tl:2:13\) is computed when the program runs\. Give the model with --model MODEL\.gguf\.$/,
    },
    { what: 'a variable assigned in a branch', src: main('    let p = "m.gguf"\n    if len(p) > 3 {\n        p = "n.gguf"\n    }\n    let model = load_model(p)'), want: /`p` changes at prog\.tl:4:9.*--model/ },
    { what: 'a fn parameter', src: `fn open(p) {\n    load_model(p)\n}\n${main('    let model = open("m.gguf")')}`, want: /`p` is a parameter of fn open/ },
    { what: 'an arg() without a value inside a path', src: main('    let model = load_model(arg("dir") + "/m.gguf")'), want: /`arg\("dir"\)` \(prog\.tl:2:28\) has no value: give it with --arg/ },
  ];

  for (const c of cases()) {
    it(c.what, () => {
      const said: string[] = [];
      const choose = () => withEnv(c.env ?? {}, () => chooseModel(c.given, c.src, path.join(dir, 'prog.tl'), (m) => said.push(m), c.args));
      if (c.want instanceof RegExp) {
        // Messages locate the call by the file name as given: here the absolute path.
        assert.throws(choose, (e: Error) => (assert.equal(e.name, 'TlcError'), assert.match(e.message.replaceAll(`${dir}/prog.tl`, 'prog.tl'), c.want as RegExp), true));
        return;
      }
      assert.equal(choose(), c.want);
      if (c.says) assert.match(said.join('\n'), c.says);
      else assert.deepEqual(said, []);
    });
  }

  describe('tlc build and tlc run', () => {
    const tlc = (cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [TLC, ...args], { cwd, env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
    const prog = path.join(dir, 'env.tl');
    before(() => writeFileSync(prog, 'main {\n    let model_path = env("HOME") + "/.llm/models/tiny.gguf"\n    let model = load_model(model_path)\n    print("layers", model.n_layer)\n}\n'));

    it('build records the path from the build environment; run uses it, and the fingerprint catches another model there', async () => {
      const b = await tlc(dir, { HOME: home }, 'build', prog, '-o', 'env.tlc.json');
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, new RegExp(`for ${tiny}\\n$`));
      const artifact = JSON.parse(readFileSync(path.join(dir, 'env.tlc.json'), 'utf8'));
      assert.equal(artifact.model.path, tiny);

      const r = await tlc(dir, { HOME: path.join(dir, 'elsewhere') }, 'run', 'env.tlc.json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'layers 1\n');

      writeFileSync(tiny, synthLlama({ layers: 2, embd: 32, heads: 2, seed: 2 }));
      const other = await tlc(dir, {}, 'run', 'env.tlc.json');
      assert.equal(other.code, 1);
      assert.match(other.stderr, /was built for the model .*tiny\.gguf.* differs from it/);
    });

    it('run FILE.tl with a HOME where the model is missing: an error naming the path, no random weights', async () => {
      const r = await tlc(dir, { HOME: path.join(dir, 'nohome') }, 'run', prog);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `${prog}:3:17: the model file ${path.join(dir, 'nohome/.llm/models/tiny.gguf')} ($HOME/.llm/models/tiny.gguf) does not exist. Put the model there or give one with --model MODEL.gguf.\n`);
    });
  });
});
