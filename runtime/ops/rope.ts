import type { Dispatch } from '../kernels.ts';
import { ropeKernel, ropeParams } from '../../shaders/rope.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, sameBuffer, check } from './common.ts';

export interface RopeArgs {
  x: Buf;            // (seq, nHead, headDim)
  y: Buf;            // (seq, nHead, headDim); may be x
  seq: number;
  nHead: number;
  headDim: number;
  pos0: number;      // position of row 0
  nRot?: number;     // rotated dims per head, default headDim
  base?: number;     // frequency base, default 10000
  neox?: boolean;    // NeoX pairing (i, i + nRot/2); default llama's adjacent pairs
  freqFactors?: Buf; // (nRot / 2): pair i's angle is divided by freqFactors[i] (llama 3.1's rope_freqs)
}

/** Rotary embedding, llama.cpp's: pair i of row s turns by (pos0 + s) * base^(-2i/nRot). */
export function rope(a: RopeArgs): Dispatch[] {
  const nRot = a.nRot ?? a.headDim;
  check(a.headDim % 2 === 0 && nRot % 2 === 0 && nRot > 0 && nRot <= a.headDim, 'rope', `n_rot ${nRot} must be even and at most head_dim ${a.headDim}`);
  check(Number.isInteger(a.pos0) && a.pos0 >= 0, 'rope', `bad pos0 ${a.pos0}`);
  if (a.seq === 0) return [];
  const inPlace = sameBuffer(a.x, a.y);
  const pairs = a.seq * a.nHead * (a.headDim / 2);
  return [{
    kernel: ropeKernel({ nHead: a.nHead, headDim: a.headDim, nRot, neox: a.neox ?? false, inPlace, freqFactors: !!a.freqFactors }),
    bindings: [...(inPlace ? [] : [a.x]), a.y, ...(a.freqFactors ? [a.freqFactors] : [])],
    params: ropeParams.pack({ seq: a.seq, pos0: a.pos0, theta_scale: ropeThetaScale(a.base ?? 10000, nRot) }),
    workgroups: grid1d(Math.ceil(pairs / 64)),
  }];
}

/** powf(base, -2/nRot) in f32, as ggml computes it. */
export function ropeThetaScale(base: number, nRot: number): number {
  return Math.fround(Math.pow(Math.fround(base), Math.fround(-2 / nRot)));
}
