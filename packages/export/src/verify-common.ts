/** Shared pieces of export verification: the worst-ratio tally and the delete-then-throw failure. */
import { rmSync } from 'node:fs';
import type { Agreement } from '@samtune/sam-model';
import type { Session } from '@samtune/onnx';
import { ExportVerificationError } from './errors.js';
import type { VerificationSummary } from './model-json.js';

/** Worst agreement ratio per output over the verification cases. */
export class WorstRatios {
  private readonly worst = new Map<string, { ratio: number; case: string }>();

  add(output: string, testCase: string, a: Agreement): void {
    const prev = this.worst.get(output);
    if (!prev || a.ratio > prev.ratio) this.worst.set(output, { ratio: a.ratio, case: testCase });
  }

  summary(reference: string, cases: readonly string[]): VerificationSummary {
    return { reference, cases: [...cases], worst_ratio: Object.fromEntries(this.worst) };
  }
}

/** Deletes a model file and its external data (if any). */
export function deleteModelFile(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.data`, { force: true });
}

/** Releases `session`, deletes the model file (and `.data`), and throws `ExportVerificationError`. */
export async function failVerification(
  path: string,
  output: string,
  testCase: string,
  a: Agreement,
  session?: Session,
): Promise<never> {
  await session?.release();
  deleteModelFile(path);
  throw new ExportVerificationError(path, output, testCase, a);
}
