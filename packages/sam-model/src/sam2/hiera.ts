/**
 * The Hiera trunk (`sam2/modeling/backbones/hieradet.py`, `Hiera.forward`): patch embedding
 * (Conv 7x7, stride 4, pad 3) -> NHWC + the position embedding (a build-time constant, see
 * `prepareSam2EncoderWeights`) -> the blocks; the map at each stage end is an output (NCHW).
 */
import type { ParamScope } from '../layers.js';
import { conv2d } from '../layers.js';
import type { HieraConfig } from './config.js';
import { hieraBlock } from './hiera-block.js';
import { HIERA_PATCH_STRIDE, hieraBlocks, hieraStageEnds } from './hiera-layout.js';

/** Derived key (under the trunk scope) of the summed, resized position embedding `[1,G,G,C]`. */
export const HIERA_POS_EMBED_KEY = 'pos_embed.grid';

/**
 * `images [B,3,S,S]` -> one NCHW feature map per stage, finest first: `[B,C,S/4,S/4]`,
 * `[B,2C,S/8,S/8]`, `[B,4C,S/16,S/16]`, `[B,8C,S/32,S/32]`. `p` is the `image_encoder.trunk.` scope.
 */
export function hieraTrunk<T>(p: ParamScope<T>, config: HieraConfig, images: T): T[] {
  const { ops } = p;
  const k = HIERA_PATCH_STRIDE;
  const patches = conv2d(p.child('patch_embed').child('proj'), images, { stride: k, pad: 3 });
  let x = ops.add(ops.transpose(patches, [0, 2, 3, 1]), p.get(HIERA_POS_EMBED_KEY));
  const stageEnds = new Set(hieraStageEnds(config.stages));
  const outputs: T[] = [];
  hieraBlocks(config).forEach((layout, i) => {
    x = hieraBlock(p.child('blocks').child(i), layout, x);
    if (stageEnds.has(i)) outputs.push(ops.transpose(x, [0, 3, 1, 2]));
  });
  return outputs;
}
