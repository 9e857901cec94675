// Graph rewrites, in the order they run. Each pass is one file named for what it rewrites.
import type { IR } from '../ir.ts';
import { fuseElementwise } from './fuse-elementwise.ts';
import { fuseAttention } from './fuse-attention.ts';
import { kvCache } from './kv-cache.ts';
import { fuseLinear } from './fuse-linear.ts';

export interface Pass {
  name: string;
  run(ir: IR): IR;
}

export const PASSES: Pass[] = [fuseElementwise, fuseAttention, fuseLinear, kvCache];
