/**
 * Acceptance 1 (encoders) and the export directory: `exportSamOnnx` on MobileSAM writes
 * encoder.onnx / encoder_rgb.onnx / decoder.onnx / model.json; both encoders, run by onnxruntime-node,
 * reproduce the official embeddings of dog.jpg and truck.jpg (`images`: the official preprocessing;
 * `input_image`: the resized RGB only, normalised and padded in the graph); `OnnxSamModel` goes from
 * the JPEG to the fixture's box mask at original size. The reduced ViT encoders too.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTensors, initBackend, SamModel, sha256File, type FloatTensor } from '@samtune/sam-model';
import { createSession, decodeModel } from '@samtune/onnx';
import { preprocessImage, readImage, resizeLongestSide } from '@samtune/transforms';
import { EXPORT_FILES, MASK_SELECTION_RULE, METADATA_KEYS } from './contract.js';
import { ModelCapabilityError, ModelDirError } from './errors.js';
import { exportEncoderModels, exportSamOnnx, type ExportResult } from './export-model.js';
import { readModelJson } from './model-json.js';
import { OnnxSamModel } from './runner.js';
import { RatioTally, referenceOutputs, referencePath, tempDir } from './test-utils/fixtures.js';

const STEMS = ['dog', 'truck'] as const;

/** Runs both encoder files on both images and checks the embeddings against the fixture. */
async function checkEncoders(
  dir: string,
  files: { images: string; rgb: string },
  name: string,
  tally: RatioTally,
): Promise<void> {
  const ref = referenceOutputs(name);
  for (const [variant, file] of Object.entries(files)) {
    const session = await createSession(join(dir, file));
    try {
      for (const stem of STEMS) {
        const img = await readImage(referencePath(`${stem}.jpg`));
        let feed;
        if (variant === 'images')
          feed = {
            images: { dtype: 'float32' as const, shape: [1, 3, 1024, 1024], data: preprocessImage(img).tensor },
          };
        else {
          const r = resizeLongestSide(img);
          feed = {
            input_image: { dtype: 'float32' as const, shape: [r.height, r.width, 3], data: Float32Array.from(r.data) },
          };
        }
        const out = (await session.run(feed)).image_embeddings as FloatTensor;
        const a = tally.check('image_embeddings', `${name} ${variant} ${stem}`, out, ref(`${stem}.image_embeddings`));
        expect(a.ok, `${name} ${file} ${stem}: ${JSON.stringify(a)}`).toBe(true);
      }
    } finally {
      await session.release();
    }
  }
}

