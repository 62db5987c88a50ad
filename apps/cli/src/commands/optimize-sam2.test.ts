/**
 * `samtune optimize` on a SAM 2.1 export folder (`samtune export` of the seeded reduced-Hiera
 * checkpoint: samexporter's encoder.onnx + decoder.onnx) with examples/plant-mini: both components
 * quantized (calibrated on 2 training images), FP32 and INT8 pairs evaluated with the box recipe on
 * the valid subset, gated on F1: a generous gate writes both INT8 models (they run: the report's
 * metrics come from them), and the report names each component's F1 before and after.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO } from '../test-utils/io.js';
import { writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { exportCommand } from './export.js';
import { optimizeCommand } from './optimize.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-optimize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const plantMini = resolve(fileURLToPath(import.meta.url), '../../../../../examples/plant-mini');

interface Report {
  components: {
    component: string;
    written: boolean;
    metrics: { fp32: { f1: number; instances: number }; int8: { f1: number; instances: number } };
    gate: { passed: boolean };
  }[];
}

describe('samtune optimize (SAM 2.1 export folder)', () => {
  it('INT8 encoder and decoder of the seeded Hiera mini, calibrated and gated on plant-mini', async () => {
    const ckpt = await writeSam2MiniCheckpoint(dir);
    const out = join(dir, 'onnx');
    expect(await exportCommand.run(['--checkpoint', ckpt, '--out', out], recordingIO())).toBe(0);
    const io = recordingIO();
    const args = ['--model', out, '--data-root', plantMini, '--subset-size', '2', '--prompts-per-image', '2'];
    const code = await optimizeCommand.run(
      [...args, '--max-f1-drop', '100', '--cache-dir', join(dir, 'cache'), '--threads', '1'],
      io,
    );
    expect(code, io.stderr.join('\n').slice(-3000)).toBe(0);
    console.log(io.stdout.join('\n')); // the per-component summary (sizes, ms, F1 FP32 -> INT8)
    expect(io.stderr.join('\n')).toMatch(/SAM 2\.1 export folder; calibration: 2 images of 'train'/);
    expect(io.stdout.join('\n')).toMatch(
      /^encoder: .* MB -> .* MB, .* ms, F1 0\.\d{4} -> 0\.\d{4} \(wrote encoder\.int8\.onnx\)/m,
    );
    expect(io.stdout.join('\n')).toMatch(/^decoder: .* F1 0\.\d{4} -> 0\.\d{4} \(wrote decoder\.int8\.onnx\)/m);
    expect(existsSync(join(out, 'encoder.int8.onnx'))).toBe(true);
    expect(existsSync(join(out, 'decoder.int8.onnx'))).toBe(true);
    expect(existsSync(join(out, 'model.json'))).toBe(false);
    const report = JSON.parse(readFileSync(join(out, 'ptq-report.json'), 'utf8')) as Report;
    expect(report.components.map((c) => [c.component, c.written, c.gate.passed])).toEqual([
      ['encoder', true, true],
      ['decoder', true, true],
    ]);
    for (const c of report.components) {
      expect(c.metrics.fp32.instances).toBe(17); // plant-mini valid: 4 images, 17 instances
      expect(c.metrics.fp32.f1).toBeGreaterThan(0);
      expect(c.metrics.int8.f1).toBeGreaterThanOrEqual(0);
      expect(c.metrics.int8.f1).toBeLessThanOrEqual(1);
    }
  }, 900_000);
});
