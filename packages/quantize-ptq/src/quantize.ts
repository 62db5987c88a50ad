/**
 * Static INT8 post-training quantization of one ONNX model, end to end: plan the QDQ insertion,
 * calibrate the activation ranges on the user's samples, keep float the nodes calibration cannot
 * support, write the QDQ model.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { containedPath } from '@samtune/sam-model';
import { decodeModel, encodeModel } from '@samtune/onnx';
import type { ModelProto } from '@samtune/onnx';
import { collectStats, DEFAULT_PERCENTILE, observedShapes, rangesFrom } from './calibrate.js';
import type { CalibrateOptions, CalibrationMethod, CalibrationStats, Feeds } from './calibrate.js';
import type { TensorRange } from './histogram.js';
import { applyQdq } from './qdq-apply.js';
import type { QdqSummary } from './qdq-apply.js';
import { planQdq } from './qdq-plan.js';
import type { NodePlan, QdqOptions } from './qdq-plan.js';

export interface StaticQuantizeOptions extends QdqOptions, CalibrateOptions {
  /** Default `minmax`. */
  readonly method?: CalibrationMethod;
  /** Percentile of `percentile` calibration. Default 99.99. */
  readonly percentile?: number;
}

/** A quantized model and how it was made. */
export interface QuantizeResult {
  readonly model: ModelProto;
  /** The serialized model (`.onnx` bytes). */
  readonly bytes: Uint8Array;
  readonly summary: QdqSummary;
  readonly calibration?: {
    readonly method: CalibrationMethod;
    readonly percentile?: number;
    readonly samples: number;
    readonly seconds: number;
  };
}

/** A model given as bytes, a `.onnx` path or an already decoded proto. */
export type ModelInput = Uint8Array | string | ModelProto;

/** Decodes a `ModelInput` (a path — external data inlined —, model bytes, or an already decoded model). */
export function toModelProto(model: ModelInput): ModelProto {
  if (typeof model === 'string') return inlineExternalData(decodeModel(readFileSync(model)), dirname(model), model);
  if (model instanceof Uint8Array) return decodeModel(model);
  return model;
}

/**
 * Reads initializers stored as external data (`location`/`offset`/`length`) into `rawData`. The
 * location is a path read from the file: it must be a regular file inside `dir` (`containedPath`:
 * no `../`, absolute path, symlink out, FIFO or device), and the range must lie inside that file.
 * @throws PathOutsideFolderError for a location outside `dir` or not a regular file
 * @throws ExternalDataError for a range outside the file
 */
function inlineExternalData(model: ModelProto, dir: string, source: string): ModelProto {
  if (!model.graph.initializer.some((t) => t.externalData)) return model;
  const fds = new Map<string, { fd: number; size: number }>();
  try {
    const initializer = model.graph.initializer.map((t) => {
      if (!t.externalData) return t;
      const get = (k: string): string | undefined => t.externalData?.find((e) => e.key === k)?.value;
      const what = `toModelProto(${source}): initializer '${t.name}' external data location`;
      const file = containedPath(dir, get('location') ?? '', { what });
      let f = fds.get(file);
      if (f === undefined) {
        const fd = openSync(file, 'r');
        fds.set(file, (f = { fd, size: fstatSync(fd).size }));
      }
      const length = Number(get('length') ?? f.size);
      const offset = Number(get('offset') ?? 0);
      if (
        !Number.isSafeInteger(length) ||
        !Number.isSafeInteger(offset) ||
        length < 0 ||
        offset < 0 ||
        offset + length > f.size
      )
        throw new ExternalDataError(
          `toModelProto(${source}): initializer '${t.name}': expected offset + length within ${file} (${f.size} bytes), got offset ${get('offset') ?? 0}, length ${get('length')}`,
        );
      const rawData = new Uint8Array(length);
      readSync(f.fd, rawData, 0, length, offset);
      const { externalData: _e, dataLocation: _l, ...rest } = t;
      return { ...rest, rawData };
    });
    return { ...model, graph: { ...model.graph, initializer } };
  } finally {
    for (const f of fds.values()) closeSync(f.fd);
  }
}

/** Thrown when an initializer's external-data range lies outside its file. */
export class ExternalDataError extends SamtuneError {
  readonly code: string = 'external-data';
  readonly kind: ErrorKind = 'input';
}

const tensorsOf = (n: NodePlan, inputs: readonly string[]): string[] => [
  ...n.activationInputs.map((i) => inputs[i] as string),
  ...(n.output ? [n.output] : []),
];

/**
 * Quantizes `model` to static INT8 QDQ (see qdq-plan.ts for what is quantized). Nodes whose
 * calibrated activation range is a single value (the samples never exercised them, e.g. the
 * `mask_input` convolutions when no sample has a mask prompt) are kept float: a zero-width range
 * would clip every real input to that value.
 * @param samples model inputs by name; iterated once.
 */
export async function quantizeStatic(
  model: ModelInput,
  samples: Iterable<Feeds> | AsyncIterable<Feeds>,
  options: StaticQuantizeOptions = {},
): Promise<QuantizeResult> {
  const proto = toModelProto(model);
  const method = options.method ?? 'minmax';
  const percentile = options.percentile ?? DEFAULT_PERCENTILE;
  let plan = planQdq(proto, options);
  const t0 = performance.now();
  const stats: CalibrationStats = await collectStats(proto, plan.tensors, samples, {
    ...options,
    histograms: options.histograms ?? method !== 'minmax',
  });
  const seconds = (performance.now() - t0) / 1000;
  const ranges: Map<string, TensorRange> = rangesFrom(stats, method, percentile);
  const keepFloat = new Map(options.keepFloat ?? []);
  for (const n of plan.nodes) {
    const flat = tensorsOf(n, (proto.graph.node[n.index] as { input: string[] }).input).filter((t) => {
      const r = ranges.get(t);
      return !r || !(r.max > r.min);
    });
    if (flat.length > 0)
      keepFloat.set(n.name, `calibration saw a single value in ${flat.join(', ')} (never exercised by the samples)`);
  }
  if (keepFloat.size > (options.keepFloat?.size ?? 0)) plan = planQdq(proto, { ...options, keepFloat });
  const calibration = { method, ...(method === 'percentile' ? { percentile } : {}), samples: stats.samples };
  // no timings in the model: the same samples give the same bytes
  const { model: q, summary } = applyQdq(proto, plan, ranges, { calibration }, observedShapes(stats));
  return { model: q, bytes: encodeModel(q), summary, calibration: { ...calibration, seconds } };
}
