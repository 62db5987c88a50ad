/**
 * The trainer's prompt kinds. The rule of which decoder output a prompt trains and which one
 * inference keeps lives in @samtune/sam-model (`useMultimask`, `selectMaskIndex`) so that the export
 * package applies the same rule; it is re-exported here for the trainer's modules.
 */
export { useMultimask, selectMaskIndex, type PromptShape } from '@samtune/sam-model';

/** The prompt kinds the trainer builds. */
export type TrainPromptKind = 'box' | 'points';
