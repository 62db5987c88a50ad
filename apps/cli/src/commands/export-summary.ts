/** `samtune export`'s one-line JSON summary of what it wrote: files, bytes and each model's verification ratios. */
import type { exportSamOnnx, exportTransformersJs } from '@samtune/export';

type OnnxExport = Awaited<ReturnType<typeof exportSamOnnx>>;
type TransformersJsExport = Awaited<ReturnType<typeof exportTransformersJs>>;

/** The worst |a-b| / tolerance ratio of each output, rounded to 5 decimals. */
function ratios(worst: Readonly<Record<string, { readonly ratio: number }>> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(worst ?? {}).map(([o, w]) => [o, +w.ratio.toFixed(5)]));
}

/** The summary of an ONNX export (`--format onnx`). */
export function onnxExportSummary(r: OnnxExport): object {
  const models = Object.fromEntries(
    Object.entries(r.modelJson.models).map(([k, e]) => [
      k,
      { file: e.file, bytes: e.bytes, worst_ratio: ratios(e.verification?.worst_ratio) },
    ]),
  );
  return { out: r.dir, model_json: r.modelJsonPath, decoder: r.modelJson.models.decoder?.variant, models };
}

/** The summary of a transformers.js export (`--format transformers.js`). */
export function transformersJsExportSummary(t: TransformersJsExport): object {
  return {
    out: t.dir,
    format: 'transformers.js',
    decoder: t.variant,
    files: Object.values(t.files),
    worst_ratio: {
      vision_encoder: ratios(t.verification.vision_encoder.worst_ratio),
      decoder: ratios(t.verification.decoder.worst_ratio),
    },
  };
}
