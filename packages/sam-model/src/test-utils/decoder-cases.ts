/**
 * Test-only: the prompt cases of `fixtures/sam-reference/manifest.json` and the reference outputs
 * (`<model>_outputs.safetensors`), plus a tally of the worst agreement ratio per tensor family.
 */
import { readFileSync } from 'node:fs';
import { readSafetensors } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { referencePath } from './fixtures.js';

export type XY = [number, number];
export type XYXY = [number, number, number, number];

export interface PromptCase {
  readonly case: number;
  readonly point_coords: XY[] | null;
  readonly point_labels: number[] | null;
  readonly box: XYXY | null;
  readonly mask_input_from_case: number | null;
  readonly multimask_output: boolean;
}

export interface BatchCase {
  readonly case: 'batch';
  readonly boxes: XYXY[];
  readonly multimask_output: boolean;
}

export interface ImageEntry {
  readonly file: string;
  /** (H,W). */
  readonly original_size: [number, number];
  readonly input_size: [number, number];
}

export interface Manifest {
  readonly images: Record<string, ImageEntry>;
  readonly cases: Record<string, (PromptCase | BatchCase)[]>;
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(referencePath('manifest.json'), 'utf8')) as Manifest;
}

export function promptCases(m: Manifest, stem: string): PromptCase[] {
  const list = m.cases[stem];
  if (!list) throw new Error(`manifest.json: no cases for image '${stem}'`);
  return list.filter((c): c is PromptCase => c.case !== 'batch');
}

export function batchCase(m: Manifest, stem: string): BatchCase {
  const c = m.cases[stem]?.find((x): x is BatchCase => x.case === 'batch');
  if (!c) throw new Error(`manifest.json: no 'batch' case for image '${stem}'`);
  return c;
}

/** Reference tensors of `<model>_outputs.safetensors`. */
export function readOutputs(model: string): WeightMap {
  return readSafetensors(referencePath(`${model}_outputs.safetensors`)).tensors;
}

/** A float32 reference tensor; throws naming the file and key when absent. */
export function refTensor(outputs: WeightMap, model: string, key: string): FloatTensor {
  const t = outputs.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`${model}_outputs.safetensors: no float32 tensor '${key}'`);
  return t as FloatTensor;
}

/** Worst agreement ratio per output family (sam-model's `AgreementTally`). */
export { AgreementTally as RatioTally } from '../compare.js';
