import { createHash } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PathOutsideFolderError } from '@samtune/sam-model';
import { ModelDirError, ModelFileChangedError } from './errors.js';
import { checkedModelFile, readModelJson, writeModelJson, type ModelJson } from './model-json.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-model-json-')));
  writeFileSync(join(dir, 'decoder.onnx'), 'x');
  writeFileSync(join(dir, 'decoder.int8.onnx'), 'x');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (file: string) => ({ file, bytes: 1, sha256: 'ab'.repeat(32), opset: 17, inputs: [], outputs: [] });
const valid = (): ModelJson => ({
  format: 'samtune-onnx',
  format_version: 1,
  samtune_version: '0.1.0',
  created_at: '2026-12-01T00:00:00Z',
  checkpoint: { path: 'x.pth', sha256: 'cd'.repeat(32) },
  model: 'tiny_vit',
  config: {} as ModelJson['config'],
  image_size: 1024,
  pixel_mean: [123.675, 116.28, 103.53],
  pixel_std: [58.395, 57.12, 57.375],
  mask_threshold: 0,
  mask_selection: { rule: 'r', multimask_tokens: 't' },
  prompt_recipe: 'p',
  models: {
    decoder: { ...entry('decoder.onnx'), variant: 'multimask' },
    decoder_int8: {
      ...entry('decoder.int8.onnx'),
      variant: 'multimask',
      quantization: { mode: 'static', method: 'minmax', f1_drop_points: 0.2 },
    },
  },
});

describe('model.json schema', () => {
  it('round-trips a model.json with an INT8 entry, typed by the schema', () => {
    writeModelJson(dir, valid());
    const back = readModelJson(dir);
    expect(back.models.decoder_int8?.quantization).toEqual({ mode: 'static', method: 'minmax', f1_drop_points: 0.2 });
  });

  it('names every problem of a bad file: path, rule and value', () => {
    const bad = valid() as unknown as Record<string, unknown>;
    bad.pixel_mean = [1, 2];
    (bad.models as Record<string, Record<string, unknown>>).decoder_int8!.quantization = undefined;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(bad));
    let err: unknown;
    try {
      readModelJson(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelDirError);
    const msg = (err as Error).message;
    expect(msg).toContain(`readModelJson(dir): ${join(dir, 'model.json')}: `);
    expect(msg).toContain('pixel_mean must not have fewer than 3 items, got [1,2]');
    expect(msg).toContain('models.decoder_int8.quantization is required');
  });

  it('refuses to write a model.json that breaks the schema', () => {
    expect(() => writeModelJson(dir, { ...valid(), image_size: 0 })).toThrow(/image_size must be >= 1, got 0/);
  });
});

describe('model files named by model.json', () => {
  const withDecoder = (file: string): ModelJson => {
    const j = valid();
    return {
      ...j,
      models: { decoder: { ...(j.models.decoder as NonNullable<ModelJson['models']['decoder']>), file } },
    };
  };

  it('stay inside the folder: ../, absolute paths, symlinks out and devices are refused', () => {
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}-outside.onnx`), 'x');
    symlinkSync('/etc/hostname', join(dir, 'link.onnx'));
    const cases: [string, string][] = [
      [`../${dir.split('/').pop()}-outside.onnx`, `it resolves to ${dir}-outside.onnx`],
      ['/dev/zero', 'it resolves to /dev/zero'],
      ['link.onnx', `a symbolic link leads to ${realpathSync('/etc/hostname')}`],
    ];
    for (const [file, why] of cases) {
      writeFileSync(join(dir, 'model.json'), JSON.stringify(withDecoder(file)));
      expect(() => readModelJson(dir)).toThrow(PathOutsideFolderError);
      expect(() => readModelJson(dir)).toThrow(
        `readModelJson(dir): models.decoder.file: expected a file inside ${dir}, got '${file}' (${why})`,
      );
    }
    rmSync(`${dir}-outside.onnx`);
  });

  it('are checked against the recorded bytes and sha256 before they load', async () => {
    const bytes = new TextEncoder().encode('decoder bytes');
    writeFileSync(join(dir, 'decoder.onnx'), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const good = { ...entry('decoder.onnx'), bytes: bytes.length, sha256 };
    expect(await checkedModelFile(dir, good, 'decoder')).toBe(join(dir, 'decoder.onnx'));
    const path = join(dir, 'decoder.onnx');
    writeFileSync(path, 'decoder BYTES'); // same length, other content: a replaced decoder
    await expect(checkedModelFile(dir, good, 'decoder')).rejects.toThrow(ModelFileChangedError);
    await expect(checkedModelFile(dir, good, 'decoder')).rejects.toThrow(
      `loadModelFile(${path}): expected sha256 ${sha256} as model.json models.decoder.sha256 records, got ${createHash('sha256').update('decoder BYTES').digest('hex')}; the file was replaced after the export (export it again)`,
    );
    writeFileSync(path, 'short');
    await expect(checkedModelFile(dir, good, 'decoder')).rejects.toThrow(
      `loadModelFile(${path}): expected 13 bytes as model.json models.decoder.bytes records, got 5; the file changed after the export (export it again)`,
    );
  });
});
