/** `samtune data inspect`: what a dataset folder holds, as samtune reads it, and what it had to skip. */
import { Type } from 'typebox';
import type { DatasetSummary, SkippedEntry } from '@samtune/datasets';
import { UsageError } from '../command.js';
import * as common from '../common-flags.js';
import { defineCommand, Flag } from '../flags.js';

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '),
  );
}

function report(summary: DatasetSummary, root: string, skipped: readonly SkippedEntry[]): string[] {
  const lines = [`format: ${summary.format}`, `root: ${root}`, '', 'subsets:'];
  const subsetRows = Object.entries(summary.subsets).map(([name, s]) => [
    name,
    String(s.images),
    String(s.instances),
    String(s.crowd),
    String(s.skipped),
  ]);
  lines.push(...table([['subset', 'images', 'instances', 'crowd', 'skipped'], ...subsetRows]).map((l) => `  ${l}`));
  lines.push('', 'instances per label:');
  lines.push(
    ...table([['label', 'instances'], ...Object.entries(summary.labels).map(([name, n]) => [name, String(n)])]).map(
      (l) => `  ${l}`,
    ),
  );
  lines.push('', `skipped: ${skipped.length}`);
  for (const s of skipped) lines.push(`  [${s.kind}, ${s.scope}] ${s.message}`);
  return lines;
}

export const dataInspectCommand = defineCommand({
  path: ['data', 'inspect'],
  summary: 'read a dataset folder and report its format, subsets, images, instances and skipped items',
  synopsis: `usage: samtune data inspect --data-root <dir|file.json> [flags]

exit code: 0 when nothing was skipped, 1 when something was skipped or --strict stopped, 2 for bad flags`,
  flags: Type.Object({
    'data-root': common.dataRoot,
    images: common.images,
    format: common.format,
    json: Flag.bool(
      'print {"format", "subsets": {name: {images, instances, crowd, skipped}}, "labels": {name: instances}} on stdout; skipped items go to stderr',
    ),
    strict: Flag.bool('stop at the first bad item or annotation (exit code 1) instead of skipping it'),
    'check-images': Flag.oneOf(
      ['header', 'decode'],
      'header: every image must exist and have a readable header of the annotated size; decode: also decode every image (finds truncated files, slower)',
      { default: 'header' },
    ),
  }),
  async run(f, io) {
    const { DatasetFormatError, listDatasetAdapters, loadDataset, summarizeDataset } =
      await import('@samtune/datasets');
    const root = f['data-root'];
    const names = ['auto', ...listDatasetAdapters().map((a) => a.name)];
    if (!names.includes(f.format)) throw new UsageError(`--format '${f.format}': expected one of ${names.join(', ')}`);
    const check = f['check-images'];
    let ds;
    try {
      ds = await loadDataset(root, {
        format: f.format,
        strict: f.strict,
        imageCheck: check,
        ...(f.images ? { images: f.images } : {}),
      });
    } catch (err) {
      if (err instanceof DatasetFormatError) throw new UsageError(`--data-root ${root}: ${err.message}`);
      throw err;
    }
    const summary = summarizeDataset(ds);
    if (f.json) {
      io.out(JSON.stringify({ format: summary.format, subsets: summary.subsets, labels: summary.labels }, null, 2));
      for (const s of ds.skipped) io.err(`skipped [${s.kind}, ${s.scope}] ${s.message}`);
    } else {
      for (const line of report(summary, ds.root, ds.skipped)) io.out(line);
    }
    return ds.skipped.length > 0 ? 1 : 0;
  },
});
