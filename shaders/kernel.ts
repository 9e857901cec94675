// What a kernel template produces: one WGSL module, specialized for fixed shapes and types.
// Bindings are @group(0) @binding(i), in the order of `bindings`.

export type BindingKind = 'read' | 'read_write' | 'uniform';

export interface Kernel {
  /** Short human name, for benchmarks and error messages: "matmul_q8_0_k64_n172". */
  name: string;
  wgsl: string;
  entryPoint?: string; // default 'main'
  bindings: BindingKind[];
  /** Features the WGSL needs (`enable f16;` etc.); the caller picks a template without them when absent. */
  features?: GPUFeatureName[];
}
