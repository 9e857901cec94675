// `tlc chat` with piped stdin (one line a turn) and `tlc serve` as a user starts them (spawned).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthLlama } from '../runtime/gguf-writer.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TLC = path.join(ROOT, 'bin/tlc.js');

function tlc(args: string[], input: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [TLC, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0, stdout, stderr });
    });
    p.stdin!.end(input);
  });
}

describe('tlc chat and tlc serve from the command line', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlc-chat-'));
  const at = (p: string) => path.join(dir, p);
  before(() => {
    writeFileSync(at('m.gguf'), synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 256, seed: 4 }));
    copyFileSync(path.join(ROOT, 'examples/chat.tl'), at('chat.tl'));
  });

  it('tlc chat reads one turn a line from piped stdin; /system, /reset and /save work', async () => {
    const r = await tlc(['chat', '--model', 'm.gguf', '--max-tokens', '4', '--temperature', '0'], 'Hello there\n/system Be brief.\n\nWhat did I say?\n/save conv.json\n/reset\n/save empty.json\n', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 3, 'a line a reply');
    assert.match(r.stderr, /system prompt set/);
    const conv = JSON.parse(readFileSync(at('conv.json'), 'utf8'));
    assert.equal(conv.system, 'Be brief.');
    assert.deepEqual(conv.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user', 'assistant']);
    assert.equal(conv.messages[2].content, 'What did I say?');
    assert.deepEqual(JSON.parse(readFileSync(at('empty.json'), 'utf8')).messages, []);
  });

  it('tlc chat without --model, or with a program that does not read arg("ids"), is a usage error', async () => {
    const a = await tlc(['chat'], '', dir);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /--model M\.gguf is required/);
    const b = await tlc(['chat', 'chat.tl', '--model', 'm.gguf'], 'hi\n', dir);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /does not read arg\("ids"\)/);
  });

  it('tlc serve listens on loopback, serves /v1/models, and stops on SIGINT', async () => {
    const p = spawn(process.execPath, [TLC, 'serve', '--model', 'm.gguf', '--port', '0'], { cwd: dir });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      p.stdout.on('data', (d) => {
        out += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out);
        if (m) resolve(m[1]);
      });
      p.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const models = await (await fetch(`${url}/v1/models`)).json();
    assert.equal(models.data[0].id, 'm');
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    p.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
