/** `samtune data inspect`: what a dataset folder holds, as samtune reads it, and what it had to skip. */
import {
  DatasetFormatError,
  listDatasetAdapters,
  loadDataset,
  summarizeDataset,
  type DatasetSummary,
  type SkippedEntry,
} from '@samtune/datasets';
import { parseFlags, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';

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
    String(s.skipped),
  ]);
  lines.push(...table([['subset', 'images', 'instances', 'skipped'], ...subsetRows]).map((l) => `  ${l}`));
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

export const dataInspectCommand: CliCommand = {
  path: ['data', 'inspect'],
  summary: 'read a dataset folder and report its format, subsets, images, instances and skipped items',
  usage: `usage: samtune data inspect --data-root <dir|file.json> [--images <dir>] [--format auto|coco|voc|css|datumaro|labelme|yolo|sa1b] [--json] [--strict] [--check-images header|decode]

  --data-root     the dataset folder, or a COCO instances .json file
  --images        image folder of a COCO .json --data-root (default: its folder)
  --format        auto (default: detected from the layout) or a format name
  --json          print {"format", "subsets": {name: {images, instances, skipped}}, "labels": {name: instances}}
                  on stdout; skipped items go to stderr
  --strict        stop at the first bad item or annotation (exit code 1) instead of skipping it
  --check-images  header (default: every image must exist and have a readable header of the
                  annotated size) or decode (also decode every image: finds truncated files, slower)

exit code: 0 when nothing was skipped, 1 when something was skipped or --strict stopped, 2 for bad flags`,
  async run(argv, io) {
    const f = parseFlags(argv, {
      'data-root': { type: 'string' },
      format: { type: 'string', default: 'auto' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'check-images': { type: 'string', default: 'header' },
      images: { type: 'string' },
    });
    const root = required(f['data-root'], 'data-root');
    const names = ['auto', ...listDatasetAdapters().map((a) => a.name)];
    if (!names.includes(f.format)) throw new UsageError(`--format '${f.format}': expected one of ${names.join(', ')}`);
    const check = f['check-images'];
    if (check !== 'header' && check !== 'decode')
      throw new UsageError(`--check-images '${check}': expected header or decode`);
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
};
