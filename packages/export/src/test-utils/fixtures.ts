/**
 * Test-only: the reference fixtures of `../shared/fixtures/sam-reference` (a missing one fails loudly,
 * never skips), manifest prompt cases as `PredictPrompts`, and a worst-ratio tally per output.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FloatTensor, type PredictPrompts } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { referencePath } from '@samtune/test-fixtures';
export { referencePath };

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `samtune-export-${prefix}-`));
}

export interface PromptCase {
  readonly case: number;
  readonly point_coords: [number, number][] | null;
  readonly point_labels: number[] | null;
  readonly box: [number, number, number, number] | null;
  readonly mask_input_from_case: number | null;
  readonly multimask_output: boolean;
}

export interface Manifest {
  readonly images: Record<
    string,
    { readonly file: string; readonly original_size: [number, number]; readonly input_size: [number, number] }
  >;
  readonly cases: Record<string, (PromptCase | { readonly case: 'batch' })[]>;
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(referencePath('manifest.json'), 'utf8')) as Manifest;
}

/** The non-batch prompt cases of an image. */
export function promptCases(m: Manifest, stem: string): PromptCase[] {
  const list = m.cases[stem];
  if (!list) throw new Error(`manifest.json: no cases for image '${stem}'`);
  return list.filter((c): c is PromptCase => c.case !== 'batch');
}

/** Reference tensors of `<model>_outputs.safetensors` with a getter that names missing keys. */
export function referenceOutputs(model: string): (key: string) => FloatTensor {
  const tensors = readSafetensors(referencePath(`${model}_outputs.safetensors`)).tensors;
  return (key) => {
    const t = tensors.get(key);
    if (!t || t.dtype !== 'float32') throw new Error(`${model}_outputs.safetensors: no float32 tensor '${key}'`);
    return t as FloatTensor;
  };
}

/** A manifest case as predictor prompts (ORIGINAL pixels), with its fixture mask input. */
export function casePrompts(c: PromptCase, maskInput?: FloatTensor): PredictPrompts {
  return {
    ...(c.point_coords ? { points: c.point_coords, labels: c.point_labels ?? [] } : {}),
    ...(c.box ? { box: c.box } : {}),
    ...(maskInput ? { maskInput } : {}),
  };
}

/** Worst agreement ratio per output family (sam-model's `AgreementTally`). */
export { AgreementTally as RatioTally } from '@samtune/sam-model';
