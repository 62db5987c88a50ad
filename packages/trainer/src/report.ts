/**
 * The run report: `curves.svg` (training and validation loss, validation F1 per epoch, with the
 * zero-shot F1 as a dashed line) and `report.md` (before/after table of F1/IoU/Dice, per-epoch table,
 * timings). Plain SVG written by hand: no plotting dependency.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { EpochRecord, RunStateMeta } from './checkpoints.js';
import type { EvalResult } from '@samtune/evaluation';

interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Tick label with enough decimals for ticks `step` apart. */
const fmt = (v: number, step: number): string => {
  const decimals = Math.min(8, Math.max(0, Math.ceil(-Math.log10(step)) + 1));
  const s = v.toFixed(decimals);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
};

/** One chart panel at (x0, y0) of size (w, h), as SVG elements. */
function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  series: readonly Series[],
  maxEpoch: number,
): string {
  const pad = { l: 56, r: 12, t: 28, b: 34 };
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5 * Math.max(Math.abs(lo), 0.01);
    hi += 0.5 * Math.max(Math.abs(hi), 0.01);
  }
  const span = hi - lo;
  lo -= span * 0.05;
  hi += span * 0.05;
  const xMax = Math.max(1, maxEpoch);
  const px = (e: number): number => x0 + pad.l + (e / xMax) * (w - pad.l - pad.r);
  const py = (v: number): number => y0 + pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  );
  parts.push(
    `<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${w - pad.l - pad.r}" height="${h - pad.t - pad.b}" fill="none" stroke="#999"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<line x1="${x0 + pad.l}" x2="${x0 + w - pad.r}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x0 + pad.l - 4}" y="${py(v) + 4}" text-anchor="end" font-size="10">${fmt(v, (hi - lo) / 4)}</text>`,
    );
  }
  const step = Math.max(1, Math.ceil(xMax / 10));
  for (let e = 0; e <= xMax; e += step)
    parts.push(`<text x="${px(e)}" y="${y0 + h - pad.b + 14}" text-anchor="middle" font-size="10">${e}</text>`);
  parts.push(`<text x="${x0 + w / 2}" y="${y0 + h - 4}" text-anchor="middle" font-size="11">epoch</text>`);
  series.forEach((s, k) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length > 0) {
      const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
      );
      for (const p of pts)
        parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = y0 + pad.t + 14 + k * 14;
    parts.push(
      `<line x1="${x0 + w - pad.r - 120}" x2="${x0 + w - pad.r - 100}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4,3"' : ''}/>`,
    );
    parts.push(`<text x="${x0 + w - pad.r - 96}" y="${ly}" font-size="10">${esc(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** The training curves as an SVG document (loss per epoch; validation F1 per epoch). */
export function curvesSvg(
  history: readonly EpochRecord[],
  zeroShot: EvalResult | null,
  title = 'samtune training',
): string {
  const w = 900;
  const h = 320;
  const maxEpoch = Math.max(1, ...history.map((r) => r.epoch));
  const zs = zeroShot ? [[0, zeroShot.loss] as const] : [];
  const loss = panel(
    0,
    30,
    w / 2,
    h,
    'loss (20·focal + dice + IoU-MSE, 256×256)',
    [
      { label: 'train', color: '#1f77b4', points: history.map((r) => [r.epoch, r.trainLoss] as const) },
      { label: 'validation', color: '#ff7f0e', points: [...zs, ...history.map((r) => [r.epoch, r.val.loss] as const)] },
    ],
    maxEpoch,
  );
  const f1 = panel(
    w / 2,
    30,
    w / 2,
    h,
    'validation F1 (micro, original size)',
    [
      {
        label: 'F1',
        color: '#2ca02c',
        points: [...(zeroShot ? [[0, zeroShot.f1] as const] : []), ...history.map((r) => [r.epoch, r.val.f1] as const)],
      },
      ...(zeroShot
        ? [
            {
              label: 'zero-shot',
              color: '#7f7f7f',
              dashed: true,
              points: [
                [0, zeroShot.f1],
                [maxEpoch, zeroShot.f1],
              ] as const,
            },
          ]
        : []),
    ],
    maxEpoch,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h + 40}" viewBox="0 0 ${w} ${h + 40}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    loss,
    f1,
    '</svg>',
    '',
  ].join('\n');
}

const n4 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4));
const n2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const s1 = (v: number): string => v.toFixed(1);

/** `17 (3 crowd)`: the validation instances and the crowd ones among them (or left out). */
function instancesCell(m: EvalResult | undefined): string {
  if (!m) return '–';
  const crowd = m.crowd ?? 0; // absent in the records of runs made before crowd counts
  const ignored = m.crowdIgnored ?? 0;
  return `${m.instances}${crowd > 0 ? ` (${crowd} crowd)` : ''}${ignored > 0 ? ` (+${ignored} crowd left out)` : ''}`;
}

/** The markdown report of a run state. */
export function reportMarkdown(meta: RunStateMeta, curvesFile = 'curves.svg'): string {
  const c = meta.config;
  const best = meta.history.find((h) => h.epoch === meta.bestEpoch);
  const zs = meta.zeroShot;
  const trainTimes = meta.history.map((h) => h.trainSeconds);
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const lines = [
    `# Fine-tuning report: ${basename(c.out)}`,
    '',
    `Checkpoint \`${meta.baseCheckpoint.path}\` (sha256 \`${meta.baseCheckpoint.sha256.slice(0, 16)}…\`), dataset \`${c.data.root}\` (${c.data.train.subset} → ${c.data.val.subset === 'auto' ? 'validation subset' : c.data.val.subset}), prompts: ${c.prompt.mode}.`,
    `Only the mask decoder trains; Adam lr ${c.optimizer.lr}, batch ${c.data.train.batchSize} images (all instances${c.data.train.maxInstances ? `, at most ${c.data.train.maxInstances}` : ''}), micro-batch ${c.training.microBatch} prompts, seed ${c.training.seed}.`,
    `Backend: ${meta.backend}.`,
    '',
    '## Validation metrics (micro-averaged pixel F1/IoU/Dice at the original size, threshold 0.5)',
    '',
    '| weights | F1 | IoU | Dice | loss | images | instances |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| before (zero-shot) | ${n4(zs?.f1)} | ${n4(zs?.iou)} | ${n4(zs?.dice)} | ${n4(zs?.loss)} | ${zs?.images ?? '–'} | ${instancesCell(zs ?? undefined)} |`,
    `| after (best, epoch ${meta.bestEpoch ?? '–'}) | ${n4(best?.val.f1)} | ${n4(best?.val.iou)} | ${n4(best?.val.dice)} | ${n4(best?.val.loss)} | ${best?.val.images ?? '–'} | ${instancesCell(best?.val)} |`,
    '',
    ...(zs?.clicks || best?.val.clicks
      ? [
          `Clicks-to-quality (at most ${c.data.val.clicks} clicks; NoC: mean clicks to reach the IoU, IoU@k after k clicks):`,
          '',
          '| weights | NoC@85 | NoC@90 | IoU@1 | IoU@3 | IoU@5 | instances |',
          '| --- | --- | --- | --- | --- | --- | --- |',
          ...(
            [
              ['before (zero-shot)', zs?.clicks],
              [`after (best, epoch ${meta.bestEpoch ?? '–'})`, best?.val.clicks],
            ] as const
          ).map(
            ([w, k]) =>
              `| ${w} | ${n2(k?.noc85)} | ${n2(k?.noc90)} | ${n4(k?.iouAt1)} | ${n4(k?.iouAt3)} | ${n4(k?.iouAt5)} | ${k?.instances ?? '–'} |`,
          ),
          '',
        ]
      : []),
    `Crowd instances (iscrowd) are ${c.data.crowd === 'ignore' ? 'left out (data.crowd ignore)' : 'kept as objects (data.crowd keep)'}.`,
    '',
    ...(zs && best && best.val.f1 <= zs.f1
      ? [
          `Fine-tuning did not improve on the zero-shot F1 (best epoch ${best.epoch}: ${n4(best.val.f1)} vs ${n4(zs.f1)} before).`,
          '',
        ]
      : []),
    `Epochs run: ${meta.epochsDone} (${meta.stopReason ?? 'not finished'}). Early stopping on validation F1: ${c.earlyStopping.enabled ? `mode max, min_delta ${c.earlyStopping.minDelta}, patience ${c.earlyStopping.patience}, not before ${c.earlyStopping.warmupEpochs} epochs` : 'off'}.`,
    meta.embeddingPass
      ? `First pass (embedding ${meta.embeddingPass.computed} images into the cache${meta.embeddingPass.hits ? `, ${meta.embeddingPass.hits} already cached` : ''}): ${s1(meta.embeddingPass.seconds)} s.`
      : 'First pass: every embedding was already in the cache.',
    `Mean wall time per epoch: ${s1(mean(trainTimes))} s training + ${s1(mean(meta.history.map((h) => h.valSeconds)))} s validation.`,
    '',
    `![training curves](${curvesFile})`,
    '',
    '## Per epoch',
    '',
    '| epoch | train loss | focal | dice | iou-mse | val loss | val F1 | val IoU | train s | val s | best |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...meta.history.map(
      (h) =>
        `| ${h.epoch} | ${n4(h.trainLoss)} | ${n4(h.trainFocal)} | ${n4(h.trainDice)} | ${n4(h.trainIou)} | ${n4(h.val.loss)} | ${n4(h.val.f1)} | ${n4(h.val.iou)} | ${s1(h.trainSeconds)} | ${s1(h.valSeconds)} | ${h.best ? '✓' : ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Writes `report.md` and `curves.svg` of a run. */
export function writeRunReport(files: { readonly report: string; readonly curves: string }, meta: RunStateMeta): void {
  writeFileSync(files.curves, curvesSvg(meta.history, meta.zeroShot, `samtune: ${basename(meta.config.out)}`));
  writeFileSync(files.report, reportMarkdown(meta, basename(files.curves)));
}
