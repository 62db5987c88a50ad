/**
 * `samtune eval --predictions`: a COCO results file scored against a COCO file with crowd regions,
 * to pycocotools' numbers (packages/evaluation/src/test-utils/predictions/make-cases.py).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMaskPng } from '@samtune/transforms';
import { repoPath } from '@samtune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO } from '../test-utils/io.js';
import { evalCommand } from './eval.js';
import { parseEvalPredictionsArgs } from './eval-predictions.js';

const CASES = repoPath('packages/evaluation/src/test-utils/predictions');
const dir = mkdtempSync(join(tmpdir(), 'samtune-eval-predictions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** pycocotools' numbers for a case (expected.json, made by make-cases.py). */
function expectedOf(name: string): Record<string, number> {
  const all = JSON.parse(readFileSync(join(CASES, 'expected.json'), 'utf8')) as Record<string, Record<string, number>>;
  return all[name] as Record<string, number>;
}

/** Blank PNGs of the sizes a COCO file declares, in `out`. */
async function blankImages(gtFile: string, out: string): Promise<void> {
  const gt = JSON.parse(readFileSync(gtFile, 'utf8')) as {
    images: { file_name: string; width: number; height: number }[];
  };
  for (const im of gt.images)
    await writeMaskPng(join(out, im.file_name), {
      width: im.width,
      height: im.height,
      data: new Uint8Array(im.width * im.height),
    });
}

describe('samtune eval --predictions', () => {
  it('parses its flags and refuses model flags', () => {
    expect(parseEvalPredictionsArgs(['--predictions', 'r.json', '--data-root', 'gt.json'])).toMatchObject({
      predictions: 'r.json',
      dataRoot: 'gt.json',
      subset: undefined,
      format: 'auto',
    });
    expect(() => parseEvalPredictionsArgs(['--predictions', 'r.json'])).toThrow(/--data-root is required/);
    expect(() =>
      parseEvalPredictionsArgs(['--predictions', 'r.json', '--data-root', 'd', '--checkpoint', 'x']),
    ).toThrow(/checkpoint/);
  });

  it('scores the tie case (images listed in descending id order) like COCOeval', async () => {
    const out = join(dir, 'ties');
    await blankImages(join(CASES, 'ties', 'gt.json'), out);
    const io = recordingIO();
    const args = ['--predictions', join(CASES, 'ties', 'results.json'), '--data-root', join(CASES, 'ties', 'gt.json')];
    expect(await evalCommand.run([...args, '--images', out, '--json'], io)).toBe(0);
    const m = JSON.parse(io.stdout[0] as string) as Record<string, number>;
    const expected = expectedOf('ties');
    for (const k of ['ap', 'ap50', 'ap75', 'f1', 'iou'] as const) expect(m[k]).toBeCloseTo(expected[k] as number, 12);
    expect(m).toMatchObject({
      images: 8,
      instances: expected.gt_plain,
      crowd: 0,
      matched: expected.matched,
      skipped: 0,
    });
  });

  it('scores a results file against one COCO file like COCOeval, crowd regions ignored', async () => {
    await blankImages(join(CASES, 'crowd', 'gt.json'), join(dir, 'images'));
    copyFileSync(join(CASES, 'crowd', 'gt.json'), join(dir, 'gt.json'));
    const results = JSON.parse(readFileSync(join(CASES, 'crowd', 'results.json'), 'utf8')) as unknown[];
    writeFileSync(join(dir, 'results.json'), JSON.stringify([...results, { image_id: 404, category_id: 1, score: 1 }]));
    const expected = expectedOf('crowd');
    const io = recordingIO();
    const args = ['--predictions', join(dir, 'results.json'), '--data-root', join(dir, 'gt.json')];
    const code = await evalCommand.run([...args, '--images', join(dir, 'images'), '--json'], io);
    expect(code).toBe(0);
    const m = JSON.parse(io.stdout[0] as string) as Record<string, number>;
    expect(m.ap).toBeCloseTo(expected.ap as number, 12);
    expect(m.ap50).toBeCloseTo(expected.ap50 as number, 12);
    expect(m.ap75).toBeCloseTo(expected.ap75 as number, 12);
    expect(m.f1).toBeCloseTo(expected.f1 as number, 12);
    expect(m).toMatchObject({
      images: 8,
      instances: expected.gt_plain,
      crowd: expected.gt_crowd,
      detections: expected.detections,
      matched: expected.matched,
      skipped: 1,
    });
    expect(io.stderr).toEqual([
      `skipped: scorePredictions: ${join(dir, 'results.json')}, item '404', annotation '[${results.length}]': malformed annotation: image_id 404 is not an image of the evaluated subset`,
    ]);
    const text = recordingIO();
    await evalCommand.run([...args, '--images', join(dir, 'images')], text);
    expect(text.stdout[0]).toBe(
      `results.json on default (8 images, ${expected.gt_plain} instances, ${expected.gt_crowd} crowd regions ignored, ${expected.detections} detections):`,
    );
    expect(text.stdout[1]).toMatch(/^ {2}mask AP 0\.0781 {2}AP50 0\.3437 {2}AP75 0\.0165$/);
  });
});
