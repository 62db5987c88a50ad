/**
 * The accuracy gate: an INT8 model is written only when its F1 on the validation set drops by at most
 * `maxF1Drop` F1 points (1 point = 0.01 F1) from the FP32 model's.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Segmentation metrics of one evaluation (F1/IoU/Dice as fractions in [0,1]). */
export interface SegmentationScores {
  readonly f1: number;
  readonly iou: number;
  readonly dice: number;
  /** Images evaluated. */
  readonly images: number;
  /** Instance masks evaluated. */
  readonly instances: number;
}

/** Default gate: 1 F1 point. */
export const DEFAULT_MAX_F1_DROP = 1.0;

/** Thrown when the gate refuses a model: names the model, both F1s, the measured drop and the limit. */
export class AccuracyGateError extends SamtuneError {
  readonly code: string = 'accuracy-gate';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    /** The refused models with their measured drops. */
    readonly refused: readonly GateDecision[],
  ) {
    super(message);
  }
}

/** Thrown for a gate limit that is not a finite number >= 0. */
export class GateOptionsError extends SamtuneError {
  readonly code: string = 'gate-options';
  readonly kind: ErrorKind = 'input';
}

/** The gate's verdict on one model. */
export interface GateDecision {
  readonly model: string;
  readonly fp32F1: number;
  readonly int8F1: number;
  /** `(fp32F1 - int8F1) * 100`; negative when INT8 scores higher. */
  readonly f1DropPoints: number;
  readonly maxF1Drop: number;
  readonly passed: boolean;
}

/** Slack of the comparison, so that a drop equal to the limit passes despite float rounding (0.8-0.79 = 0.010000000000000009). */
export const GATE_EPSILON_POINTS = 1e-9;

/** Whether a drop (F1 points) is within `maxF1Drop`. */
export function withinGate(dropPoints: number, maxF1Drop: number): boolean {
  return dropPoints <= maxF1Drop + GATE_EPSILON_POINTS;
}

/** F1 drop in points: `(fp32.f1 - int8.f1) * 100`. */
export function f1DropPoints(fp32: SegmentationScores, int8: SegmentationScores): number {
  return (fp32.f1 - int8.f1) * 100;
}

/** Decides (does not throw) whether `int8` passes against `fp32` under `maxF1Drop` points. */
export function gateDecision(
  model: string,
  fp32: SegmentationScores,
  int8: SegmentationScores,
  maxF1Drop: number,
): GateDecision {
  if (!Number.isFinite(maxF1Drop) || maxF1Drop < 0)
    throw new GateOptionsError(`gateDecision(maxF1Drop): expected a finite number of F1 points >= 0, got ${maxF1Drop}`);
  const drop = f1DropPoints(fp32, int8);
  return {
    model,
    fp32F1: fp32.f1,
    int8F1: int8.f1,
    f1DropPoints: drop,
    maxF1Drop,
    passed: withinGate(drop, maxF1Drop),
  };
}

/** The message of a refusal, e.g. "decoder: INT8 F1 0.8012 vs FP32 0.8213 = drop of 2.01 F1 points > --max-f1-drop 1". */
export function refusalMessage(d: GateDecision): string {
  return `${d.model}: INT8 F1 ${d.int8F1.toFixed(4)} vs FP32 ${d.fp32F1.toFixed(4)} = drop of ${d.f1DropPoints.toFixed(2)} F1 points > max-f1-drop ${d.maxF1Drop}; the INT8 model was not written`;
}

/** Throws `AccuracyGateError` naming every refused decision; returns the decisions when all passed. */
export function enforceGate(decisions: readonly GateDecision[]): readonly GateDecision[] {
  const refused = decisions.filter((d) => !d.passed);
  if (refused.length > 0)
    throw new AccuracyGateError(`accuracy gate: ${refused.map(refusalMessage).join('; ')}`, refused);
  return decisions;
}

/**
 * When the FP32 model's F1 is within the gate's margin of 0 (`fp32F1 * 100 <= maxF1Drop`), an INT8 model
 * that segments nothing passes too: the gate protects nothing. Returns the note that says so, else
 * undefined.
 */
export function vacuousGateNote(fp32F1: number, maxF1Drop: number): string | undefined {
  if (!(fp32F1 * 100 <= maxF1Drop + GATE_EPSILON_POINTS)) return undefined;
  return `the FP32 model scores F1 ${fp32F1.toFixed(4)} on the evaluation data, within the gate's ${maxF1Drop}-point margin of 0: an INT8 model that segments nothing would pass too, so the gate's verdict says nothing about INT8 accuracy here (fine-tune first, or evaluate on data the model segments)`;
}
