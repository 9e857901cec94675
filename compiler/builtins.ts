// Every builtin function a TensorLogic program may call by name: check.ts checks calls against it,
// lowering dispatches on it, and the builtins reference page is generated from it.
//
// Each entry is written as its signature; the arity comes from it: `b?` is optional, `...xs` takes
// any number. Method calls (`x.sum()`) and associated calls (`Tensor::zeros(...)`) are not in here.

export type BuiltinGroup =
  | 'io' // printing, environment, assertions, strings
  | 'control' // ranges and run-time parameters
  | 'create' // tensors from nothing
  | 'shape' // reshaping, slicing, joining
  | 'math' // elementwise math and reductions
  | 'nn' // layers, activations, attention
  | 'llm' // models, weights, tokenizers
  | 'sampling' // picking the next token
  | 'learning' // training
  | 'logic' // knowledge-graph embeddings, entities, graph networks
  | 'candle'; // the original's `cndl_*` variants, kept for its programs

export interface Builtin {
  name: string;
  minArgs: number;
  maxArgs: number; // Infinity when variadic
  signature: string; // `rms_norm(x, weight, eps?) -> tensor`
  meaning: string; // one line
  group: BuiltinGroup;
}

// [signature, meaning], per group. Shapes in the meanings read like `(seq, dim)`.
const TABLE: Record<BuiltinGroup, [string, string][]> = {
  io: [
    ['print(...values)', 'Prints the values separated by spaces, then a newline.'],
    ['write(...values)', 'Prints the values separated by spaces, without a newline (for streaming tokens).'],
    ['env(name, default?) -> string', 'The value of an environment variable; default (or empty) when unset.'],
    ['input(prompt?) -> string', 'Reads one line typed by the user, after printing the prompt.'],
    ['str(value) -> string', 'The value as text.'],
    ['int(x) -> int', 'A number (or numeric string) truncated to an integer.'],
    ['float(x) -> float', 'A number (or numeric string) as a float.'],
    ['len(xs) -> int', 'The number of elements of a list, a string or a token-id array; a tensor\'s first dimension.'],
    ['get(xs, i)', 'Element i of a list or token-id array.'],
    ['append(xs, x)', 'The list (or token-id array) with x added at the end.'],
    ['to_int(x) -> int', 'A one-element tensor or a number as an integer.'],
    ['abs(x)', 'Absolute value of a number.'],
    ['floor(x)', 'A number rounded down.'],
    ['ceil(x)', 'A number rounded up.'],
    ['round(x)', 'A number rounded to the nearest integer.'],
    ['string_length(s) -> int', 'The number of characters in a string.'],
    ['string_substring(s, start, length) -> string', 'Part of a string.'],
    ['assert(cond, message?)', 'Stops the program with an error (its place, and the message) when cond is false; `tlc test` runs test blocks.'],
    ['assert_eq(a, b)', 'Stops the program with an error showing both values when a and b (numbers, strings, tensors) differ.'],
    ['assert_about_eq(a, b, eps)', 'Stops the program with an error when a and b differ by more than eps.'],
    ['panic(message?, ...values)', 'Stops the program with the message; each {} in it is replaced by the next value.'],
    ['save(x, path)', 'Writes a tensor to a file.'],
    ['load(path) -> tensor', 'Reads a tensor written by save.'],
    ['cleanup()', 'Frees cached GPU buffers.'],
    ['new_tensor_buffer(bytes)', 'A pool of GPU memory (its accounts): buf.alloc(shape, count, elem_size) sets slots aside, buf.zeros(shape) / buf.ones(shape) take one.'],
  ],
  control: [
    ['range(n) -> list', 'The integers 0, 1, ..., n-1, to loop over: `for i in range(n)`.'],
    ['range_i(start_or_n, end?) -> list', 'Integers to loop over, like range; with two arguments, start..end-1.'],
    ['arg(name, default?)', 'A run-time parameter: the value given for `name` when the program runs, else default.'],
  ],
  create: [
    ['zeros(shape) -> tensor', 'A tensor of zeros, e.g. `zeros([2, 3])`.'],
    ['ones(shape) -> tensor', 'A tensor of ones.'],
    ['rand(shape) -> tensor', 'A tensor of uniform random numbers in [0, 1).'],
    ['random_normal(mean, std) -> tensor', 'Random numbers from a normal distribution.'],
    ['arange(start_or_n, end?) -> tensor', 'The numbers start, start+1, ..., end-1 as a 1-D tensor.'],
    ['tensor(values, shape?) -> tensor', 'A tensor from a list of numbers, optionally reshaped.'],
    ['from_vec(values, shape) -> tensor', 'A tensor of the given shape from a flat list of numbers.'],
    ['to_vec(x) -> list', 'A tensor\'s elements as a flat list.'],
    ['positional_encoding(seq_len, d_model) -> tensor', 'Sinusoidal position encodings, (seq_len, d_model).'],
    ['causal_mask(n) -> tensor', 'The (n, n) mask that hides later positions: 1 on and below the diagonal, 0 above.'],
    ['padding_mask(lengths, max_len) -> tensor', 'A (batch, max_len) mask that hides positions past each length.'],
    ['combine_masks(a, b) -> tensor', 'The positions both masks keep.'],
  ],
  shape: [
    ['shape(x) -> tensor', 'A tensor\'s dimensions as a 1-D tensor; shape(x)[0] is the first.'],
    ['reshape(x, shape) -> tensor', 'The same elements viewed with a new shape, e.g. `reshape(q, [seq, 32, 64])`.'],
    ['broadcast_to(x, shape) -> tensor', 'Repeats size-1 dimensions to reach the shape.'],
    ['transpose(x, dim0?, dim1?) -> tensor', 'Swaps two dimensions, the last two by default.'],
    ['permute(x, dims) -> tensor', 'Reorders the dimensions, e.g. `permute(x, [1, 0, 2])`.'],
    ['flatten(x) -> tensor', 'The elements as a 1-D tensor.'],
    ['squeeze(x, dim?) -> tensor', 'Removes size-1 dimensions (or just dim).'],
    ['unsqueeze(x, dim) -> tensor', 'Inserts a size-1 dimension at dim.'],
    ['concat(a, b, dim?)', 'Joins two tensors along dim; without dim, joins two lists or two strings.'],
    ['slice(x, a, b, c?) -> tensor', 'slice(v, start, end) of a 1-D tensor; slice(m, row, col_start, col_end) of a matrix.'],
    ['slice_last(x, axis?) -> tensor', 'The last entry along axis (0 by default), which is removed: (seq, dim) -> (dim).'],
    ['gather(x, dim, index) -> tensor', 'Picks the entries given by index along dim.'],
    ['scatter(x, dim, index, src) -> tensor', 'Writes src into x at the positions given by index along dim.'],
    ['chunk(x, chunks, dim) -> tensor', 'The first of that many equal pieces along dim (the original returns only the first).'],
    ['split(x, size, dim) -> tensor', 'The first piece of the given size along dim (the original returns only the first).'],
  ],
  math: [
    ['matmul(a, b) -> tensor', 'Matrix product: (m, k) x (k, n) -> (m, n); batched over leading dimensions.'],
    ['einsum(spec, ...xs) -> tensor', 'Einstein summation, e.g. `einsum("ihd,jhd->ihj", Q, K)`.'],
    ['add(a, b) -> tensor', 'Elementwise a + b.'],
    ['sub(a, b) -> tensor', 'Elementwise a - b.'],
    ['mul(a, b) -> tensor', 'Elementwise a * b.'],
    ['div(a, b) -> tensor', 'Elementwise a / b.'],
    ['exp(x) -> tensor', 'Elementwise e^x.'],
    ['log(x) -> tensor', 'Elementwise natural logarithm.'],
    ['sqrt(x) -> tensor', 'Elementwise square root.'],
    ['pow(x, p) -> tensor', 'Elementwise x^p.'],
    ['sin(x) -> tensor', 'Elementwise sine.'],
    ['cos(x) -> tensor', 'Elementwise cosine.'],
    ['tan(x) -> tensor', 'Elementwise tangent.'],
    ['tanh(x) -> tensor', 'Elementwise hyperbolic tangent.'],
    ['sum(x, dim?, keepdim?) -> tensor', 'Sum of all elements, or along dim.'],
    ['mean(x, dim?, keepdim?) -> tensor', 'Mean of all elements, or along dim.'],
    ['max(a, b?, keepdim?)', 'The largest element of a tensor; max(x, axis) along an axis; of two tensors, elementwise; of two numbers, the larger.'],
    ['min(a, b?, keepdim?)', 'The smallest element of a tensor; min(x, axis) along an axis; of two tensors, elementwise; of two numbers, the smaller.'],
    ['argmax(x, dim?, keepdim?) -> tensor', 'Index of the largest element (along dim).'],
    ['argmin(x, dim?, keepdim?) -> tensor', 'Index of the smallest element (along dim).'],
  ],
  nn: [
    ['linear(x, weight, bias?) -> tensor', 'x times the transposed weight (plus bias): (seq, in) x (out, in) -> (seq, out).'],
    ['embedding(table, ids) -> tensor', 'The rows of table for the token ids: (vocab, dim) and (seq) -> (seq, dim).'],
    ['rms_norm(x, weight, eps?) -> tensor', 'RMS normalization over the last dimension, scaled by weight (eps 1e-5 by default).'],
    ['layer_norm(x, shape?, eps?) -> tensor', 'Layer normalization over the last dimensions.'],
    ['batch_norm(x, mean, var, eps?) -> tensor', 'Batch normalization with the given statistics.'],
    ['dropout(x, p, training?) -> tensor', 'Zeroes each element with probability p while training.'],
    ['softmax(x, dim?) -> tensor', 'Softmax along dim (the last by default).'],
    ['sigmoid(x) -> tensor', 'Elementwise 1 / (1 + e^-x).'],
    ['silu(x) -> tensor', 'Elementwise x * sigmoid(x).'],
    ['relu(x) -> tensor', 'Elementwise max(x, 0).'],
    ['gelu(x) -> tensor', 'Elementwise Gaussian error linear unit.'],
    ['rope(x, a?, b?) -> tensor', 'Rotary position embedding of (seq, heads, head_dim): rope(x), rope(x, position_offset) or rope(x, cos, sin).'],
    ['precompute_rope_cos(head_dim, max_seq, base) -> tensor', 'The cosine table rope uses.'],
    ['precompute_rope_sin(head_dim, max_seq, base) -> tensor', 'The sine table rope uses.'],
    ['apply_attention_mask(scores, mask) -> tensor', 'Sets scores to -infinity where mask is 0.'],
    ['apply_mask(x, mask) -> tensor', 'Keeps x where mask is 1, zero elsewhere.'],
    ['attention_with_cache(q, k_cache, v_cache, w_o) -> tensor', 'Grouped-query attention of q over cached keys and values, projected by w_o.'],
    ['fused_add_relu(a, b) -> tensor', 'relu(a + b) in one kernel.'],
    ['fused_mul_relu(a, b) -> tensor', 'relu(a * b) in one kernel.'],
    ['fused_affine(x, scale, bias) -> tensor', 'x * scale + bias in one kernel.'],
    ['fused_gelu_linear(x, weight, bias) -> tensor', 'gelu(x) @ weight + bias, weight (in, out).'],
  ],
  llm: [
    ['load_model(path) -> model', 'Opens a GGUF model; its weights are `model.blk[i].attn_q.weight` etc., or get_tensor(model, name).'],
    ['load_model_f16(path) -> model', 'load_model, weights converted to float16.'],
    ['load_model_f32(path) -> model', 'load_model, weights converted to float32.'],
    ['get_tensor(model, name) -> tensor', 'A weight by its GGUF name, e.g. "token_embd.weight".'],
    ['load_weight_cache_f16(path, capacity)', 'A cache that loads float16 safetensors weights on first use.'],
    ['load_weight_cache_f32(path, capacity)', 'A cache that loads float32 safetensors weights on first use.'],
    ['load_weight_cache_gguf_f16(path, capacity)', 'A cache that loads GGUF weights as float16 on first use.'],
    ['load_weight_cache_gguf_f32(path, capacity)', 'A cache that loads GGUF weights as float32 on first use.'],
    ['load_tokenizer(source) -> tokenizer', 'Opens a tokenizer: a tokenizer.json path, or a loaded model (its GGUF vocabulary).'],
    ['tokenize(tokenizer, text, add_special?) -> ids', 'The token ids of a text; add_special adds the beginning-of-sequence token.'],
    ['detokenize(tokenizer, ids, skip_special?) -> string', 'The text of token ids.'],
    ['detokenize_single(tokenizer, id, skip_special) -> string', 'The text of one token id.'],
    ['detokenize_incremental(tokenizer, ids) -> string', 'The text the last token id adds.'],
    ['token_text(tokenizer, id) -> string', 'The text of one token id, ready to print after the text before it.'],
    ['chat_prompt(tokenizer, user, system?) -> string', 'The prompt text in the model\'s chat template for one user message (and a system message).'],
    ['int_to_tokenids(id) -> ids', 'A one-element token-id array.'],
    ['append_token(ids, id) -> ids', 'The token ids with one more at the end.'],
    ['generate(model, tokenizer, prompt, max_tokens) -> string', 'Generates text from a prompt with the model, end to end.'],
  ],
  sampling: [
    ['temperature_sample(logits, temperature?) -> int', 'Samples a token id from softmax(logits / temperature) (1.0 by default); the last row of 2-D logits.'],
    ['temperature(logits, t) -> tensor', 'The logits divided by t.'],
    ['sample(probs) -> int', 'Samples an index from a probability vector.'],
    ['top_k(logits, k) -> tensor', 'The logits with all but the k largest set to -infinity.'],
    ['top_p(logits, p) -> tensor', 'The logits with all but the smallest set of tokens whose probability reaches p set to -infinity.'],
    ['top_p_sample(logits, p) -> int', 'Samples a token id from the top-p set.'],
    ['print_top_k(logits, k)', 'Prints the k largest values (of the last row of 2-D logits) with their indices.'],
  ],
  learning: [
    ['learnable(x) -> tensor', 'Marks a tensor as a parameter a learn block updates.'],
    ['backward(loss)', 'Computes the gradients of loss with respect to the learnable tensors.'],
    ['binary_cross_entropy(score, target) -> tensor', 'The binary cross-entropy of a logit (its first element) against a 0/1 target: -(t log p + (1 - t) log(1 - p)), p = sigmoid(score).'],
    ['margin_ranking_loss(pos, neg, margin) -> tensor', 'max(0, margin + neg - pos), elementwise.'],
  ],
  logic: [
    ['entity_onehot(Type, entity) -> tensor', 'The one-hot vector of an entity within its entity type.'],
    ['entity_dim(Type) -> int', 'The number of entities of an entity type.'],
    ['transe_score(head, relation, tail, norm?) -> tensor', 'TransE plausibility: -||head + relation - tail||, norm "L2" (the default) or "L1"; shape (1).'],
    ['distmult_score(head, relation, tail) -> tensor', 'DistMult plausibility: sum(head * relation * tail); shape (1).'],
    ['complex_score(h_re, h_im, r_re, r_im, t_re, t_im) -> tensor', 'ComplEx plausibility: Re(<h, r, conj(t)>), summed; shape (1).'],
    ['predict_tail_transe(head, relation, tail_candidate, norm?) -> tensor', 'The TransE score of one candidate tail (transe_score).'],
    ['predict_head_transe(head_candidate, relation, tail, norm?) -> tensor', 'The TransE score of one candidate head (transe_score).'],
    ['predict_tail_distmult(head, relation, tail_candidate) -> tensor', 'The DistMult score of one candidate tail (distmult_score).'],
    ['predict_head_distmult(head_candidate, relation, tail) -> tensor', 'The DistMult score of one candidate head (distmult_score).'],
    ['predict_tail_complex(h_re, h_im, r_re, r_im, t_re, t_im) -> tensor', 'The ComplEx score of one candidate tail (complex_score).'],
    ['predict_head_complex(h_re, h_im, r_re, r_im, t_re, t_im) -> tensor', 'The ComplEx score of one candidate head (complex_score).'],
    ['compute_rank(target_score, num_higher) -> int', 'The rank of a score that num_higher candidates beat: num_higher + 1.'],
    ['compute_mrr(rank) -> float', 'The reciprocal rank, 1 / rank.'],
    ['compute_hits_at_k(rank, k) -> int', '1 when the rank is at most k, else 0.'],
    ['compute_mean_rank(sum_of_ranks, num_queries) -> float', 'The mean rank: sum_of_ranks / num_queries.'],
    ['aggregate_neighbors(features, num_neighbors, mode?) -> tensor', 'The features divided by num_neighbors ("mean", the default) or as they are ("sum").'],
    ['relational_aggregate(node, relation, neighbor, weight?) -> tensor', 'One R-GCN style message: node + relation * neighbor (weight is not used).'],
    ['graph_attention(query, key, value, num_neighbors?) -> tensor', 'value * sigmoid(sum(query * key)).'],
    ['normalize_features(x, mode?) -> tensor', 'x / ||x|| over all of x ("l2", the default; x itself when the norm is below 1e-8); other modes leave x.'],
  ],
  candle: [
    ['cndl_matmul(a, b) -> tensor', 'The same as matmul (a name from the original Candle backend).'],
    ['cndl_transpose(x, dim0, dim1) -> tensor', 'Swaps two dimensions.'],
    ['cndl_reshape(x, shape) -> tensor', 'The same as reshape (a name from the original Candle backend).'],
    ['cndl_softmax(x, dim) -> tensor', 'The same as softmax along dim (a name from the original Candle backend).'],
    ['cndl_log_softmax(x, dim) -> tensor', 'log(softmax(x)) along dim.'],
    ['cndl_gelu(x) -> tensor', 'The same as gelu (a name from the original Candle backend).'],
    ['cndl_silu(x) -> tensor', 'The same as silu (a name from the original Candle backend).'],
    ['cndl_relu(x) -> tensor', 'The same as relu (a name from the original Candle backend).'],
    ['cndl_tanh(x) -> tensor', 'The same as tanh (a name from the original Candle backend).'],
    ['cndl_layer_norm(x, shape, weight?, bias?, eps?) -> tensor', 'layer_norm with optional affine weights.'],
    ['cndl_rms_norm(x, weight?, eps?) -> tensor', 'The same as rms_norm (a name from the original Candle backend).'],
    ['cndl_embedding(ids, table) -> tensor', 'embedding, arguments swapped.'],
    ['cndl_rope(x, positions, theta?) -> tensor', 'rope at explicit positions.'],
    ['cndl_load_safetensor(path, name) -> tensor', 'One tensor from a safetensors file.'],
    ['cndl_save_safetensor(x, path, name)', 'Writes one tensor to a safetensors file.'],
    ['cndl_list_safetensors(path)', 'Prints the tensors in a safetensors file.'],
    ['cndl_load_gguf_tensor(path, name) -> tensor', 'One tensor from a GGUF file.'],
    ['cndl_list_gguf_tensors(path)', 'Prints the tensors in a GGUF file.'],
    ['cndl_save_model_safetensor(model, path)', 'Writes every weight of a model to a safetensors file.'],
    ['cndl_load_model_safetensor(path) -> model', 'A model from a safetensors file.'],
  ],
};

