/**
 * What several commands print the same way: the tfjs backend line, training/evaluation events as
 * progress bars and summary lines (stderr), and the before/after metrics table (stdout). Formatting
 * only; commands import it instead of importing each other.
 */
import type { EvalResult } from '@samtune/evaluation';
import type { TrainEvent } from '@samtune/trainer';
import type { CliIO } from './command.js';
import { createProgressBar, type ProgressBar } from './progress.js';

/** A metric with 4 decimals, `–` when absent or not finite. */
export const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4));

/** Backends tried before the one that runs, and why each was skipped. */
export type SkippedBackends = readonly { readonly name: string; readonly reason: string }[];

/**
 * The one backend line: `tfjs backend: <detail>`, and the skipped backends by name only (their
 * reasons, long native-addon messages, only with `--verbose`).
 */
export function backendLine(detail: string, skipped: SkippedBackends, verbose: boolean): string {
  if (skipped.length === 0) return `tfjs backend: ${detail}`;
  const why = verbose
    ? `skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`
    : `${skipped.map((s) => s.name).join(', ')} not available; --verbose says why`;
  return `tfjs backend: ${detail} (${why})`;
}

/** The before/after table (stdout). */
export function resultTable(zeroShot: EvalResult | null, after: EvalResult | null, afterLabel: string): string {
  const row = (label: string, m: EvalResult | null): string =>
    `| ${label} | ${pct(m?.f1)} | ${pct(m?.iou)} | ${pct(m?.dice)} | ${pct(m?.ap)} | ${m?.instances ?? '–'} |`;
  return [
    '| weights | F1 | IoU | Dice | mask AP | instances |',
    '| --- | --- | --- | --- | --- | --- |',
    row('before (zero-shot)', zeroShot),
    row(afterLabel, after),
  ].join('\n');
}

/** Renders training (and evaluation) events as progress bars and summary lines on stderr. */
export function trainEventRenderer(io: CliIO): (e: TrainEvent) => void {
  let bar: ProgressBar | undefined;
  let barKey = '';
  const open = (key: string, label: string): ProgressBar => {
    if (barKey !== key || !bar) {
      bar?.done();
      bar = createProgressBar(label);
      barKey = key;
    }
    return bar;
  };
  const close = (summary?: string): void => {
    bar?.done();
    if (summary) io.err(summary);
    bar = undefined;
    barKey = '';
  };
  return (e) => {
    switch (e.type) {
      case 'info':
        io.err(e.message);
        break;
      case 'backend':
        io.err(backendLine(e.detail.replace(/^tfjs backend '([^']+)'/, '$1'), e.skipped ?? [], io.verbose ?? false));
        break;
      case 'dataset':
        io.err(
          `dataset: ${e.format}, ${e.trainSubset} ${e.train} images → ${e.valSubset} ${e.val} images${e.skipped ? ` (${e.skipped} problems skipped)` : ''}`,
        );
        if (e.split) io.err(`dataset: ${e.split}`);
        if (e.valRoot) io.err(`dataset: validation on ${e.valRoot} (--val-data-root)`);
        if (e.crowd && e.crowd.train + e.crowd.val > 0)
          io.err(
            `dataset: crowd instances (iscrowd) train ${e.crowd.train} / val ${e.crowd.val}, ${e.crowd.policy === 'keep' ? 'kept as objects (--crowd keep)' : 'left out (--crowd ignore)'}`,
          );
        for (const p of e.problems) io.err(`skipped: ${p}`);
        break;
      case 'resume':
        io.err(`resuming after epoch ${e.epochsDone}`);
        break;
      case 'embed-progress':
        open('embed', 'embeddings').update(e.done, e.total, `(${e.hits} cached)`);
        break;
      case 'embed-done':
        close(`embeddings: ${e.total} images, ${e.computed} computed, ${e.hits} cached, ${e.seconds.toFixed(1)}s`);
        break;
      case 'targets-progress':
        open('targets', 'masks').update(e.done, e.total);
        if (e.done === e.total) close();
        break;
      case 'eval-progress':
        open(
          `eval${e.epoch}`,
          e.phase === 'zero-shot' ? 'zero-shot eval' : e.epoch > 0 ? `validate ${e.epoch}` : 'evaluate',
        ).update(e.done, e.total);
        break;
      case 'eval-done':
        close(
          `${e.phase === 'zero-shot' ? 'zero-shot' : e.epoch > 0 ? `epoch ${e.epoch} val` : 'eval'}: F1 ${pct(e.metrics.f1)} IoU ${pct(e.metrics.iou)} AP ${pct(e.metrics.ap)} loss ${pct(e.metrics.loss)} (${e.metrics.instances} instances, ${e.seconds.toFixed(1)}s)`,
        );
        break;
      case 'epoch-start':
        open(`epoch${e.epoch}`, `epoch ${e.epoch}/${e.epochs}`).update(0, e.steps);
        break;
      case 'step':
        open(`epoch${e.epoch}`, `epoch ${e.epoch}`).update(e.step, e.steps, `loss ${e.loss.toFixed(4)}`);
        break;
      case 'epoch-end':
        close();
        io.err(
          `epoch ${e.record.epoch}: train loss ${pct(e.record.trainLoss)}, val F1 ${pct(e.record.val.f1)}${e.record.best ? ' (best)' : ''}, ${e.record.trainSeconds.toFixed(1)}s + ${e.record.valSeconds.toFixed(1)}s${e.reason ? `; ${e.reason}` : ''}`,
        );
        break;
      case 'done':
        close();
        break;
    }
  };
}
