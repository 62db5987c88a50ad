/**
 * Second round of bad input (issue 11): hostile or unusual annotation files. Each case writes a small
 * dataset to a temp dir with one good item beside the bad file, and checks that the bad file is
 * reported by name (skipped by default, thrown with `strict`) and the good item survives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as errors from './errors.js';
import { describeJson, MAX_JSON_DEPTH, parseJsonText } from './json-text.js';
import { loadDataset } from './registry.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { makeDataset, removeDataset, type FileContent } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));
const IMG = rgbImagePng(4, 3);

function dataset(files: Record<string, FileContent>): string {
  const root = makeDataset(files);
  temp.push(root);
  return root;
}

const goodCoco = {
  images: [{ id: 1, file_name: 'good.png', width: 4, height: 3 }],
  categories: [{ id: 1, name: 'thing' }],
  annotations: [{ id: 100, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2] }],
};
const deep = (levels: number): string => `{"images": ${'['.repeat(levels)}${']'.repeat(levels)}}`;

describe('parseJsonText', () => {
  it('reads standard JSON and the NaN / Infinity / -Infinity literals of Python json', () => {
    expect(parseJsonText('{"a": [1, NaN, Infinity, -Infinity, "NaN"]}')).toEqual({
      a: [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 'NaN'],
    });
    expect(parseJsonText('{"s": "a \\" Infinity [[["}')).toEqual({ s: 'a " Infinity [[[' });
  });

  it('refuses nesting deeper than the limit with the offset, before any recursion', () => {
    expect(() => parseJsonText(deep(200_000))).toThrow(
      `expected JSON nested at most ${MAX_JSON_DEPTH} levels deep, got more than ${MAX_JSON_DEPTH} at offset ${MAX_JSON_DEPTH + 10}`,
    );
    expect(parseJsonText(deep(100))).toHaveProperty('images');
  });

  it('describes non-finite numbers as written and cuts long values', () => {
    expect(describeJson([Number.NaN, 1, Number.NEGATIVE_INFINITY])).toBe('[NaN,1,-Infinity]');
    expect(describeJson('x'.repeat(300), 10)).toBe('"xxxxxxxxx… (302 characters)');
  });
});

describe('hostile annotation files: named, skipped, thrown with strict', () => {
  it('coco: a file nested 200,000 levels deep is skipped by name; the other subset loads', async () => {
    const root = dataset({
      'annotations/instances_train.json': goodCoco,
      'images/train/good.png': IMG,
      'annotations/instances_val.json': deep(200_000),
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => [s.kind, s.scope, s.subset])).toEqual([['malformed-annotation', 'file', 'val']]);
    expect(ds.skipped[0]?.message).toContain(`${root}/annotations/instances_val.json`);
    expect(ds.skipped[0]?.message).toContain(`nested at most ${MAX_JSON_DEPTH} levels deep`);
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
    await expect(loadDataset(root, { strict: true })).rejects.toBeInstanceOf(errors.MalformedAnnotationError);
  });

  it('datumaro: a deeply nested file is skipped by name', async () => {
    const root = dataset({
      'annotations/train.json': {
        categories: { label: { labels: [{ name: 'cat' }] } },
        items: [{ id: 'good', image: { path: 'good.png' }, annotations: [] }],
      },
      'images/train/good.png': IMG,
      'annotations/val.json': `{"items": [], "x": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    });
    const ds = await loadDataset(root, { format: 'datumaro' });
    expect(ds.skipped.map((s) => [s.kind, s.subset])).toEqual([['malformed-annotation', 'val']]);
    expect(ds.skipped[0]?.file).toBe(`${root}/annotations/val.json`);
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
  });

  it('coco written by Python json with NaN/Infinity: read, and only the annotation with NaN is skipped by id', async () => {
    const text = JSON.stringify({
      ...goodCoco,
      annotations: [
        ...goodCoco.annotations,
        { id: 101, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], score: 'PY_INF' },
        { id: 102, image_id: 1, category_id: 1, bbox: [0, 'PY_NAN', 1, 1] },
      ],
    })
      .replace('"PY_INF"', 'Infinity')
      .replace('"PY_NAN"', 'NaN');
    const root = dataset({ 'annotations/instances_train.json': text, 'images/train/good.png': IMG });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => [s.kind, s.annotationId])).toEqual([['invalid-box', '102']]);
    expect(ds.skipped[0]?.message).toContain('expected 4 finite numbers [x, y, w, h], got [0,NaN,1,1]');
    expect(ds.skipped[0]?.message).toContain(`${root}/annotations/instances_train.json`);
    expect(ds.subsets.train?.[0]?.instances.map((i) => i.id)).toEqual(['100', '101']);
  });

  it('voc: an external entity is refused by name and the item skipped; the good item loads', async () => {
    const xml = (body: string): string =>
      `<annotation><size><width>4</width><height>3</height></size>${body}</annotation>`;
    const obj =
      '<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>';
    const root = dataset({
      'ImageSets/Main/train.txt': 'good\nbad\n',
      'JPEGImages/good.png': IMG,
      'JPEGImages/bad.png': IMG,
      'Annotations/good.xml': xml(obj),
      'Annotations/bad.xml': `<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${xml('<filename>&xxe;</filename>')}`,
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => [s.kind, s.scope, s.itemId])).toEqual([['malformed-annotation', 'item', 'bad']]);
    expect(ds.skipped[0]?.message).toContain(`${root}/Annotations/bad.xml`);
    expect(ds.skipped[0]?.message).toContain(
      'expected no external entities (they are never fetched), got <!ENTITY xxe SYSTEM',
    );
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
    await expect(loadDataset(root, { strict: true })).rejects.toBeInstanceOf(errors.MalformedAnnotationError);
  });

  it('voc: XML nested too deeply for the parser is reported by name', async () => {
    const root = dataset({
      'ImageSets/Main/train.txt': 'good\nbad\n',
      'JPEGImages/good.png': IMG,
      'JPEGImages/bad.png': IMG,
      'Annotations/bad.xml': `<annotation>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</annotation>`,
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => [s.kind, s.itemId, s.file])).toEqual([
      ['malformed-annotation', 'bad', `${root}/Annotations/bad.xml`],
    ]);
    expect(ds.skipped[0]?.message).toContain('cannot parse XML (Maximum nested tags exceeded)');
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
  });

  it('coco: `null` as the annotation file says null, not "object"', async () => {
    const root = dataset({
      'annotations/instances_train.json': goodCoco,
      'images/train/good.png': IMG,
      'annotations/instances_val.json': 'null',
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => s.message)).toEqual([
      `loadCoco: ${root}/annotations/instances_val.json, subset 'val': malformed annotation: expected a JSON object with images, annotations, categories; got null`,
    ]);
  });

  it('an image path that is a directory says so', async () => {
    const root = dataset({
      'annotations/instances_train.json': {
        ...goodCoco,
        images: [...goodCoco.images, { id: 2, file_name: 'dir.png', width: 4, height: 3 }],
      },
      'images/train/good.png': IMG,
      'images/train/dir.png/placeholder.txt': 'x',
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => [s.kind, s.itemId])).toEqual([['missing-image', 'dir']]);
    expect(ds.skipped[0]?.message).toContain(
      `image file '${root}/images/train/dir.png' is a directory, expected a regular image file`,
    );
  });

  it('a file as the dataset root says it is a file', async () => {
    const root = dataset({ 'a.txt': 'not a dataset' });
    await expect(loadDataset(`${root}/a.txt`)).rejects.toThrow(
      `loadDataset(root): expected an existing directory, got '${root}/a.txt', which is a file`,
    );
    await expect(loadDataset(`${root}/nope`)).rejects.toThrow('which does not exist');
  });
});
