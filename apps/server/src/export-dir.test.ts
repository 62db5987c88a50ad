/**
 * Serving an exported model directory (`--model <dir>`, FP32 and `--int8`) through the model worker:
 * the ONNX encoder and decoder reproduce the official outputs of the reference fixture, and `--int8`
 * runs the INT8 files listed in model.json.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSamOnnx } from '@samtune/export';
import { compareArrays, initBackend, SamModel, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from './server.js';
import { referencePath } from './test-utils/fixtures.js';

const DOG_BOX = [160.0, 133.5, 560.0, 480.6000061035156];
const DOG_POINT = [400.0, 293.70001220703125];
let root: string;
let fp32Dir: string;
let int8Dir: string;
const servers: SamServer[] = [];

async function post(
  srv: SamServer,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samtune-server-export-'));
  fp32Dir = join(root, 'fp32');
  int8Dir = join(root, 'int8');
  await initBackend();
  const model = await SamModel.load(referencePath('tinyvit.pth'));
  try {
    await exportSamOnnx(model, fp32Dir, { components: ['encoder', 'decoder'] });
  } finally {
    await model.release();
  }
  // An "INT8" decoder that is the FP32 file, and a broken FP32 decoder beside it: predictions
  // succeed only if --int8 really runs the file model.json lists under models.decoder_int8.
  cpSync(fp32Dir, int8Dir, { recursive: true });
  copyFileSync(join(int8Dir, 'decoder.onnx'), join(int8Dir, 'decoder.int8.onnx'));
  writeFileSync(join(int8Dir, 'decoder.onnx'), 'not an onnx model');
  const info = JSON.parse(readFileSync(join(int8Dir, 'model.json'), 'utf8')) as { models: Record<string, object> };
  info.models.decoder_int8 = {
    ...info.models.decoder,
    file: 'decoder.int8.onnx',
    quantization: { mode: 'static', method: 'minmax', f1_drop_points: 0 },
  };
  writeFileSync(join(int8Dir, 'model.json'), JSON.stringify(info));
  copyFileSync(referencePath('dog.jpg'), join(root, 'dog.jpg'));
});

afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(root, { recursive: true, force: true });
});

describe('--model <export dir>', () => {
  it('serves an FP32 export: the reference IoU of a box and of a one-point prompt (dog cases 1 and 0)', async () => {
    const ref = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    const srv = await startServer({ model: { exportDir: fp32Dir }, imagesDir: root, port: 0 });
    servers.push(srv);
    const health = (await (await fetch(`${srv.url}/api/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      model: 'tiny_vit',
      engine: 'onnx',
      backend: 'onnxruntime',
      precision: { encoder: 'fp32', decoder: 'fp32' },
    });
    const emb = await post(srv, '/api/embed', { image: 'dog.jpg' });
    expect(emb.body).toMatchObject({ width: 800, height: 534, cached: false });
    const box = await post(srv, '/api/predict', { id: emb.body.id, box: DOG_BOX });
    expect(box.body).toMatchObject({ multimask: false, best: 0 });
    const a = compareArrays(box.body.iou as number[], ref.get('dog.case1.iou_predictions')!.data);
    expect(a.ok, `iou ratio ${a.ratio}`).toBe(true);
    const one = await post(srv, '/api/predict', { id: emb.body.id, points: [[...DOG_POINT, 1]] });
    expect((one.body.masks as unknown[]).length).toBe(3);
    const b = compareArrays(one.body.iou as number[], ref.get('dog.case0.iou_predictions')!.data);
    expect(b.ok, `iou ratio ${b.ratio}`).toBe(true);
  });

  it('--int8 runs the INT8 files listed in model.json, and refuses a directory without any', async () => {
    const srv = await startServer({ model: { exportDir: int8Dir, int8: true }, imagesDir: root, port: 0 });
    servers.push(srv);
    expect(srv.worker.info.precision).toEqual({ encoder: 'fp32', decoder: 'int8' });
    const emb = await post(srv, '/api/embed', { image: 'dog.jpg' });
    const box = await post(srv, '/api/predict', { id: emb.body.id, box: DOG_BOX });
    expect([box.status, (box.body.iou as number[]).length]).toEqual([200, 1]);
    // the page runs the same file as the server: the INT8 decoder
    const page = await fetch(`${srv.url}/api/decoder.onnx`);
    expect(Buffer.from(await page.arrayBuffer()).equals(readFileSync(join(int8Dir, 'decoder.int8.onnx')))).toBe(true);
    expect((await fetch(`${srv.url}/api/decoder-split`)).status).toBe(400); // no split form: the page takes this one

    const err = await startServer({ model: { exportDir: fp32Dir, int8: true }, port: 0 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ServerConfigError');
    expect((err as Error).message).toBe(
      `--int8: expected encoder.int8.onnx or decoder.int8.onnx listed in ${fp32Dir}/model.json (models.encoder_int8 / decoder_int8), got neither; run samtune optimize --model ${fp32Dir} first`,
    );
  });
});
