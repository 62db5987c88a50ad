/**
 * Test-only: runs one `Ops` program on TfjsOps (tfjs 'cpu') and on OnnxGraphOps + onnxruntime,
 * and measures their agreement with the fixture rule of compare.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Agreement } from '../../compare.js';
import { compareTensors } from '../../compare.js';
import { mulberry32 } from '../../init.js';
import type { Ops, FloatTensor, HostTensor } from '@samtune/tensor';
import { TfjsOps } from '../../ops/tfjs-ops.js';
import { createSession, OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { numel } from '@samtune/tensor';

/** An `Ops` program: inputs in, one output. */
export type OpsProgram = <T>(ops: Ops<T>, xs: readonly T[]) => T;

/** Seeded standard-normal values (Box-Muller over mulberry32). */
export function randn(shape: readonly number[], seed: number, scale = 1): FloatTensor {
  const rand = mulberry32(seed);
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) {
    const u = Math.max(rand(), 1e-12);
    data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) * scale;
  }
  return { dtype: 'float32', shape: [...shape], data };
}

export interface ParityInput {
  /** The values (their shape is the concrete run-time shape). */
  tensor: FloatTensor;
  /** Declared ONNX input dims (strings = dynamic); default the concrete shape. */
  dims?: readonly (number | string)[];
}

export interface ParityResult {
  agreement: Agreement;
  /** Shape OnnxGraphOps inferred statically (-1 = dynamic). */
  staticShape: number[];
  onnx: FloatTensor;
  ref: FloatTensor;
}

/** Runs `program` on tfjs (reference) and ONNX; `runs` gives several input sets for one ONNX model. */
export async function parity(
  program: OpsProgram,
  runs: readonly (readonly ParityInput[])[],
  weights: ReadonlyMap<string, HostTensor> = new Map(),
): Promise<ParityResult[]> {
  const first = runs[0];
  if (!first) throw new Error('parity(runs): needs at least one input set');
  const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder({ name: 'parity' }));
  const xs = first.map((x, i) => ops.input(`x${i}`, x.dims ?? x.tensor.shape));
  const y = program(ops, xs);
  ops.output('y', y);
  const session = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
  const tfWeights = new Map(
    [...weights].map(([k, v]) => [k, tf.tensor(v.data as Float32Array, [...v.shape], 'float32')] as const),
  );
  const tfOps = new TfjsOps(tfWeights);
  const results: ParityResult[] = [];
  try {
    for (const inputs of runs) {
      const feeds = Object.fromEntries(inputs.map((x, i) => [`x${i}`, x.tensor]));
      const onnx = (await session.run(feeds)).y as FloatTensor;
      const refT = tf.tidy(() =>
        program(
          tfOps,
          inputs.map((x) => tf.tensor(x.tensor.data, [...x.tensor.shape], 'float32')),
        ),
      );
      const ref: FloatTensor = { dtype: 'float32', shape: [...refT.shape], data: refT.dataSync() as Float32Array };
      refT.dispose();
      results.push({ agreement: compareTensors(onnx, ref), staticShape: [...y.shape], onnx, ref });
    }
  } finally {
    await session.release();
    tfWeights.forEach((t) => t.dispose());
  }
  return results;
}
