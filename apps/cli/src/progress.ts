/**
 * Progress bars on stderr: a redrawn bar with ETA on a TTY, a line every few seconds otherwise
 * (CI logs). Packages only report `(done, total)`; this file renders.
 */
import { formatDuration } from '@samtune/jobs';

export interface ProgressBar {
  update(done: number, total: number, detail?: string): void;
  done(summary?: string): void;
}

export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const start = Date.now();
  const tty = Boolean(stream.isTTY);
  let lastLine = 0;
  let lastText = '';
  const render = (done: number, total: number, detail?: string): string => {
    const elapsed = (Date.now() - start) / 1000;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    const width = 24;
    const fill = Math.round(frac * width);
    const bar = `${'#'.repeat(fill)}${'-'.repeat(width - fill)}`;
    return `${label} [${bar}] ${done}/${total} ${(frac * 100).toFixed(0)}% elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}${detail ? ` ${detail}` : ''}`;
  };
  return {
    update(done, total, detail) {
      lastText = render(done, total, detail);
      if (tty) {
        stream.write(`\r${lastText}\x1b[K`);
      } else if (Date.now() - lastLine > 5000 || done === total) {
        lastLine = Date.now();
        stream.write(`${lastText}\n`);
      }
    },
    done(summary) {
      if (tty) stream.write(`\r${summary ?? lastText}\x1b[K\n`);
      else if (summary) stream.write(`${summary}\n`);
    },
  };
}
