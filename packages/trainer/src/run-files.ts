/**
 * The human-readable files of a run directory besides `train.jsonl`:
 * - `config.yaml`: the resolved config (defaults ← `--config` ← flags), kebab-case keys like the
 *   flags; `samtune train --config runs/x/config.yaml` repeats the run.
 * - `results.csv`: one row per finished epoch (losses, validation F1/IoU/Dice/AP, seconds, lr),
 *   rewritten after each epoch (atomically) so that it always matches `state.safetensors`.
 */
import { writeFileAtomic } from '@samtune/tensor-files';
import { stringify } from 'yaml';
import type { EpochRecord } from './checkpoints.js';
import type { TrainConfig } from './config.js';

const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function kebabKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [kebab(k), kebabKeys(x)]));
}

/** The config as YAML with kebab-case keys (what `mergeConfig` reads back). */
export function configYaml(config: TrainConfig): string {
  return `# samtune train: the resolved config of this run (samtune train --config <this file> repeats it)\n${stringify(kebabKeys(config))}`;
}

/** Writes `config.yaml` (see the module comment). */
export function writeRunConfig(path: string, config: TrainConfig): void {
  writeFileAtomic(path, configYaml(config));
}

/** Columns of `results.csv`, in order. */
export const RESULTS_COLUMNS = [
  'epoch',
  'train_loss',
  'train_focal',
  'train_dice',
  'train_iou_mse',
  'val_loss',
  'val_f1',
  'val_iou',
  'val_dice',
  'val_ap',
  'val_ap50',
  'val_ap75',
  'train_seconds',
  'val_seconds',
  'lr',
  'best',
] as const;

const num = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '' : String(+v.toPrecision(6));

/** `results.csv` text: a header and one row per epoch; non-finite values are empty cells. */
export function resultsCsv(history: readonly EpochRecord[], lr: number): string {
  const rows = history.map((h) =>
    [
      String(h.epoch),
      num(h.trainLoss),
      num(h.trainFocal),
      num(h.trainDice),
      num(h.trainIou),
      num(h.val.loss),
      num(h.val.f1),
      num(h.val.iou),
      num(h.val.dice),
      num(h.val.ap),
      num(h.val.ap50),
      num(h.val.ap75),
      num(h.trainSeconds),
      num(h.valSeconds),
      String(lr),
      h.best ? '1' : '0',
    ].join(','),
  );
  return `${[RESULTS_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

/** Writes `results.csv` atomically. */
export function writeResultsCsv(path: string, history: readonly EpochRecord[], lr: number): void {
  writeFileAtomic(path, resultsCsv(history, lr));
}