/** `rms_norm(x, weight, eps?) -> t` -> { name: 'rms_norm', min: 2, max: 3 } */
function arity(signature: string): { name: string; min: number; max: number } {
  const m = /^(\w+)\(([^)]*)\)/.exec(signature);
  if (!m) throw new Error(`builtins.ts: bad signature ${signature}`);
  const params = m[2].split(',').map((p) => p.trim()).filter(Boolean);
  const variadic = params.some((p) => p.startsWith('...'));
  const required = params.filter((p) => !p.endsWith('?') && !p.startsWith('...')).length;
  return { name: m[1], min: required, max: variadic ? Infinity : params.length };
}

export const BUILTINS: readonly Builtin[] = Object.entries(TABLE).flatMap(([group, rows]) =>
  rows.map(([signature, meaning]) => {
    const { name, min, max } = arity(signature);
    return { name, minArgs: min, maxArgs: max, signature, meaning, group: group as BuiltinGroup };
  }),
);

const byName = new Map(BUILTINS.map((b) => [b.name, b]));

/** The builtin of that name, or undefined. */
export function builtin(name: string): Builtin | undefined {
  return byName.get(name);
}

/** `2 arguments`, `1 to 3 arguments`, `at least 1 argument`: what a call must pass. */
export function arityText(b: Builtin): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (b.maxArgs === Infinity) return `at least ${n(b.minArgs)}`;
  if (b.minArgs === b.maxArgs) return n(b.minArgs);
  return `${b.minArgs} to ${n(b.maxArgs)}`;
}
