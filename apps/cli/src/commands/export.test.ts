import { cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCapabilityError, readModelJson } from '@samtune/export';
import { compareTensors, inferSamConfig, sha256File, writeSamSafetensors, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { exportCommand } from './export.js';
import { predictCommand } from './predict.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-export-'));
const runDir = join(dir, 'run');
const out = join(dir, 'onnx');
let ref: Map<string, FloatTensor>;
const BOX = '160,133.5,560,480.6000061035156';

beforeAll(() => {
  ref = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors as Map<string, FloatTensor>;
  // a run directory as `samtune train` leaves it: complete weights with their config in best.safetensors
  mkdirSync(runDir, { recursive: true });
  const weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
  writeSamSafetensors(join(runDir, 'best.safetensors'), weights, inferSamConfig(weights));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('samtune export', () => {
  it('exports a run directory (best.safetensors) with --single-mask: three verified models and model.json', async () => {
    const io = recordingIO();
    expect(await exportCommand.run(['--checkpoint', runDir, '--out', out, '--single-mask'], io)).toBe(0);
    const summary = JSON.parse(io.stdout[0]!) as {
      decoder: string;
      models: Record<string, { file: string; bytes: number; worst_ratio: Record<string, number> }>;
    };
    expect(summary.decoder).toBe('single_mask');
    expect(Object.keys(summary.models).sort()).toEqual(['decoder', 'encoder', 'encoder_rgb']);
    for (const m of Object.values(summary.models)) {
      expect(existsSync(join(out, m.file))).toBe(true);
      for (const r of Object.values(m.worst_ratio)) expect(r).toBeLessThanOrEqual(1);
    }
    const json = readModelJson(out);
    expect(json.checkpoint.path).toBe(join(runDir, 'best.safetensors'));
    expect(json.checkpoint.sha256).toBe(await sha256File(join(runDir, 'best.safetensors')));
    expect(io.stderr.join('\n')).toMatch(/verifying the decoder/);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toContain('"rule": "samtune rule');
  });

  it('refuses a missing --out', async () => {
    await expect(exportCommand.run(['--checkpoint', 'x'], recordingIO())).rejects.toThrow(UsageError);
  });
});

describe('samtune predict with an export directory', () => {
  it('--checkpoint <dir>: the box case of dog.jpg through encoder.onnx + decoder.onnx matches the fixture', async () => {
    const io = recordingIO();
    const file = join(dir, 'box.safetensors');
    expect(
      await predictCommand.run(
        ['--checkpoint', out, '--image', referencePath('dog.jpg'), '--box', BOX, '--out', file],
        io,
      ),
    ).toBe(0);
    expect(io.stderr.join('\n')).toMatch(/ONNX export .* single_mask decoder/);
    const got = readSafetensors(file).tensors as Map<string, FloatTensor>;
    for (const name of ['low_res_masks', 'iou_predictions', 'masks']) {
      const a = compareTensors(got.get(name)!, ref.get(`dog.case1.${name}`)!);
      expect(a.ok, `${name} ratio ${a.ratio}`).toBe(true);
    }
  });

  it('--model <dir>: one point gives the best-IoU multimask mask (the rule); --multimask is refused by a single-mask export', async () => {
    const file = join(dir, 'point.safetensors');
    const args = ['--model', out, '--image', referencePath('dog.jpg'), '--point', '400,293.70001220703125,1'];
    expect(await predictCommand.run([...args, '--out', file], recordingIO())).toBe(0);
    const got = readSafetensors(file).tensors as Map<string, FloatTensor>;
    const iou = Array.from(ref.get('dog.case0.iou_predictions')!.data);
    const best = iou.indexOf(Math.max(...iou));
    const low = ref.get('dog.case0.low_res_masks')!;
    const bestLow = { shape: [1, 256, 256], data: low.data.subarray(best * 65536, (best + 1) * 65536) };
    expect(compareTensors(got.get('low_res_masks')!, bestLow).ok).toBe(true);
    await expect(predictCommand.run([...args, '--multimask', '--out', file], recordingIO())).rejects.toThrow(
      ModelCapabilityError,
    );
    await expect(
      predictCommand.run(['--model', dir, '--image', 'a.jpg', '--box', BOX, '--out', file], recordingIO()),
    ).rejects.toThrow(/not a directory written by 'samtune export'/);
  });

  it('--model <dir> --int8: runs the INT8 decoder model.json lists (decoder_int8), and says so', async () => {
    // an "INT8" decoder that is the FP32 file, and a broken FP32 decoder beside it: the prediction
    // succeeds only if --int8 runs the file listed under models.decoder_int8
    const int8Dir = join(dir, 'int8');
    cpSync(out, int8Dir, { recursive: true });
    copyFileSync(join(int8Dir, 'decoder.onnx'), join(int8Dir, 'decoder.int8.onnx'));
    writeFileSync(join(int8Dir, 'decoder.onnx'), 'not an onnx model');
    const info = JSON.parse(readFileSync(join(int8Dir, 'model.json'), 'utf8')) as { models: Record<string, object> };
    info.models.decoder_int8 = {
      ...info.models.decoder,
      file: 'decoder.int8.onnx',
      quantization: { mode: 'static', method: 'minmax', f1_drop_points: 0 },
    };
    writeFileSync(join(int8Dir, 'model.json'), JSON.stringify(info));
    const file = join(dir, 'int8-box.safetensors');
    const io = recordingIO();
    const args = ['--model', int8Dir, '--image', referencePath('dog.jpg'), '--box', BOX, '--out', file];
    expect(await predictCommand.run([...args, '--int8'], io)).toBe(0);
    expect(io.stderr.join('\n')).toContain('decoder int8');
    const got = readSafetensors(file).tensors as Map<string, FloatTensor>;
    expect(compareTensors(got.get('iou_predictions')!, ref.get('dog.case1.iou_predictions')!).ok).toBe(true);
    await expect(predictCommand.run(args, recordingIO())).rejects.toThrow(); // FP32 decoder is broken
    await expect(
      predictCommand.run(['--checkpoint', referencePath('tinyvit.pth'), ...args.slice(2), '--int8'], recordingIO()),
    ).rejects.toThrow(/--int8 needs an export directory/);
  });
});
