/**
 * `samLossOn` on onnxruntime for plain buffers (validation on the ort engine): the one definition
 * recorded by `OnnxGraphOps` into a small graph per batch size, loaded once into a `BoundOrtSession`.
 * Inputs `logits [B,1,H,W]`, `iou [B,1]`, `targets [B,1,H,W]`; output `loss [1]` (the mean over the
 * prompts, like `samLossOn(...).loss`).
 */
import { BoundOrtSession, boundTensor, OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { LossShapeError, samLossOn, type SamLossConfig } from './sam-loss-on.js';

/** The ORT form of `samLossOn` for masks of `(h, w)` (one session per batch size, built on first use). */
export class OrtSamLoss {
  private readonly sessions = new Map<number, BoundOrtSession>();

  constructor(
    readonly size: readonly [number, number] = [256, 256],
    private readonly config: SamLossConfig = {},
  ) {}

  /** The loss of `b` prompts: `logits`, `targets` `[b,1,H,W]` and `iou` `[b,1]`, row-major. */
  loss(logits: Float32Array, iou: Float32Array, targets: Float32Array, b: number): number {
    const [h, w] = this.size;
    if (logits.length !== b * h * w || targets.length !== b * h * w || iou.length !== b)
      throw new LossShapeError(
        `OrtSamLoss.loss(b=${b}): expected logits and targets of ${b * h * w} values and iou of ${b}, got ${logits.length}, ${targets.length}, ${iou.length}`,
      );
    let session = this.sessions.get(b);
    if (!session) {
      session = new BoundOrtSession(this.modelBytes(b), { label: `sam-loss b=${b}` });
      this.sessions.set(b, session);
    }
    const out = new Float32Array(1);
    session.run(
      {
        logits: boundTensor(logits, [b, 1, h, w]),
        iou: boundTensor(iou, [b, 1]),
        targets: boundTensor(targets, [b, 1, h, w]),
      },
      { loss: boundTensor(out, [1]) },
    );
    return out[0] as number;
  }

  /** Releases the sessions. */
  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }

  private modelBytes(b: number): Uint8Array {
    const [h, w] = this.size;
    const ops = new OnnxGraphOps(new Map(), new OnnxGraphBuilder({ name: 'samtune_sam_loss' }));
    const logits = ops.input('logits', [b, 1, h, w]);
    const iou = ops.input('iou', [b, 1]);
    const targets = ops.input('targets', [b, 1, h, w]);
    const { loss } = samLossOn(ops, logits, iou, targets, this.config);
    ops.output('loss', ops.reshape(loss, [1]));
    return ops.builder.toModelBytes();
  }
}
