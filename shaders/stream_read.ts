// A streaming read of a whole buffer: the adapter's memory roofline, which the weight kernels are
// measured against. Each thread XORs its share of vec4<u32> words and writes one word, so the
// reads cannot be optimized away and the writes are negligible.
//   contiguous: thread t reads words t * per .. (t + 1) * per: on CPU adapters (lavapipe) each
//               SIMD lane then streams its own range, which is what the matmul kernels do.
//   strided:    thread t reads words t, t + T, t + 2T, ...: neighbouring threads read neighbouring
//               words, the coalesced pattern of GPUs.
import type { Kernel } from './kernel.ts';

export interface StreamReadSpec {
  pattern: 'contiguous' | 'strided';
  workgroupSize: number;
  workgroups: number;
  words: number; // vec4<u32> words in the buffer, a multiple of workgroupSize * workgroups
}

export function streamReadKernel(s: StreamReadSpec): Kernel {
  const threads = s.workgroupSize * s.workgroups;
  const per = s.words / threads;
  if (!Number.isInteger(per) || per < 1) throw new Error(`stream_read: ${s.words} words do not split over ${threads} threads`);
  const index = s.pattern === 'contiguous' ? `t * ${per}u + i` : `t + i * ${threads}u`;
  return {
    name: `stream_read_${s.pattern}_wg${s.workgroupSize}_g${s.workgroups}`,
    wgsl: /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<vec4u>;       // (words)
@group(0) @binding(1) var<storage, read_write> out: array<u32>; // (threads)
@compute @workgroup_size(${s.workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  var s = vec4u(0u);
  for (var i = 0u; i < ${per}u; i++) { s ^= a[${index}]; }
  out[t] = s.x ^ s.y ^ s.z ^ s.w;
}`,
    bindings: ['read', 'read_write'],
  };
}