describe('exportSamOnnx (tinyvit): the export directory', () => {
  const dir = tempDir('full');
  const tally = new RatioTally();
  let model: SamModel;
  let result: ExportResult;
  const log: string[] = [];

  beforeAll(async () => {
    await initBackend('wasm');
    model = await SamModel.load(referencePath('tinyvit.pth'));
    result = await exportSamOnnx(model, dir, { log: (l) => log.push(l) });
  });
  afterAll(async () => {
    console.log(tally.summary('tinyvit export'));
    for (const [k, e] of Object.entries(result?.modelJson.models ?? {}))
      console.log(
        `tinyvit ${k}: ${e.file} ${e.bytes} bytes, verification ${JSON.stringify(e.verification?.worst_ratio)}`,
      );
    await model?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('encoder.onnx and encoder_rgb.onnx reproduce the official embeddings of dog.jpg and truck.jpg', async () => {
    await checkEncoders(dir, { images: EXPORT_FILES.encoder, rgb: EXPORT_FILES.encoderRgb }, 'tinyvit', tally);
  });

  it('model.json describes the files, I/O, preprocessing, checkpoint and rule; each model carries the metadata', async () => {
    const json = readModelJson(dir);
    expect(json).toEqual(result.modelJson);
    expect(json.checkpoint.sha256).toBe(model.source.sha256);
    expect(json.model).toBe('tiny_vit');
    expect(json.image_size).toBe(1024);
    expect(json.pixel_mean).toEqual([123.675, 116.28, 103.53]);
    expect(json.pixel_std).toEqual([58.395, 57.12, 57.375]);
    expect(json.mask_selection.rule).toBe(MASK_SELECTION_RULE);
    expect(json.models.decoder?.variant).toBe('multimask');
    expect(json.models.encoder?.inputs.map((s) => [s.name, s.shape])).toEqual([['images', [1, 3, 1024, 1024]]]);
    expect(json.models.encoder_rgb?.inputs.map((s) => [s.name, s.shape])).toEqual([
      ['input_image', ['height', 'width', 3]],
    ]);
    expect(json.models.decoder?.outputs.map((s) => s.name)).toEqual(['masks', 'iou_predictions', 'low_res_masks']);
    for (const [key, e] of Object.entries(json.models)) {
      const path = join(dir, e.file);
      expect(e.bytes, key).toBe(statSync(path).size);
      expect(e.sha256, key).toBe(await sha256File(path));
      for (const r of Object.values(e.verification?.worst_ratio ?? {})) expect(r.ratio, key).toBeLessThanOrEqual(1);
      const meta = new Map(decodeModel(readFileSync(path)).metadataProps.map((m) => [m.key, m.value]));
      expect(meta.get(METADATA_KEYS.checkpointSha256), key).toBe(model.source.sha256);
      expect(meta.get(METADATA_KEYS.pixelMean), key).toBe('[123.675,116.28,103.53]');
      expect(JSON.parse(meta.get(METADATA_KEYS.inputs) ?? '[]'), key).toEqual(e.inputs);
      expect(meta.get(METADATA_KEYS.maskSelection), key).toBe(MASK_SELECTION_RULE);
    }
    expect(log.some((l) => l.includes('verifying the encoder'))).toBe(true);
  });

  it('OnnxSamModel: dog.jpg -> embedding and the box mask at original size (case 1); multimask modes', async () => {
    const ref = referenceOutputs('tinyvit');
    for (const encoder of ['images', 'rgb'] as const) {
      const onnx = await OnnxSamModel.load(dir, { encoder });
      try {
        expect(onnx.encoderVariant).toBe(encoder);
        const emb = await onnx.embed(await readImage(referencePath('dog.jpg')));
        expect(emb.originalSize).toEqual([534, 800]);
        expect(emb.inputSize).toEqual([684, 1024]);
        expect(
          tally.check('image_embeddings', `runner ${encoder} dog`, emb.embedding, ref('dog.image_embeddings')).ok,
        ).toBe(true);
        const box = [160.0, 133.5, 560.0, 480.6000061035156] as const;
        const r = await onnx.predict(emb, { box }, { multimask: false });
        expect(r.masks?.shape).toEqual([1, 534, 800]);
        for (const [n, ours] of [
          ['low_res_masks', r.lowResMasks],
          ['iou_predictions', r.iouPredictions],
          ['masks', r.masks as FloatTensor],
        ] as const) {
          const a = tally.check(n, `runner ${encoder} dog.case1`, ours, ref(`dog.case1.${n}`));
          expect(a.ok, `${n} ${JSON.stringify(a)}`).toBe(true);
        }
        if (encoder === 'images') {
          const point = { points: [[400.0, 293.70001220703125]] as [number, number][], labels: [1] };
          const three = await onnx.predict(emb, point);
          expect(compareTensors(three.lowResMasks, ref('dog.case0.low_res_masks')).ok).toBe(true);
          const auto = await onnx.predict(emb, point, { multimask: 'auto' });
          const iou = Array.from(ref('dog.case0.iou_predictions').data);
          expect(auto.iouPredictions.data[0]).toBeCloseTo(Math.max(...iou), 3);
        }
      } finally {
        await onnx.release();
      }
    }
  });

  it('a single-mask export refuses 3 masks; a directory without model.json is named', async () => {
    const single = join(dir, 'single');
    await exportSamOnnx(model, single, { singleMask: true, components: ['decoder'] });
    const onnx = await OnnxSamModel.load(single);
    try {
      expect(onnx.decoderVariant).toBe('single_mask');
      const emb = {
        embedding: referenceOutputs('tinyvit')('dog.image_embeddings'),
        originalSize: [534, 800] as const,
        inputSize: [684, 1024] as const,
      };
      await expect(onnx.predict(emb, { points: [[400, 293.7]], labels: [1] }, { multimask: true })).rejects.toThrow(
        ModelCapabilityError,
      );
      const r = await onnx.predict(emb, { box: [160.0, 133.5, 560.0, 480.6000061035156] });
      expect(compareTensors(r.lowResMasks, referenceOutputs('tinyvit')('dog.case1.low_res_masks')).ok).toBe(true);
      await expect(onnx.embed(await readImage(referencePath('dog.jpg')))).rejects.toThrow(ModelDirError);
    } finally {
      await onnx.release();
    }
    await expect(OnnxSamModel.load(join(dir, 'nope'))).rejects.toThrow(/model\.json not found/);
  });
});

describe('exportEncoderModels (vit_mini): both encoders reproduce the official embeddings', () => {
  const dir = tempDir('vit-mini');
  const tally = new RatioTally();
  afterAll(() => {
    console.log(tally.summary('vit_mini export'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('encoder.onnx and encoder_rgb.onnx on dog.jpg and truck.jpg', async () => {
    const model = await SamModel.load(referencePath('vit_mini.pth'));
    try {
      const entries = await exportEncoderModels(model, {
        images: join(dir, 'encoder.onnx'),
        rgb: join(dir, 'encoder_rgb.onnx'),
      });
      console.log(`vit_mini encoders: ${entries.images?.bytes} / ${entries.rgb?.bytes} bytes`);
      await checkEncoders(dir, { images: 'encoder.onnx', rgb: 'encoder_rgb.onnx' }, 'vit_mini', tally);
    } finally {
      await model.release();
    }
  });
});
