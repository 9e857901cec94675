// The builtin table: arities come from the signatures, and it covers what TensorLogic programs call.
import assert from 'node:assert/strict';
import { arityText, builtin, BUILTINS } from '../../compiler/builtins.ts';

describe('builtins table', () => {
  const arities: [name: string, min: number, max: number, text: string][] = [
    ['print', 0, Infinity, 'at least 0 arguments'],
    ['len', 1, 1, '1 argument'],
    ['rms_norm', 2, 3, '2 to 3 arguments'],
    ['einsum', 1, Infinity, 'at least 1 argument'],
    ['arg', 1, 2, '1 to 2 arguments'],
    ['causal_mask', 1, 1, '1 argument'],
    ['argmax', 1, 3, '1 to 3 arguments'],
  ];
  for (const [name, min, max, text] of arities) {
    it(`${name}: ${text}`, () => {
      const b = builtin(name)!;
      assert.deepEqual([b.minArgs, b.maxArgs, arityText(b)], [min, max, text]);
    });
  }

  it('has every builtin the language needs, each once, each with a signature and a meaning', () => {
    const needed = `print env len range range_i load_model get_tensor load_tokenizer tokenize detokenize embedding rms_norm
      linear matmul reshape broadcast_to einsum rope causal_mask apply_attention_mask softmax sigmoid silu relu gelu tanh
      exp log sqrt shape slice_last argmax temperature_sample top_k top_p append concat transpose sum mean max min zeros
      ones arg panic`.split(/\s+/);
    assert.deepEqual(needed.filter((n) => !builtin(n)), []);
    const names = BUILTINS.map((b) => b.name);
    assert.equal(new Set(names).size, names.length);
    for (const b of BUILTINS) {
      assert.ok(b.signature.startsWith(`${b.name}(`) && b.meaning.length > 5, b.name);
      assert.ok(b.minArgs <= b.maxArgs, b.name);
    }
  });
});
