/**
 * The published SAM 2.1 Hiera layouts (`configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml`, sam2 commit
 * 2b90b9f): the shape signature a checkpoint is recognised by, and the facts its shapes lack.
 */
import type { HieraFacts } from './config.js';

/** Names of the published SAM 2.1 checkpoints (registry names and config names). */
export type Sam2PresetName =
  'sam2.1_hiera_tiny' | 'sam2.1_hiera_small' | 'sam2.1_hiera_base_plus' | 'sam2.1_hiera_large';

/** An official Hiera layout: its shape signature and the facts the shapes lack. */
export interface HieraLayout {
  readonly name: Sam2PresetName;
  readonly embedDim: number;
  readonly stages: readonly number[];
  /** `pos_embed` grid (from the shapes too; kept here to build the preset config). */
  readonly posEmbed: readonly [number, number];
  readonly facts: HieraFacts;
}

const WINDOW_SPEC = [8, 4, 14, 7] as const;

/** `configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml` (sam2 commit 2b90b9f). */
export const SAM2_HIERA_LAYOUTS: readonly HieraLayout[] = [
  {
    name: 'sam2.1_hiera_tiny',
    embedDim: 96,
    stages: [1, 2, 7, 2],
    posEmbed: [7, 7],
    facts: { numHeads: 1, globalAttBlocks: [5, 7, 9], windowSpec: WINDOW_SPEC, qPool: 3 },
  },
  {
    name: 'sam2.1_hiera_small',
    embedDim: 96,
    stages: [1, 2, 11, 2],
    posEmbed: [7, 7],
    facts: { numHeads: 1, globalAttBlocks: [7, 10, 13], windowSpec: WINDOW_SPEC, qPool: 3 },
  },
  {
    name: 'sam2.1_hiera_base_plus',
    embedDim: 112,
    stages: [2, 3, 16, 3],
    posEmbed: [14, 14],
    facts: { numHeads: 2, globalAttBlocks: [12, 16, 20], windowSpec: WINDOW_SPEC, qPool: 3 },
  },
  {
    name: 'sam2.1_hiera_large',
    embedDim: 144,
    stages: [2, 6, 36, 4],
    posEmbed: [7, 7],
    facts: { numHeads: 2, globalAttBlocks: [23, 33, 43], windowSpec: [8, 4, 16, 8], qPool: 3 },
  },
];

const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** The official layout with this shape signature, if any. */
export function officialHieraLayout(embedDim: number, stages: readonly number[]): HieraLayout | undefined {
  return SAM2_HIERA_LAYOUTS.find((l) => l.embedDim === embedDim && sameList(l.stages, stages));
}
