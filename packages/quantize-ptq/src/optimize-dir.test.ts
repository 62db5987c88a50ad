import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '@samtune/sam-model';
import { createSession, encodeModel } from '@samtune/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccuracyGateError } from './gate.js';
import { optimizeExportDir } from './optimize-dir.js';
import type { EvalTarget } from './optimize-dir.js';
import { mlpModel, samples } from './test-utils/graphs.js';

// A minimal export directory whose "encoder" and "decoder" are the small MLP; the evaluator is a stub
// returning fixed F1s per pair, so the gate's pass and refuse paths are exercised end to end.
let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-ptq-'));
  const bytes = encodeModel(mlpModel());
  const entry = async (file: string) => {
    writeFileSync(join(dir, file), bytes);
    return { file, bytes: bytes.length, sha256: await sha256File(join(dir, file)), opset: 17, inputs: [], outputs: [] };
  };
  const models = {
    encoder: { ...(await entry('encoder.onnx')), variant: 'images' },
    decoder: { ...(await entry('decoder.onnx')), variant: 'multimask' },
  };
  const json = {
    format: 'samtune-onnx',
    format_version: 1,
    samtune_version: '0.1.0',
    created_at: '',
    checkpoint: { path: 'fixture.pth', sha256: 'ab'.repeat(32) },
    model: 'test',
    config: {},
    image_size: 1024,
    pixel_mean: [0, 0, 0],
    pixel_std: [1, 1, 1],
    mask_threshold: 0,
    mask_selection: { rule: 'token 0 unless one point', multimask_tokens: '1-3' },
    prompt_recipe: '',
    models,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const F1: Record<string, number> = { fp32: 0.8, 'int8-encoder': 0.78, 'int8-decoder': 0.795, 'int8-both': 0.775 };

function run(maxF1Drop: number, seen: EvalTarget[]) {
  return optimizeExportDir({
    dir,
    calibration: { encoder: () => samples('x', [2, 4, 8], 3), decoder: () => samples('x', [2, 4, 8], 3, 7) },
    evaluate: async (t) => {
      seen.push(t);
      const f1 = F1[t.label] as number;
      return { f1, iou: f1 / 2, dice: f1, images: 2, instances: 5 };
    },
    maxF1Drop,
    session: { intraOpNumThreads: 1 },
  });
}

describe('optimizeExportDir', () => {
  it('refuse path: writes the decoder (drop 0.5), refuses the encoder (drop 2.0) with AccuracyGateError, reports both', async () => {
    const seen: EvalTarget[] = [];
    const err = await run(1, seen).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccuracyGateError);
    expect((err as Error).message).toMatch(
      /refused encoder: INT8 F1 0\.7800 vs FP32 0\.8000 = drop of 2\.00 F1 points > max-f1-drop 1; the INT8 model was not written/,
    );
    expect((err as AccuracyGateError).refused.map((d) => d.model)).toEqual(['encoder']);
    expect(seen.map((t) => t.label)).toEqual(['fp32', 'int8-encoder', 'int8-decoder']);
    expect(seen[1]?.encoderFile).toBe(join(dir, '.ptq-work', 'encoder.int8.onnx'));
    expect(seen[1]?.model.info.models.encoder?.file).toBe('encoder.int8.onnx'); // linked into the pair's folder
    expect(existsSync(join(dir, 'encoder.int8.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'decoder.int8.onnx'))).toBe(true);
    expect(existsSync(join(dir, '.ptq-work'))).toBe(false);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(Object.keys(json.models)).toEqual(['encoder', 'decoder', 'decoder_int8']);
    expect(json.models.decoder_int8.sha256).toBe(await sha256File(join(dir, 'decoder.int8.onnx')));
    const md = readFileSync(join(dir, 'ptq-report.md'), 'utf8');
    expect(md).toMatch(/\| encoder \| INT8 .*\| -2\.00 \| \*\*refused\*\* \(> 1\) \|/);
    expect(md).toMatch(/\| decoder \| INT8 .*\| -0\.50 \| pass, wrote `decoder\.int8\.onnx` \|/);
    const report = JSON.parse(readFileSync(join(dir, 'ptq-report.json'), 'utf8'));
    expect(report.components.map((c: { written: boolean }) => c.written)).toEqual([false, true]);
    expect(report.components[0].fp32.latency.runs).toBe(20);
  });

  it('pass path: both models written and listed, the pair evaluated together, the INT8 file runs', async () => {
    const seen: EvalTarget[] = [];
    const r = await run(2.5, seen);
    expect(r.decisions.map((d) => d.passed)).toEqual([true, true]);
    expect(seen.map((t) => t.label)).toEqual(['fp32', 'int8-encoder', 'int8-decoder', 'int8-both']);
    expect(r.report.combined).toMatchObject({ overGate: false, f1DropPoints: expect.closeTo(2.5, 8) });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(Object.keys(json.models)).toEqual(['encoder', 'decoder', 'encoder_int8', 'decoder_int8']);
    expect(json.quantization.decisions).toHaveLength(2);
    expect(r.report.components[0]?.int8.bytes).toBe(readFileSync(join(dir, 'encoder.int8.onnx')).length);
    const s = await createSession(join(dir, 'encoder.int8.onnx'), { intraOpNumThreads: 1 });
    expect(s.outputs.map((o) => o.name)).toEqual(['y']);
    await s.release();
  });
});
