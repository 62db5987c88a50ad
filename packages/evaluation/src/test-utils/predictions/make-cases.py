# Provenance of the expected numbers in this folder: COCO ground truth and results files for
# `scorePredictions` / `samtune eval --predictions`, scored once with pycocotools' COCOeval (segm).
# Needs numpy and pycocotools (2.0.11 made the committed files). Run from this folder:
#   python3 make-cases.py
# Writes <case>/gt.json, <case>/results.json and expected.json (the committed copies were then
# formatted by `prettier --write`, which changes no value). The images themselves are not
# needed by pycocotools; the TypeScript test writes blank PNGs of the declared sizes beside gt.json.
#
# Cases:
# - crowd: crowd regions (iscrowd 1, RLE) among plain polygons and RLEs; some detections fall on the
#   crowd regions (pycocotools ignores them), one category has crowd ground truth only (no AP).
# - ties: many detections share a score across images; gt.json lists its images in descending id
#   order, so a scorer that keeps file order instead of COCOeval's sorted image ids differs.
# F1/IoU/Dice: pixel counts pooled over the pairs COCOeval matched at IoU 0.50 (evalImgs, area 'all',
# maxDets 100), from the same run.
import json
import os

import numpy as np
from pycocotools import mask as mu
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def rle(m):
    r = mu.encode(np.asfortranarray(m.astype(np.uint8)))
    r['counts'] = r['counts'].decode()
    return r


def box_mask(h, w, rng):
    m = np.zeros((h, w), np.uint8)
    y, x = rng.integers(0, h - 6), rng.integers(0, w - 6)
    bh, bw = rng.integers(3, 8, 2)
    m[y:y + bh, x:x + bw] = 1
    return m


def polygon_of(m):
    ys, xs = np.nonzero(m)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return [[float(x0), float(y0), float(x1), float(y0), float(x1), float(y1), float(x0), float(y1)]]


def jitter(m, rng):
    d = np.roll(np.roll(m, rng.integers(-1, 2), 0), rng.integers(-1, 2), 1)
    if rng.random() < 0.25:
        d = np.zeros_like(m)
        d[rng.integers(0, m.shape[0] - 4):, rng.integers(0, m.shape[1] - 4):] = 1
    return d


def make_case(name, seed, n_images, crowd, tie_scores):
    rng = np.random.default_rng(seed)
    H, W = 20, 24
    images, anns, dets, masks = [], [], [], {}
    aid = 1
    ids = list(range(1, n_images + 1))
    if tie_scores:
        ids = ids[::-1]  # file order differs from COCOeval's sorted image ids
    for im in ids:
        images.append({'id': im, 'width': W, 'height': H, 'file_name': f'img{im}.png'})
        for k in range(int(rng.integers(1, 5))):
            cat = int(rng.integers(1, 3))
            m = box_mask(H, W, rng)
            seg = polygon_of(m) if k % 2 == 0 else rle(m)
            anns.append({'id': aid, 'image_id': im, 'category_id': cat, 'segmentation': seg,
                         'area': int(m.sum()), 'bbox': [float(v) for v in mu.toBbox(rle(m))], 'iscrowd': 0})
            aid += 1
            for _ in range(int(rng.integers(0, 3))):
                d = jitter(m, rng)
                dcat = cat if rng.random() < 0.85 else 3 - cat
                s = float(rng.choice([0.5, 0.7, 0.9])) if tie_scores else float(np.round(rng.random(), 4))
                dets.append({'image_id': im, 'category_id': dcat, 'segmentation': rle(d), 'score': s})
        if crowd and im % 2 == 1:
            cat = 1 if im % 3 else 3  # category 3 has crowd ground truth only
            m = np.zeros((H, W), np.uint8)
            m[10:18, 2:14] = 1
            anns.append({'id': aid, 'image_id': im, 'category_id': cat, 'segmentation': rle(m),
                         'area': int(m.sum()), 'bbox': [2.0, 10.0, 12.0, 8.0], 'iscrowd': 1})
            aid += 1
            for j in range(2):  # detections inside the crowd region
                d = np.zeros((H, W), np.uint8)
                d[11 + 3 * j:13 + 3 * j, 3 + 4 * j:8 + 4 * j] = 1
                dets.append({'image_id': im, 'category_id': cat, 'segmentation': rle(d),
                             'score': float(np.round(rng.random(), 4))})
    cats = [{'id': 1, 'name': 'leaf'}, {'id': 2, 'name': 'stem'}] + ([{'id': 3, 'name': 'crowd-only'}] if crowd else [])
    gt = {'images': images, 'annotations': anns, 'categories': cats}
    os.makedirs(name, exist_ok=True)
    with open(f'{name}/gt.json', 'w') as f:
        json.dump(gt, f)
    with open(f'{name}/results.json', 'w') as f:
        json.dump(dets, f)
    c = COCO(f'{name}/gt.json')
    d = c.loadRes(f'{name}/results.json')
    e = COCOeval(c, d, 'segm')
    e.evaluate()
    e.accumulate()
    e.summarize()
    tp = fp = fn = pairs = 0
    for ev in e.evalImgs:
        if ev is None or ev['aRng'] != e.params.areaRng[0] or ev['maxDet'] != e.params.maxDets[-1]:
            continue
        for dind, gid in enumerate(ev['dtMatches'][0]):
            if gid == 0 or ev['dtIgnore'][0][dind]:
                continue
            g = c.annToMask(c.anns[int(gid)]).astype(bool)
            p = d.annToMask(d.anns[ev['dtIds'][dind]]).astype(bool)
            tp += int((g & p).sum())
            fp += int((p & ~g).sum())
            fn += int((g & ~p).sum())
            pairs += 1
    return {'ap': e.stats[0], 'ap50': e.stats[1], 'ap75': e.stats[2], 'matched': pairs,
            'f1': 2 * tp / (2 * tp + fp + fn), 'iou': tp / (tp + fp + fn),
            'gt_plain': sum(1 for a in anns if not a['iscrowd']), 'gt_crowd': sum(1 for a in anns if a['iscrowd']),
            'detections': len(dets)}


expected = {
    'about': 'pycocotools 2.0.11 COCOeval(iouType=segm) stats[0..2] and pixel F1/IoU over the pairs it matched at IoU 0.50; made by make-cases.py',
    'crowd': make_case('crowd', 7, 8, crowd=True, tie_scores=False),
    'ties': make_case('ties', 11, 8, crowd=False, tie_scores=True),
}
with open('expected.json', 'w') as f:
    json.dump(expected, f, indent=2)
    f.write('\n')
