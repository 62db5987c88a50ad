/**
 * The per-block layout of a Hiera trunk (`sam2/modeling/backbones/hieradet.py`, `Hiera.__init__`):
 * which blocks start a stage (channels and heads x2, a `proj` on the shortcut), which pool their
 * queries, and each block's attention window. A stage's first block keeps the previous stage's
 * window (the official loop reads `window_spec[cur_stage - 1]` before advancing the stage).
 */
import type { HieraConfig } from './config.js';

/** One `MultiScaleBlock`. */
export interface HieraBlockLayout {
  readonly dim: number;
  readonly dimOut: number;
  readonly numHeads: number;
  /** Attention window side before pooling; 0 = global attention. */
  readonly window: number;
  /** Whether the block max-pools its queries (and shortcut) by 2x2. */
  readonly qPool: boolean;
}

/** Index of the last block of each stage (`stage_ends`). */
export function hieraStageEnds(stages: readonly number[]): number[] {
  let end = -1;
  return stages.map((n) => (end += n));
}

/** Every block's layout, in order. */
export function hieraBlocks(config: HieraConfig): HieraBlockLayout[] {
  const stageEnds = hieraStageEnds(config.stages);
  const depth = stageEnds[stageEnds.length - 1]! + 1;
  const qPoolBlocks = new Set(
    stageEnds
      .slice(0, -1)
      .map((e) => e + 1)
      .slice(0, config.qPool),
  );
  const global = new Set(config.globalAttBlocks);
  const blocks: HieraBlockLayout[] = [];
  let dim = config.embedDim;
  let heads = config.numHeads;
  let stage = 1;
  for (let i = 0; i < depth; i++) {
    let dimOut = dim;
    const window = global.has(i) ? 0 : (config.windowSpec[stage - 1] as number);
    if (stageEnds.includes(i - 1)) {
      dimOut = dim * 2;
      heads *= 2;
      stage++;
    }
    blocks.push({ dim, dimOut, numHeads: heads, window, qPool: qPoolBlocks.has(i) });
    dim = dimOut;
  }
  return blocks;
}

/** Token grid side after the patch embedding (stride 4): 256 for 1024 input. */
export const HIERA_PATCH_STRIDE = 4;
