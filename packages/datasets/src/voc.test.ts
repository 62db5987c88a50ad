import { afterAll, describe, expect, it } from 'vitest';
import { vocColormap } from './label-map.js';
import { loadDataset } from './registry.js';
import { datumaroFixture } from './test-utils/fixtures.js';
import { encodePng, rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';
import { VOC_CLASSES } from './voc-labels.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

describe('VOC fixture (datumaro-formats/voc_dataset/voc_dataset1)', () => {
  it('loads the exact items, labels, boxes and mask pixel counts of its files', async () => {
    const root = datumaroFixture('voc_dataset/voc_dataset1');
    const ds = await loadDataset(root);
    expect(ds.format).toBe('voc');
    expect(ds.skipped).toEqual([]);
    expect(ds.labels).toEqual(VOC_CLASSES.map((name, i) => ({ id: i + 1, name })));
    expect(Object.keys(ds.subsets).sort()).toEqual(['test', 'train']);
    // test: 2007_000002 has an image only (20x10), no annotations.
    expect(ds.subsets.test).toHaveLength(1);
    expect(ds.subsets.test?.[0]).toMatchObject({ id: '2007_000002', width: 20, height: 10, instances: [] });
    const item = ds.subsets.train?.[0];
    expect(item).toMatchObject({
      id: '2007_000001',
      width: 20,
      height: 10,
      imagePath: `${root}/JPEGImages/2007_000001.jpg`,
    });
    expect(item?.instances).toHaveLength(2);
    const [o1, o2] = item?.instances ?? [];
    // SegmentationObject is colour (128,0,0) = instance 1 everywhere; SegmentationClass (0,128,0) =
    // class 2 'bicycle' everywhere -> instance 1 is a bicycle of 200 pixels. XML object 1 (cat,
    // truncated) gives its flags; its XML name is kept as xmlLabel.
    expect(o1).toMatchObject({
      id: 'obj1',
      label: { id: 2, name: 'bicycle' },
      box: [0, 0, 20, 10],
      maskSource: 'png',
      attributes: {
        difficult: false,
        truncated: true,
        occluded: false,
        pose: 'Unspecified',
        xmlLabel: 'cat',
        area: 200,
      },
    });
    expect(countOnes((await o1?.mask())?.data ?? [])).toBe(200);
    // XML object 2 (person, <bndbox> 4,5,6,7 in VOC 1-based pixels) has no pixels -> box-only
    // instance, XYXY [3,4,6,7], 3x3 = 9 pixels. Its <part> and <actions> are not instances.
    expect(o2).toMatchObject({
      id: 'obj2',
      label: { id: 15, name: 'person' },
      box: [3, 4, 6, 7],
      maskSource: 'box',
      attributes: { difficult: false, truncated: false },
    });
    const m2 = await o2?.mask();
    expect(countOnes(m2?.data ?? [])).toBe(9);
    expect(m2?.data[4 * 20 + 3]).toBe(1);
    expect(m2?.data[7 * 20 + 6]).toBe(0);
  });
});

describe('VOC palette masks, labelmap.txt, class-only and XML-only items (temp datasets)', () => {
  const pal = vocColormap(256);
  const xml = (objs: string): string =>
    `<annotation><filename>i.png</filename><size><width>4</width><height>3</height></size>${objs}</annotation>`;
  const obj = (name: string, b: number[], extra = ''): string =>
    `<object><name>${name}</name>${extra}<bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox></object>`;

  it('reads palette-indexed instance masks with void 255 and majority class votes', async () => {
    const inst = [1, 1, 255, 2, 1, 1, 255, 2, 0, 0, 0, 2];
    const cls = [7, 7, 255, 12, 7, 8, 255, 12, 0, 0, 0, 12]; // instance 1: 3x car(7) vs 1x cat(8)
    const root = makeDataset({
      'ImageSets/Segmentation/train.txt': 'i\n',
      'JPEGImages/i.png': rgbImagePng(4, 3),
      'Annotations/i.xml': xml(obj('car', [1, 1, 2, 2], '<difficult>1</difficult>') + obj('dog', [4, 1, 4, 3])),
      'SegmentationObject/i.png': encodePng({ width: 4, height: 3, colorType: 3, data: inst, palette: pal }),
      'SegmentationClass/i.png': encodePng({ width: 4, height: 3, colorType: 3, data: cls, palette: pal }),
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    const [a, b] = ds.subsets.train?.[0]?.instances ?? [];
    expect(a).toMatchObject({
      id: 'obj1',
      label: { id: 7, name: 'car' },
      box: [0, 0, 2, 2],
      maskSource: 'png',
      attributes: { difficult: true, area: 4 },
    });
    expect(Array.from((await a?.mask())?.data ?? [])).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(b).toMatchObject({ id: 'obj2', label: { id: 12, name: 'dog' }, box: [3, 0, 4, 3], attributes: { area: 3 } });
  });

  it('uses labelmap.txt colours for RGB class masks, and splits class-only masks into components', async () => {
    const red = [255, 0, 0];
    const blue = [0, 0, 255];
    const black = [0, 0, 0];
    const px = [red, red, black, red, black, black, blue, blue, black, red, black, blue].flat();
    const root = makeDataset({
      'labelmap.txt': '# label:color_rgb:parts:actions\nbackground:0,0,0::\nfruit:255,0,0::\nleaf:0,0,255::\n',
      'ImageSets/Main/train.txt': 'i\n',
      'ImageSets/Main/fruit_train.txt': 'i 1\n',
      'JPEGImages/i.png': rgbImagePng(4, 3),
      'SegmentationClass/i.png': encodePng({ width: 4, height: 3, colorType: 2, data: px }),
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.labels).toEqual([
      { id: 1, name: 'fruit' },
      { id: 2, name: 'leaf' },
    ]);
    expect(Object.keys(ds.subsets)).toEqual(['train']);
    const insts = ds.subsets.train?.[0]?.instances ?? [];
    // Rows: [R R . R] [. . B B] [. R . B]. Fruit: {(0,0),(1,0)}, {(3,0)}, {(1,2)} (no fruit
    // neighbours, not even diagonally); leaf: {(2,1),(3,1),(3,2)}. Order: first pixel in raster order.
    expect(insts.map((i) => [i.label.name, i.box, i.attributes.area])).toEqual([
      ['fruit', [0, 0, 2, 1], 2],
      ['fruit', [3, 0, 4, 1], 1],
      ['leaf', [2, 1, 4, 3], 3],
      ['fruit', [1, 2, 2, 3], 1],
    ]);
    expect(insts.every((i) => i.maskSource === 'semantic')).toBe(true);
    expect(countOnes((await insts[2]?.mask())?.data ?? [])).toBe(3);
  });

  it('makes box-only instances from XML alone, skipping trainval when train exists', async () => {
    const root = makeDataset({
      'ImageSets/Main/train.txt': 'i\n',
      'ImageSets/Main/trainval.txt': 'i\nj\n',
      'JPEGImages/i.png': rgbImagePng(4, 3),
      'Annotations/i.xml': xml(obj('horse', [1, 1, 4, 3], '<truncated>1</truncated><pose>Left</pose>')),
    });
    temp.push(root);
    const ds = await loadDataset(root, { format: 'voc' });
    expect(Object.keys(ds.subsets)).toEqual(['train']);
    const [h] = ds.subsets.train?.[0]?.instances ?? [];
    expect(h).toMatchObject({
      label: { id: 13, name: 'horse' },
      box: [0, 0, 4, 3],
      maskSource: 'box',
      attributes: { truncated: true, pose: 'Left' },
    });
    expect(countOnes((await h?.mask())?.data ?? [])).toBe(12);
  });
});
