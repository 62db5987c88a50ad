/**
 * Verification of written encoder models: both variants on one fixed synthetic image, against the
 * in-process encoder session (the graph built in memory from the same weights, as `SamModel` runs it),
 * within `1e-4 + 1e-3 * max|ref|`. The `images` file gets `normalizeAndPad(image)`, the `rgb` file the
 * raw HWC image, so passing both also proves the in-graph normalise-then-pad equals the host one.
 */
import {
  compareTensors,
  mulberry32,
  type FloatTensor,
  type HostTensor,
  type ImageEncoderSession,
  type SamConfig,
} from '@samtune/sam-model';
import { createSession, type SessionOptions } from '@samtune/onnx';
import { normalizeAndPad, type RgbImage } from '@samtune/transforms';
import { ENCODER_INPUT, ENCODER_OUTPUT, ENCODER_RGB_INPUT, type EncoderVariant } from './contract.js';
import type { VerificationSummary } from './model-json.js';
import { failVerification } from './verify-common.js';

/** (h,w) of the verification image: a resized landscape image, padded at the bottom. */
export const VERIFY_IMAGE_SIZE: readonly [number, number] = [683, 1024];

/** A deterministic RGB image: smooth gradients plus seeded noise, `(h,w,3)`. */
export function verificationImage(h = VERIFY_IMAGE_SIZE[0], w = VERIFY_IMAGE_SIZE[1]): RgbImage {
  const rand = mulberry32(7);
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      data[i] = Math.min(255, Math.floor((255 * x) / w + 40 * rand()));
      data[i + 1] = Math.min(255, Math.floor((255 * y) / h + 40 * rand()));
      data[i + 2] = Math.floor(128 + 100 * Math.sin(x / 37) * Math.cos(y / 23) + 20 * rand());
    }
  }
  return { width: w, height: h, data };
}

/** What verification compares the files with (a `SamModel` satisfies it). */
export interface EncoderReference {
  readonly config: SamConfig;
  /** The in-process encoder session on the same weights. */
  encoder(): Promise<ImageEncoderSession>;
}

/**
 * Runs each written encoder on the verification image and compares `image_embeddings` with the
 * in-process session's.
 * @returns per variant, the agreement summary
 * @throws ExportVerificationError (after deleting the failing file and its `.data`)
 */
export async function verifyEncoderFiles(
  files: Partial<Record<EncoderVariant, string>>,
  reference: EncoderReference,
  opts: SessionOptions = {},
): Promise<Partial<Record<EncoderVariant, VerificationSummary>>> {
  const { config } = reference;
  const s = config.imageEncoder.imgSize;
  const image = verificationImage(Math.min(VERIFY_IMAGE_SIZE[0], s), Math.min(VERIFY_IMAGE_SIZE[1], s));
  const padded = normalizeAndPad(image, config.pixelMean, config.pixelStd, s);
  const ref = await (await reference.encoder()).embed(padded);
  const out: Partial<Record<EncoderVariant, VerificationSummary>> = {};
  for (const [variant, path] of Object.entries(files) as [EncoderVariant, string][]) {
    const session = await createSession(path, opts);
    let got: FloatTensor;
    try {
      const feed: Record<string, HostTensor> =
        variant === 'images'
          ? { [ENCODER_INPUT]: { dtype: 'float32' as const, shape: [1, 3, s, s], data: padded } }
          : {
              [ENCODER_RGB_INPUT]: {
                dtype: 'float32' as const,
                shape: [image.height, image.width, 3],
                data: Float32Array.from(image.data),
              },
            };
      got = (await session.run(feed, [ENCODER_OUTPUT]))[ENCODER_OUTPUT] as FloatTensor;
    } finally {
      await session.release();
    }
    const a = compareTensors(got, ref);
    const name = `synthetic_${image.height}x${image.width}`;
    if (!a.ok) await failVerification(path, ENCODER_OUTPUT, name, a);
    out[variant] = {
      reference: 'in-process onnxruntime encoder session (same weights)',
      cases: [name],
      worst_ratio: { [ENCODER_OUTPUT]: { ratio: a.ratio, case: name } },
    };
  }
  return out;
}
